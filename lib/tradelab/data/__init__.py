"""Market data: embedded real OHLCV, user files, validation, temporal splits, stores."""
