"""tradelab.envs"""
