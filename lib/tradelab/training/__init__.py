"""tradelab.training"""
