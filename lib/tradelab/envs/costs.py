"""Transaction costs of the V4 model: small pure functions, each with its units.

The term functions work on Python floats and on numpy arrays alike; :func:`order_costs`, their sum
for one order, is the specification the account transition (:mod:`tradelab.envs.core`) charges.
Notional is always ``|shares traded| × fill price`` in account currency; all results are in
account currency, before ``cost_multiplier``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradelab.envs.config import CostConfig

__all__ = [
    "spread_cost",
    "slippage_cost",
    "sec_fee",
    "finra_taf",
    "commission",
    "market_impact",
    "inverse_dollar_volume",
    "wilder_atr",
    "CostParams",
    "order_costs",
    "PDT_WINDOW_DAYS",
    "volume_is_notional",
    "impact_applies",
    "MIN_NOTIONAL_DOLLAR_VOLUME",
]

#: Trading days in the pattern-day-trading rolling window.
PDT_WINDOW_DAYS = 5
#: Median close × volume per bar below which volume is read as a tick count, not traded notional. Exchange
#: volumes of the embedded daily assets are ≥ $5·10⁸ a bar; EURUSD's tick counts give ~$1.5·10³.
MIN_NOTIONAL_DOLLAR_VOLUME = 1e6
_CURRENCIES = {"USD", "EUR", "JPY", "GBP", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK", "DKK", "HKD", "SGD", "CNH",
               "CNY", "MXN", "ZAR", "TRY", "PLN", "HUF", "CZK", "XAU", "XAG"}


def volume_is_notional(frame: Any, name: str | None = None) -> tuple[bool, str]:
    """Whether ``frame['volume']`` counts traded shares/contracts (square-root impact applies), with the reason.

    In this order: the source's flag ``frame.attrs['volume_is_notional']``; an FX pair name (``name`` or
    ``frame.attrs['asset']``, e.g. EURUSD: FX volumes are tick counts); a median dollar volume per bar
    below :data:`MIN_NOTIONAL_DOLLAR_VOLUME` (tick counts); no volume at all. Otherwise notional.
    """
    attrs = getattr(frame, "attrs", {}) or {}
    if "volume_is_notional" in attrs:
        flag = bool(attrs["volume_is_notional"])
        return flag, f"source says volume_is_notional={flag}"
    label = str(name or attrs.get("asset") or "").upper().replace("/", "").replace("=X", "")
    if len(label) == 6 and label[:3] in _CURRENCIES and label[3:] in _CURRENCIES:
        return False, f"{label} is an FX pair (volume is a tick count)"
    volume = np.asarray(frame["volume"], dtype=np.float64)
    if not (volume > 0).any():
        return False, "no volume data"
    dollar = float(np.median(np.asarray(frame["close"], dtype=np.float64) * volume))
    if dollar < MIN_NOTIONAL_DOLLAR_VOLUME:
        return False, f"median close x volume {dollar:.3g} per bar < {MIN_NOTIONAL_DOLLAR_VOLUME:.0e}: tick counts"
    return True, f"exchange volume (median {dollar:.3g} per bar)"


def impact_applies(mode: str, frame: Any, name: str | None = None) -> tuple[bool, str]:
    """Impact charged on this asset under ``costs.impact`` = auto | on | off, and why."""
    if mode == "off":
        return False, "costs.impact = off"
    if mode == "on":
        return True, "costs.impact = on"
    notional, why = volume_is_notional(frame, name)
    return notional, f"auto: {why}"


def spread_cost(notional: Any, spread_bps: float) -> Any:
    """Half the full bid/ask spread on each fill: ``notional × spread_bps / 2 / 10_000`` ($)."""
    return notional * (spread_bps * 0.5e-4)


def slippage_cost(notional: Any, atr_over_price: Any, coef: float) -> Any:
    """Dynamic slippage ``coef × (ATR/price) × notional`` ($); ATR/price is a fraction (0.012 = 1.2 %)."""
    return notional * atr_over_price * coef


def sec_fee(sell_notional: Any, rate: float) -> Any:
    """SEC Section 31 fee on SELL notional only: ``rate × sell_notional`` ($; rate 0.0000221 = 0.00221 %)."""
    return sell_notional * rate


def finra_taf(sell_notional: Any, shares_sold: Any, mode: str, rate: float, per_share: float, cap: float,
              minimum: Callable = np.minimum) -> Any:
    """FINRA Trading Activity Fee on sells ($).

    ``"notional"``: ``rate × sell_notional`` (V3 default 0.0145 %). ``"per_share"``:
    ``min(per_share × shares_sold, cap)`` per order (e.g. $0.000166/share capped at $8.30).
    """
    if mode == "per_share":
        return minimum(shares_sold * per_share, cap)
    return sell_notional * rate


def commission(notional: Any, rate: float) -> Any:
    """Broker commission ``rate × notional`` ($), both sides."""
    return notional * rate


def market_impact(notional: Any, inv_dollar_volume: Any, coef: float, cap: float = 0.005,
                  sqrt: Callable = np.sqrt, minimum: Callable = np.minimum) -> Any:
    """Square-root-law impact ``notional × min(coef × sqrt(notional / dollar_volume), cap)`` ($).

    ``inv_dollar_volume`` is ``1 / (close × volume)`` of the decision bar, or 0 when the bar has
    no volume (FX): then the participation is unknown and the impact term is 0, never a division
    by zero. See :func:`inverse_dollar_volume`. ``cap`` bounds the impact fraction of notional.
    """
    return notional * minimum(sqrt(notional * inv_dollar_volume) * coef, cap)


def inverse_dollar_volume(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """``1 / (close × volume)`` per bar, 0 where volume is 0 (no volume data → no impact)."""
    dollar_volume = np.asarray(close, dtype=np.float64) * np.asarray(volume, dtype=np.float64)
    out = np.zeros_like(dollar_volume)
    np.divide(1.0, dollar_volume, out=out, where=dollar_volume > 0)
    return out


def wilder_atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 14) -> np.ndarray:
    """Causal Wilder ATR (price units): true range smoothed with alpha = 1/window, from bar 0.

    The first bar's true range is high − low; no value uses a later bar.
    """
    high, low, close = (np.asarray(x, dtype=np.float64) for x in (high, low, close))
    prev_close = np.concatenate([close[:1], close[:-1]])
    tr = np.maximum(high - low, np.maximum(np.abs(high - prev_close), np.abs(low - prev_close)))
    tr[0] = high[0] - low[0]
    alpha = 1.0 / window
    out = np.empty_like(tr)
    acc = tr[0]
    for i, value in enumerate(tr):  # once per dataset in __init__, never in step()
        acc = acc + alpha * (value - acc) if i else value
        out[i] = acc
    return out


@dataclass(frozen=True)
class CostParams:
    """Flattened cost settings with ``cost_multiplier`` applied (read in the hot path)."""

    half_spread: float
    slippage_coef: float
    sec_rate: float
    finra_per_share_mode: bool
    finra_rate: float
    finra_per_share: float
    finra_cap: float
    commission_rate: float
    impact_coef: float
    impact_cap: float
    multiplier: float

    @classmethod
    def from_config(cls, cfg: CostConfig) -> CostParams:
        return cls(cfg.spread_bps * 0.5e-4, cfg.slippage_atr_coef, cfg.sec_fee_rate, cfg.finra_mode == "per_share",
                   cfg.finra_taf_rate, cfg.finra_per_share, cfg.finra_cap, cfg.commission_rate, cfg.impact_coef,
                   cfg.impact_cap, cfg.cost_multiplier)


def order_costs(delta: float, price: float, atr_over_price: float, inv_dollar_volume: float, p: CostParams) -> float:
    """Total cost ($, × multiplier) of trading ``delta`` shares at ``price``; sells pay SEC/FINRA.

    The sum of :func:`spread_cost`, :func:`commission`, :func:`slippage_cost`, :func:`sec_fee`,
    :func:`finra_taf` and :func:`market_impact`, with the proportional rates folded together to
    keep the hot path short. Python floats: the specification of one order's cost (the batched envs
    compute the same sum on arrays in :mod:`tradelab.envs.inplace`, tested bit-identical).
    """
    notional = abs(delta) * price
    is_sell = delta < 0
    sell_notional = notional if is_sell else 0.0
    per_notional = notional * (p.half_spread + p.commission_rate) + slippage_cost(notional, atr_over_price,
                                                                                 p.slippage_coef)
    if p.finra_per_share_mode:
        shares_sold = -delta if is_sell else 0.0
        fees = sec_fee(sell_notional, p.sec_rate) + finra_taf(sell_notional, shares_sold, "per_share", 0.0,
                                                               p.finra_per_share, p.finra_cap, min)
    else:
        fees = sell_notional * (p.sec_rate + p.finra_rate)
    impact = market_impact(notional, inv_dollar_volume, p.impact_coef, p.impact_cap, math.sqrt, min)
    return (per_notional + fees + impact) * p.multiplier
