"""tradelab.notebooks"""
