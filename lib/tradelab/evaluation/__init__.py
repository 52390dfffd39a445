"""tradelab.evaluation"""
