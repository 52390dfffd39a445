"""OHLCV schema checks shared by every loader and by `tradelab data check`.

Each failed check raises one :class:`~tradelab.errors.DataError` whose message names the
source (file or asset), the problem, the first offending row and the fix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradelab.errors import DataError

__all__ = ["OHLCV_COLUMNS", "PRICE_COLUMNS", "validate_ohlcv", "require_rows"]

OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")


def _where(frame: pd.DataFrame, mask: np.ndarray) -> tuple[int, str]:
    row = int(np.argmax(mask))
    return row, str(frame.index[row])


def _fail(source: str, problem: str, frame: pd.DataFrame, mask: np.ndarray, fix: str) -> None:
    row, stamp = _where(frame, mask)
    count = int(mask.sum())
    raise DataError(
        f"{source}: {problem} in {count} row(s), first at row {row} (timestamp {stamp}): "
        f"{frame.iloc[row].to_dict()}. Fix: {fix}"
    )


def _check_columns(frame: pd.DataFrame, source: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{source}: expected a pandas DataFrame, got {type(frame).__name__}.")
    if len(frame) == 0:
        raise DataError(f"{source}: the data is empty (0 rows). Fix: provide OHLCV rows.")
    missing = [c for c in OHLCV_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: missing column(s) {missing}; found {list(map(str, frame.columns))}; "
            f"needed {list(OHLCV_COLUMNS)}. Fix: load through tradelab.data.load_file, which maps names."
        )
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataError(
            f"{source}: the index is {type(frame.index).__name__}, not timestamps. "
            "Fix: index the frame by a UTC DatetimeIndex named 'timestamp'."
        )


def _check_index(frame: pd.DataFrame, source: str) -> None:
    ts = frame.index.asi8
    if len(ts) > 1:
        step = np.diff(ts)
        dup = np.concatenate([[False], step == 0])
        if dup.any():
            _fail(source, "duplicate timestamps", frame, dup, "drop the repeated rows (keep one bar per time).")
        back = np.concatenate([[False], step < 0])
        if back.any():
            _fail(source, "timestamps out of order", frame, back, "sort the rows by time, oldest first.")


def _check_values(frame: pd.DataFrame, source: str) -> None:
    values = frame[list(OHLCV_COLUMNS)].to_numpy(dtype="float64")
    bad = ~np.isfinite(values)
    if bad.any():
        col = OHLCV_COLUMNS[int(np.argmax(bad.any(axis=0)))]
        _fail(source, f"NaN or infinite values (e.g. column {col!r})", frame, bad.any(axis=1),
              "fill or drop those bars before loading (tradelab never fills prices for you).")
    o, h, low, c, v = values.T
    nonpos = (values[:, :4] <= 0).any(axis=1)
    if nonpos.any():
        _fail(source, "non-positive prices", frame, nonpos, "prices must be > 0; drop or correct those bars.")
    if (v < 0).any():
        _fail(source, "negative volume", frame, v < 0, "volume must be >= 0 (use 0 when unknown, e.g. FX).")
    if (h < low).any():
        _fail(source, "high < low", frame, h < low, "check the column order (open, high, low, close).")
    outside = (c > h) | (c < low) | (o > h) | (o < low)
    if outside.any():
        _fail(source, "open/close outside [low, high]", frame, outside,
              "correct those bars; high must be the bar's maximum and low its minimum.")


def _floats(col: pd.Series, name: str, source: str) -> np.ndarray:
    """A column as float64, or a DataError naming the first cell that is not a number."""
    try:
        return col.to_numpy(dtype="float64")
    except (ValueError, TypeError):
        values = pd.to_numeric(col, errors="coerce")
        bad = (values.isna() & col.notna()).to_numpy()
        row = int(np.argmax(bad)) if bad.any() else 0
        raise DataError(
            f"{source}: column {name!r} holds a non-numeric value {col.iloc[row]!r} at row {row} "
            f"(timestamp {col.index[row]}). Fix: numbers only in price/volume cells, or load the file through "
            "tradelab.data.load_file") from None


def validate_ohlcv(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check a frame against the canonical OHLCV schema; return it canonical (UTC, float64).

    Raises :class:`DataError` on: empty data, missing columns, a non-date index, duplicate or
    unsorted timestamps, NaN/inf, non-positive prices, negative volume, high < low, or
    open/close outside [low, high].
    """
    _check_columns(df, source)
    index = df.index.tz_localize("UTC") if df.index.tz is None else df.index.tz_convert("UTC")
    frame = pd.DataFrame(
        {c: _floats(df[c], c, source) for c in OHLCV_COLUMNS},
        index=pd.DatetimeIndex(index, name="timestamp").as_unit("ns"),
    )
    _check_index(frame, source)
    _check_values(frame, source)
    return frame


def require_rows(n_rows: int, needed: int, source: str, why: str) -> None:
    """Raise a :class:`DataError` when ``n_rows < needed``, saying what the rows were for."""
    if n_rows < needed:
        raise DataError(
            f"{source}: too few rows: {n_rows} available, {needed} needed for {why}. "
            "Fix: use a longer history, fewer/larger split fractions, or a shorter label horizon."
        )
