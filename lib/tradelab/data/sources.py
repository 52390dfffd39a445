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
    """The CSV that ``backtesting.test`` ships, read without importing ``backtesting``.

    Importing it turns on Bokeh's notebook output in Jupyter ("Loading BokehJS ...") as a side effect.
    """

    def load() -> pd.DataFrame:
        import importlib.util

        spec = importlib.util.find_spec("backtesting")  # locates the package without importing it
        if spec is None or spec.origin is None:
            raise DataError(f"embedded asset {name} needs the `backtesting` package. Fix: pip install -r requirements.txt")
        path = Path(spec.origin).parent / "test" / f"{name}.csv"
        if not path.is_file():
            raise DataError(f"{path} not found: the installed `backtesting` does not ship {name}. "
                            "Fix: install the version pinned in requirements.txt")
        return pd.read_csv(path, index_col=0, parse_dates=True)

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


#: Bars outside these years are almost surely a wrong column or format (dates) ...
PLAUSIBLE_YEARS = (1800, 2100)
#: ... or a wrong unit / not an epoch at all (numbers: 0..1e9 seconds read as ms land in 1970).
PLAUSIBLE_EPOCH_YEARS = (1980, 2100)


def _warn_suspicious_times(values: pd.Series | pd.Index, index: pd.DatetimeIndex, source: str) -> None:
    """Warn (legal but suspicious input): mixed UTC offsets, dates outside 1970-2100."""
    import warnings

    if not isinstance(values, pd.DatetimeIndex) and not pd.api.types.is_numeric_dtype(values):
        text = pd.Series(values).dropna().astype(str)
        found = text.str.extract(r"([+-])(\d{2}):?(\d{2})$").dropna()
        if len(found):
            minutes = (found[1].astype(int) * 60 + found[2].astype(int)) * found[0].map({"+": 1, "-": -1})
            kinds, changes = sorted(set(minutes)), int((minutes.diff().fillna(0) != 0).sum())
            years = max(len(index) and (index.max() - index.min()).days / 365.25, 1.0)
            # Daylight saving time: two offsets one hour apart, switching about twice a year, is normal.
            dst = len(kinds) == 2 and kinds[1] - kinds[0] == 60 and changes <= 2 * years + 2
            if len(kinds) > 1 and not dst:
                warnings.warn(f"{source}: timestamps carry mixed UTC offsets (minutes {kinds[:5]}, {changes} "
                              "changes), not a daylight-saving pattern; all were converted to UTC. Check that the "
                              "file is one series in one time zone", stacklevel=3)
    if len(index):
        numeric = not isinstance(values, pd.DatetimeIndex) and pd.api.types.is_numeric_dtype(values)
        lo, hi = PLAUSIBLE_EPOCH_YEARS if numeric else PLAUSIBLE_YEARS
        if index.year.min() < lo or index.year.max() > hi:
            what = "epoch numbers in another unit (s/ms/us/ns) or not timestamps at all" if numeric \
                else "a wrong date column or format"
            warnings.warn(f"{source}: timestamps run from {index.min()} to {index.max()}, outside {lo}-{hi}: "
                          f"{what}?", stacklevel=3)


def _to_utc_index(values: pd.Series | pd.Index, source: str) -> pd.DatetimeIndex:
    try:
        if not isinstance(values, pd.DatetimeIndex) and pd.api.types.is_numeric_dtype(values):
            index = pd.DatetimeIndex(pd.to_datetime(values, unit=_epoch_unit(values), utc=True))
        else:
            index = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
        raise DataError(
            f"{source}: the timestamp column cannot be parsed as dates ({exc}). "
            "Fix: use ISO dates such as 2020-01-31 or 2020-01-31 14:00:00 (or Unix epoch numbers)."
        ) from exc
    _warn_suspicious_times(values, index, source)
    return index.rename("timestamp")


def canonicalize(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Map any OHLCV layout (case-insensitive names, date column or index) to the canonical frame."""
    if raw is None or len(raw) == 0:
        raise DataError(f"{source}: the data is empty (0 rows). Fix: point at a file with OHLCV rows.")
    if isinstance(raw.columns, pd.MultiIndex):
        raise DataError(f"{source}: the columns are a MultiIndex {list(raw.columns[:4])}... (e.g. a multi-ticker "
                        "yfinance download). Fix: select one ticker, e.g. df.xs('SPY', axis=1, level=1), and "
                        "save that frame")
    if isinstance(raw.index, pd.MultiIndex):
        raise DataError(f"{source}: the rows have a MultiIndex with levels {list(raw.index.names)} (one asset "
                        "per level value?). Fix: save one asset per file, e.g. df.xs('SPY', level='ticker'), "
                        "with a single date index or a Date column")
    columns = [str(c) for c in raw.columns]
    raw = raw.set_axis(columns, axis=1)
    mapping = {c: _find_column(columns, c) for c in OHLCV_COLUMNS}
    missing = [c for c, found in mapping.items() if found is None]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {missing}; found columns {columns}; needed (any case) "
            f"{list(OHLCV_COLUMNS)} plus a date column (Date/Datetime/Timestamp) or a date index. "
            + _layout_hint(columns) + "Fix: rename the columns (volume may be all zeros for FX)."
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


def _layout_hint(columns: list[str]) -> str:
    """What a one-column header says about the file's delimiter, for the missing-column message."""
    if len(columns) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if sep in columns[0]:
                return f"The header is one column that contains {name}: the file is {name}-separated. "
    return ""


def _numeric(col: pd.Series, name: str, source: str) -> pd.Series:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64")
    bad = pd.isna(values) & col.notna().to_numpy()
    if bad.any():
        row = int(bad.argmax())
        comma = bool(col.astype(str).str.fullmatch(r"-?\d+,\d+").mean() > 0.5) if not pd.api.types.is_numeric_dtype(col) else False
        hint = (" The values use a comma as decimal mark (e.g. '1,23'): it is a European-style CSV; "
                "tradelab reads it when the fields are ';'-separated, or re-export with '.' decimals."
                if comma else " Fix: clean that cell (numbers only, '.' as decimal point).")
        raise DataError(f"{source}: column {name!r} holds a non-numeric value {col.iloc[row]!r} at row {row}.{hint}")
    return pd.Series(values, name=name).set_axis(range(len(values)))


def sniff_csv(path: Path) -> tuple[str, str]:
    """(delimiter, decimal mark) of a CSV from its first lines: ``,``/``;``/tab/``|`` and ``.``/``,``."""
    import csv
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        head = "".join(fh.readline() for _ in range(20))
    try:
        sep = csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    decimal = "."
    if sep != ",":
        import re

        body = head.splitlines()[1:]
        cells = [c for line in body for c in line.split(sep)]
        if cells and sum(bool(re.fullmatch(r"\s*-?\d+,\d+\s*", c)) for c in cells) > len(cells) / 4:
            decimal = ","
    return sep, decimal


def _read_csv(path: Path) -> pd.DataFrame:
    sep, decimal = sniff_csv(path)
    if (sep, decimal) != (",", "."):
        print(f"note: {path.name} is {'semicolon' if sep == ';' else repr(sep)}-separated"
              + (" with ',' decimals" if decimal == "," else "") + "; reading it as such")
    return pd.read_csv(path, sep=sep, decimal=decimal)


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
            raw = _read_csv(path)
        else:
            raise DataError(f"{label}: unsupported file type {suffix!r}. Fix: use .csv or .parquet.")
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow parser errors: name the file, not the parser internals
        raise DataError(f"{label}: cannot be read as {suffix[1:]} ({type(exc).__name__}: {exc}).") from exc
    return canonicalize(raw, label)
