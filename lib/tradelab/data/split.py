"""Temporal train/val/test splits with a purge gap between the parts.

The gap (default: label horizon + feature warm-up bars) is dropped between train and val and
between val and test, so no label of an earlier part looks into a later part and no feature
window of a later part starts inside an earlier part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradelab.data.validate import require_rows
from tradelab.errors import ConfigError, DataError

__all__ = ["SplitResult", "temporal_split", "default_purge_gap", "SPLITS", "MIN_SPLIT_ROWS"]

SPLITS: tuple[str, ...] = ("train", "val", "test")
#: fewest rows any split may have
MIN_SPLIT_ROWS = 50


def default_purge_gap(horizon: int = 5) -> int:
    """Label horizon + feature warm-up (``tradelab.features.WARMUP_BARS``)."""
    from tradelab.features.technical import WARMUP_BARS

    return int(horizon) + WARMUP_BARS


@dataclass(frozen=True)
class SplitResult:
    """The three parts of a temporal split and where they start and end."""

    train: pd.DataFrame
    """oldest rows"""
    val: pd.DataFrame
    """middle rows (model selection, early stopping)"""
    test: pd.DataFrame
    """newest rows, touched once at the end"""
    boundaries: dict[str, str]
    """ISO timestamps: train_start, train_end, val_start, val_end, test_start, test_end"""
    purge_gap: int
    """bars dropped between consecutive parts"""

    def parts(self) -> dict[str, pd.DataFrame]:
        return {"train": self.train, "val": self.val, "test": self.test}


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    fr = tuple(float(f) for f in fractions)
    if len(fr) != 3 or min(fr) <= 0 or abs(sum(fr) - 1.0) > 1e-6:
        raise ConfigError(f"split fractions must be three positive numbers summing to 1, got {list(fractions)}")
    return fr  # type: ignore[return-value]


def _positions_by_fraction(n: int, fr: tuple[float, float, float], gap: int) -> list[tuple[int, int]]:
    usable = n - 2 * gap
    n_train, n_val = int(usable * fr[0]), int(usable * fr[1])
    a = n_train
    b = a + gap + n_val
    return [(0, a), (a + gap, b), (b + gap, n)]


def _positions_by_dates(index: pd.DatetimeIndex, dates: Sequence[str], gap: int, source: str) -> list[tuple[int, int]]:
    if len(dates) != 2:
        raise ConfigError(f"split dates must be (val_start, test_start), got {list(dates)}")
    stamps = []
    for d in dates:
        try:
            stamp = pd.Timestamp(d)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"split date {d!r} is not a date ({exc}); use ISO dates, e.g. --dates 2016-01-01 "
                              "2018-01-01 (val_start test_start)") from exc
        if pd.isna(stamp):
            raise ConfigError(f"split date {d!r} is not a date; use ISO dates such as 2016-01-01")
        stamps.append(stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp)
    if stamps[0] >= stamps[1]:
        raise ConfigError(f"split dates: val_start {dates[0]} must be before test_start {dates[1]}")
    ns = index.as_unit("ns").asi8
    v, t = (int(np.searchsorted(ns, s.value)) for s in stamps)
    if v == 0 or t >= len(index):
        raise DataError(
            f"{source}: split dates {list(dates)} fall outside the data ({index[0]} .. {index[-1]}). "
            "Fix: pick dates inside that range."
        )
    return [(0, max(v - gap, 0)), (v, max(t - gap, v)), (t, len(index))]


def temporal_split(
    df: pd.DataFrame,
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    purge_gap: int | None = None,
    dates: Sequence[str] | None = None,
    *,
    horizon: int = 5,
    min_rows: int = MIN_SPLIT_ROWS,
    source: str = "data",
) -> SplitResult:
    """Split rows in time order by ``fractions`` (of the rows left after the gaps) or by
    ``dates`` = (val_start, test_start); ``purge_gap`` defaults to horizon + WARMUP_BARS and
    may not be smaller. Too few rows for any part → :class:`DataError`."""
    minimum = default_purge_gap(horizon)
    gap = minimum if purge_gap is None else int(purge_gap)
    if gap < minimum:
        raise ConfigError(
            f"purge_gap={gap} is below label horizon + feature warm-up = {horizon} + {minimum - horizon} = {minimum}. "
            "Fix: leave purge_gap unset or raise it."
        )
    fr = _check_fractions(fractions)
    require_rows(len(df), 2 * gap + 3 * min_rows, source, f"three splits of >= {min_rows} rows and two purge gaps of {gap}")
    if dates is None:
        positions = _positions_by_fraction(len(df), fr, gap)
    else:
        positions = _positions_by_dates(pd.DatetimeIndex(df.index), dates, gap, source)
    parts = [df.iloc[a:b] for a, b in positions]
    for name, part in zip(SPLITS, parts):
        require_rows(len(part), min_rows, f"{source} ({name} split)", f"the {name} split (fractions {list(fr)}, dates {dates})")
    bounds: dict[str, str] = {}
    for name, part in zip(SPLITS, parts):
        bounds[f"{name}_start"] = part.index[0].isoformat()
        bounds[f"{name}_end"] = part.index[-1].isoformat()
    return SplitResult(parts[0], parts[1], parts[2], bounds, gap)
