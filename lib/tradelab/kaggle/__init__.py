"""tradelab.kaggle"""
