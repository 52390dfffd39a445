"""Bar frequency inference and annualisation conventions.

Conventions (used by every Sharpe/Sortino/annualised figure in tradelab):

* ``daily``: bars on trading days (equities/indices) → 252 periods a year.
* ``hourly``: 24/7-style intraday FX/crypto bars → 24 × 252 = 6048 periods a year when the
  series trades ~24 h a day five days a week (FX), 24 × 365 when it trades at weekends too.
* ``minute``: same rule with 1440 bars a day.
* ``weekly``: 52; ``monthly``: 12.

The frequency comes from the median spacing of timestamps; the bars-per-day count for intraday
data is measured from the data (median bars per calendar day), so a session-based hourly series
(e.g. 7 bars a day) annualises with 7 × 252, not 24 × 252.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradelab.errors import DataError

__all__ = ["infer_frequency", "periods_per_year"]


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


def periods_per_year(index: pd.DatetimeIndex) -> float:
    """Bars per year for annualising returns and Sharpe ratios (see the module docstring)."""
    freq = infer_frequency(index)
    if freq == "daily":
        return 252.0
    if freq == "weekly":
        return 52.0
    if freq == "monthly":
        return 12.0
    days = pd.DatetimeIndex(index).normalize()
    bars_per_day = float(pd.Series(1, index=days).groupby(level=0).size().median())
    weekday_share = float(np.mean(pd.DatetimeIndex(index).dayofweek < 5))
    trading_days = 365.0 if weekday_share < 0.9 else 252.0
    return bars_per_day * trading_days
