"""Where OHLCV comes from: embedded real data, user CSV/parquet files, optionally yfinance.

Every loader returns the canonical frame (see :func:`tradelab.data.validate.validate_ohlcv`):
UTC ``DatetimeIndex`` named ``timestamp``, float64 columns ``open high low close volume``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tradelab.data.validate import OHLCV_COLUMNS, validate_ohlcv
from tradelab.errors import DataError

__all__ = ["EMBEDDED_ASSETS", "EmbeddedAsset", "asset_source", "load_asset", "load_file", "canonicalize", "COLUMN_ALIASES"]

#: lower-case column name in a user file → canonical name (first match wins, in this order).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "date", "datetime", "time", "gmt time", "local time", "index", "unnamed: 0"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "price", "last"),
    "volume": ("volume", "vol", "v", "tick volume", "tick_volume"),
}


def _backtesting(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import backtesting.test as bt

        return getattr(bt, name).copy()

    return load


def _arch(module: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import importlib

        return importlib.import_module(f"arch.data.{module}").load()

    return load


@dataclass(frozen=True)
class EmbeddedAsset:
    """A real OHLCV series that ships inside an installed PyPI package (no network needed)."""

    name: str
    """registry key, upper case"""
    frequency: str
    """bar frequency: "daily" or "hourly\""""
    source: str
    """where the data comes from (package.module:object)"""
    description: str
    """one line for `tradelab data list`"""
    loader: Callable[[], pd.DataFrame]
    """returns the raw frame as shipped"""


EMBEDDED_ASSETS: dict[str, EmbeddedAsset] = {
    "GOOG": EmbeddedAsset("GOOG", "daily", "backtesting.test:GOOG", "Alphabet daily 2004-2013", _backtesting("GOOG")),
    "EURUSD": EmbeddedAsset(
        "EURUSD", "hourly", "backtesting.test:EURUSD", "EUR/USD hourly 2017-2018", _backtesting("EURUSD")
    ),
    "SPX": EmbeddedAsset("SPX", "daily", "arch.data.sp500", "S&P 500 index daily 1999-2018", _arch("sp500")),
    "NDX": EmbeddedAsset("NDX", "daily", "arch.data.nasdaq", "NASDAQ Composite daily 1999-2018", _arch("nasdaq")),
}


def asset_source(name: str) -> str:
    """Where an embedded or planted asset's bars come from (for metadata and reports)."""
    from tradelab.data.synthetic import parse_planted_name

    key = str(name).strip().upper()
    planted = parse_planted_name(key)
    if planted:
        return f"synthetic planted market {planted[0]} seed {planted[1]} (test fixture, not real data)"
    return EMBEDDED_ASSETS[key].source if key in EMBEDDED_ASSETS else key


def load_asset(name: str) -> pd.DataFrame:
    """Load an embedded asset by name (case-insensitive) as a validated canonical frame.

    ``PLANTED_<KIND>[_S<seed>]`` loads a planted-signal market (:mod:`tradelab.data.synthetic`):
    benchmark and test input only, never a real-data result.
    """
    from tradelab.data.synthetic import parse_planted_name, planted_market

    key = str(name).strip().upper()
    planted = parse_planted_name(key)
    if planted:
        return canonicalize(planted_market(*planted).ohlcv, source=f"planted asset {key}")
    if key not in EMBEDDED_ASSETS:
        raise DataError(
            f"unknown asset {name!r}: the embedded assets are {sorted(EMBEDDED_ASSETS)}. "
            "Fix: pick one of those (or a planted benchmark market PLANTED_MOMENTUM, PLANTED_MEAN_REVERSION, "
            "PLANTED_NONLINEAR, PLANTED_NULL, optionally with _S<seed>), or load your own file with --csv PATH --asset NAME."
        )
    asset = EMBEDDED_ASSETS[key]
    return canonicalize(asset.loader(), source=f"embedded asset {key} ({asset.source})")


def _find_column(columns: list[str], canonical: str) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    for alias in COLUMN_ALIASES[canonical]:
        if alias in lower:
            return lower[alias]
    if canonical == "close" and "adj close" in lower:  # only when there is no plain Close
        return lower["adj close"]
    return None


