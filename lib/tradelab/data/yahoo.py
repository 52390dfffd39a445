"""Optional yfinance loader for users with internet access.

Never imported by the demo, the notebooks' defaults or the tests; ``yfinance`` is not in
requirements.txt (``pip install yfinance`` to use it).
"""

from __future__ import annotations

import pandas as pd

from tradelab.data.sources import canonicalize
from tradelab.errors import DataError

__all__ = ["load_yfinance"]


def load_yfinance(ticker: str, start: str | None = None, end: str | None = None, interval: str = "1d") -> pd.DataFrame:
    """Download ``ticker`` from Yahoo Finance and return the validated canonical frame."""
    try:
        import yfinance as yf
    except ImportError as exc:
        raise DataError("the yfinance loader needs the yfinance package. Fix: pip install yfinance") from exc
    try:
        raw = yf.download(ticker, start=start, end=end, interval=interval, auto_adjust=False, progress=False)
    except Exception as exc:  # network errors surface as many types
        raise DataError(f"yfinance {ticker}: download failed ({exc}). Fix: check the ticker and your connection.") from exc
    if isinstance(raw.columns, pd.MultiIndex):  # one ticker → drop the ticker level
        raw.columns = raw.columns.get_level_values(0)
    return canonicalize(raw, source=f"yfinance {ticker} {interval}")
