"""tradelab.features"""