def _epoch_unit(values: pd.Series | pd.Index) -> str:
    """Unit of numeric epoch timestamps, from their magnitude (2001-2286 in s/ms/us/ns)."""
    first = abs(float(values[0] if isinstance(values, pd.Index) else values.iloc[0]))
    return "ns" if first > 1e17 else "us" if first > 1e14 else "ms" if first > 1e11 else "s"


def _to_utc_index(values: pd.Series | pd.Index, source: str) -> pd.DatetimeIndex:
    try:
        if not isinstance(values, pd.DatetimeIndex) and pd.api.types.is_numeric_dtype(values):
            index = pd.DatetimeIndex(pd.to_datetime(values, unit=_epoch_unit(values), utc=True))
        else:
            index = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(
            f"{source}: the timestamp column cannot be parsed as dates ({exc}). "
            "Fix: use ISO dates such as 2020-01-31 or 2020-01-31 14:00:00 (or Unix epoch numbers)."
        ) from exc
    return index.rename("timestamp")


def canonicalize(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Map any OHLCV layout (case-insensitive names, date column or index) to the canonical frame."""
    if raw is None or len(raw) == 0:
        raise DataError(f"{source}: the data is empty (0 rows). Fix: point at a file with OHLCV rows.")
    columns = [str(c) for c in raw.columns]
    raw = raw.set_axis(columns, axis=1)
    mapping = {c: _find_column(columns, c) for c in OHLCV_COLUMNS}
    missing = [c for c, found in mapping.items() if found is None]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {missing}; found columns {columns}; needed (any case) "
            f"{list(OHLCV_COLUMNS)} plus a date column (Date/Datetime/Timestamp) or a date index. "
            "Fix: rename the columns (volume may be all zeros for FX)."
        )
    ts_col = _find_column(columns, "timestamp")
    if ts_col is not None:
        index = _to_utc_index(raw[ts_col], source)
    elif isinstance(raw.index, pd.DatetimeIndex):
        index = _to_utc_index(raw.index, source)
    else:
        raise DataError(
            f"{source}: no date column found among {columns} and the index is not dates. "
            "Fix: add a 'Date' or 'Timestamp' column."
        )
    frame = pd.DataFrame({c: _numeric(raw[mapping[c]], c, source) for c in OHLCV_COLUMNS})
    frame.index = index
    return validate_ohlcv(frame, source)


def _numeric(col: pd.Series, name: str, source: str) -> pd.Series:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64")
    bad = pd.isna(values) & col.notna().to_numpy()
    if bad.any():
        row = int(bad.argmax())
        raise DataError(
            f"{source}: column {name!r} holds a non-numeric value {col.iloc[row]!r} at row {row}. "
            "Fix: clean that cell (numbers only, '.' as decimal point)."
        )
    return pd.Series(values, name=name).set_axis(range(len(values)))


def load_file(path: str | Path, asset: str | None = None) -> pd.DataFrame:
    """Read a user CSV or parquet file (e.g. a Yahoo export) into a validated canonical frame."""
    path = Path(path)
    label = f"file {path}" + (f" (asset {asset})" if asset else "")
    if not path.is_file():
        raise DataError(f"{label}: file not found. Fix: check the path (cwd is {Path.cwd()}).")
    if path.stat().st_size == 0:
        raise DataError(f"{label}: the file is empty (0 bytes). Fix: re-export the data.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            raw = pd.read_parquet(path)
            if isinstance(raw.index, pd.DatetimeIndex):
                raw = raw.reset_index(names="timestamp" if raw.index.name is None else raw.index.name)
        elif suffix in (".csv", ".txt", ".gz"):
            raw = pd.read_csv(path)
        else:
            raise DataError(f"{label}: unsupported file type {suffix!r}. Fix: use .csv or .parquet.")
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow parser errors: name the file, not the parser internals
        raise DataError(f"{label}: cannot be read as {suffix[1:]} ({type(exc).__name__}: {exc}).") from exc
    return canonicalize(raw, label)
