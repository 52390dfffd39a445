"""Bar frequency inference and annualisation from measured bars per year.

Conventions (used by every Sharpe/Sortino/annualised figure and by rewards that annualise):

* ``daily``: 252 periods a year for weekday-only bars (equities/indices: the literature's
  convention; the embedded daily assets measure 251.6–251.8), 365 when bars fall on weekends (crypto).
* intraday (``hourly``, ``minute``): **measured**. Bars per year = mean bars per complete calendar
  week × 365.25 / 7 (the first and last, partial weeks are left out). EURUSD hourly measures
  ≈ 6,200 (about 23.7 bars per weekday, 261 weekdays, plus the Sunday-evening open), not the
  24 × 252 = 6,048 assumed before, which understated its Sharpe by ~1.3 %. Holiday weeks count as
  they happened. Series shorter than :data:`MIN_FULL_WEEKS` complete weeks fall back to median bars
  per active day × active weekdays (5, or 7 when weekends trade) × 365.25 / 7.
* ``weekly``: 52; ``monthly``: 12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradelab.errors import DataError

__all__ = ["infer_frequency", "periods_per_year", "measured_bars_per_year", "WEEKS_PER_YEAR", "MIN_FULL_WEEKS"]

#: Calendar weeks in an average year.
WEEKS_PER_YEAR = 365.25 / 7
#: Complete weeks needed to measure the intraday bar rate (fewer: per-day fallback).
MIN_FULL_WEEKS = 2


def infer_frequency(index: pd.DatetimeIndex) -> str:
    """``"minute" | "hourly" | "daily" | "weekly" | "monthly"`` from the median bar spacing."""
    if len(index) < 3:
        raise DataError(f"need at least 3 timestamps to infer the bar frequency, got {len(index)}")
    step = pd.Series(index).diff().dropna().median()
    hours = step / pd.Timedelta(hours=1)
    if hours < 0.5:
        return "minute"
    if hours < 12:
        return "hourly"
    if hours < 24 * 4:
        return "daily"
    if hours < 24 * 20:
        return "weekly"
    return "monthly"


def _naive(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    ix = pd.DatetimeIndex(index)
    return ix.tz_convert("UTC").tz_localize(None) if ix.tz is not None else ix


def measured_bars_per_year(index: pd.DatetimeIndex) -> float | None:
    """Mean bars per complete calendar week × 365.25 / 7; None with fewer than MIN_FULL_WEEKS full weeks."""
    weeks = _naive(index).to_period("W-SUN")
    counts = pd.Series(1, index=weeks).groupby(level=0).size()
    inner = counts.iloc[1:-1]  # the first and last weeks are partial
    if len(inner) < MIN_FULL_WEEKS:
        return None
    return float(inner.mean()) * WEEKS_PER_YEAR


def periods_per_year(index: pd.DatetimeIndex) -> float:
    """Bars per year for annualising returns and Sharpe ratios (see the module docstring)."""
    freq = infer_frequency(index)
    weekends = float(np.mean(_naive(index).day_of_week >= 5)) > 0.1  # FX's Sunday-evening bars (~2 %) do not count
    if freq == "daily":
        return 365.0 if weekends else 252.0
    if freq == "weekly":
        return 52.0
    if freq == "monthly":
        return 12.0
    measured = measured_bars_per_year(index)
    if measured is not None:
        return measured
    days = _naive(index).normalize()
    bars_per_day = float(pd.Series(1, index=days).groupby(level=0).size().median())
    return bars_per_day * (7.0 if weekends else 5.0) * WEEKS_PER_YEAR
