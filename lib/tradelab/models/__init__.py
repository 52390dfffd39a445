"""tradelab.models"""
