"""Optional yfinance loader for users with internet access.

Never imported by the demo, the notebooks' defaults or the tests' network-free paths; ``yfinance`` is
not in requirements.txt (``pip install yfinance`` to use it). Without it, or without a connection,
every entry point raises one :class:`DataError` that says how to use local files instead (``--csv``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tradelab.data.sources import canonicalize
from tradelab.errors import DataError

__all__ = ["load_yfinance", "download_tickers", "YF_CACHE_DIR", "OFFLINE_HINT"]

#: Where downloaded tickers are cached as CSV (git-ignored data folder).
YF_CACHE_DIR = Path("data/raw/yfinance")
OFFLINE_HINT = ("use local files instead: `tradelab data build --csv PATH --asset NAME` (one --csv per file), "
                "or list CSV/parquet paths in data.assets")


def load_yfinance(ticker: str, start: str | None = None, end: str | None = None, interval: str = "1d",
                  period: str | None = None) -> pd.DataFrame:
    """Download ``ticker`` from Yahoo Finance (``start``/``end`` or ``period`` such as '10y') as the canonical frame."""
    try:
        import yfinance as yf
    except ImportError as exc:
        raise DataError(f"yfinance {ticker}: the yfinance package is not installed (pip install yfinance), "
                        f"or {OFFLINE_HINT}") from exc
    span = {"period": period} if period else {"start": start, "end": end}
    try:
        raw = yf.download(ticker, interval=interval, auto_adjust=False, progress=False, **span)
    except Exception as exc:  # network errors surface as many types
        raise DataError(f"yfinance {ticker}: download failed ({type(exc).__name__}: {exc}). Check the ticker and "
                        f"your connection, or {OFFLINE_HINT}") from exc
    if raw is None or len(raw) == 0:  # yfinance reports most failures (offline, bad ticker) as an empty frame
        raise DataError(f"yfinance {ticker} ({period or start}, {interval}): no rows came back (no network, an "
                        f"unknown ticker, or an interval Yahoo does not keep that long); {OFFLINE_HINT}")
    if isinstance(raw.columns, pd.MultiIndex):  # one ticker → drop the ticker level
        raw.columns = raw.columns.get_level_values(0)
    frame = canonicalize(raw, source=f"yfinance {ticker} {interval}")
    frame.attrs["asset"] = ticker
    return frame


def download_tickers(tickers: list[str], period: str, interval: str, cache_dir: str | Path = YF_CACHE_DIR) -> list[str]:
    """Download each ticker once into ``cache_dir/{ticker}_{period}_{interval}.csv``; the CSV paths, in order."""
    from tradelab.utils import atomic_write_text

    paths = []
    for ticker in tickers:
        path = Path(cache_dir) / f"{ticker}_{period}_{interval}.csv"
        if not path.is_file():
            frame = load_yfinance(ticker, interval=interval, period=period)
            atomic_write_text(path, frame.to_csv(index_label="timestamp"))
        paths.append(str(path))
    return paths
