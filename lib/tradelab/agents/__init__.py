"""tradelab.agents"""
