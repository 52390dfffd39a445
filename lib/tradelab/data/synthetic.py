"""Seeded synthetic OHLCV: test fixtures and planted-signal benchmark markets, never real-data results.

Two kinds of generator live here:

* :func:`regime_switching_gbm` — generic seeded bars for unit tests;
* **planted-signal markets** (:func:`planted_market`) — bars with an edge put there on purpose, so a
  learner that fails on real data can first be shown to find a signal that is known to exist. Each
  market comes with its **oracle** (knows the hidden state: the best one can do) and one or more
  **simple causal rules** (a one-line strategy that uses only bars up to t), both given as per-bar
  target exposures that run through the same env, fills and costs as any agent
  (:func:`reference_exposures`).

The planted kinds:

``momentum``
    A hidden drift ``±0.3 %`` per bar (1 % noise) whose sign switches at random every ~40 bars.
    Rule: the sign of an EMA of past returns. Oracle: the sign of the next bar's drift.
``mean_reversion``
    Log price = slow random-walk fair value + an AR(1) deviation that decays by ``1 - phi`` per bar.
    Rule: minus the sign of the close's z-score against its 20-bar mean. Oracle: minus the sign of the
    true deviation.
``nonlinear``
    The next bar's drift is ``+0.3 %·sign(r_{t-4..t})`` (the last 5 bars' move) in a hidden
    high-volatility regime (momentum) and ``−0.3 %·sign(...)`` in the low-volatility one (reversal),
    equally long on average: a linear rule (momentum or reversal) earns nothing, a product of "recent
    move" and "volatility level" does.
    Rule: that product with a 20-bar realised-volatility threshold. Oracle: the same with the true regime.
``null``
    A driftless random walk: no edge. Oracle and rule are flat / the momentum rule; every learner's
    test Sharpe should be indistinguishable from 0 here (false-discovery check).

Bars are business days (``periods_per_year`` 252); close-to-close log returns carry the drift, the
open gaps a little noise around the previous close, so a position decided at bar t and filled at the
t+1 open earns the drift of bar t+1 (the oracle's ``edge`` column at t). Volumes are large share counts
(dollar volume ~1e11), so market impact is negligible, as for a liquid index.

Assets named ``PLANTED_<KIND>`` or ``PLANTED_<KIND>_S<seed>`` load through
:func:`tradelab.data.load_asset`, hence through ``tradelab data build --assets`` and every trainer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tradelab.errors import DataError

__all__ = [
    "regime_switching_gbm", "PLANTED_KINDS", "PLANTED_PREFIX", "PlantedMarket", "planted_market",
    "planted_asset_name", "parse_planted_name", "DESCRIPTIONS", "reference_exposures", "momentum_rule", "zscore_rule",
    "vol_switch_rule",
]

PLANTED_PREFIX = "PLANTED_"
PLANTED_KINDS = ("momentum", "mean_reversion", "nonlinear", "null")
_NAME = re.compile(r"^PLANTED_(MOMENTUM|MEAN_REVERSION|NONLINEAR|NULL)(?:_S(\d+))?$")
#: default bars: ~47 years of business days, so the 15 % test split (~1,700 bars) pins a Sharpe
#: ratio to about ±0.4 per run and ±0.22 as a mean of 3 seeds (null-market false discoveries)
DEFAULT_BARS = 12_000
#: the nonlinear market's drift follows (volatile regime) or fades (calm regime) the last 5 bars' move
LOOKBACK = 5


def regime_switching_gbm(
    n_bars: int = 2000,
    seed: int = 0,
    start: str = "2010-01-04",
    freq: str = "B",
    s0: float = 100.0,
    mus: tuple[float, ...] = (0.0006, -0.0008, 0.0001),
    sigmas: tuple[float, ...] = (0.008, 0.02, 0.012),
    p_stay: float = 0.98,
    return_regimes: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, np.ndarray]:
    """A canonical OHLCV frame from a Markov-switching geometric Brownian motion (unit tests).

    Each bar: open = previous close × small gap, close from the regime's drift/vol, high/low
    bracketing open and close, volume log-normal and higher in the volatile regime.
    """
    rng = np.random.default_rng(seed)
    k = len(mus)
    regimes = np.empty(n_bars, dtype=np.int64)
    state = 0
    for i in range(n_bars):
        if rng.random() > p_stay:
            state = int(rng.integers(k))
        regimes[i] = state
    mu = np.asarray(mus)[regimes]
    sig = np.asarray(sigmas)[regimes]
    log_ret = mu - 0.5 * sig**2 + sig * rng.standard_normal(n_bars)
    close = s0 * np.exp(np.cumsum(log_ret))
    gap = np.exp(0.2 * sig * rng.standard_normal(n_bars))
    open_ = np.concatenate([[s0], close[:-1]]) * gap
    spread_hi = np.abs(rng.standard_normal(n_bars)) * sig * 0.6
    spread_lo = np.abs(rng.standard_normal(n_bars)) * sig * 0.6
    high = np.maximum(open_, close) * np.exp(spread_hi)
    low = np.minimum(open_, close) * np.exp(-spread_lo)
    volume = np.exp(rng.normal(13.0, 0.4, n_bars)) * (1.0 + 2.0 * (regimes == 1))
    index = pd.date_range(start=start, periods=n_bars, freq=freq, tz="UTC", name="timestamp")
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume.round()},
        index=index,
        dtype="float64",
    )
    return (frame, regimes) if return_regimes else frame


# -- planted-signal markets ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlantedMarket:
    """Bars with a planted edge, the hidden state behind it, and what an oracle would hold.

    :ivar ohlcv: canonical OHLCV frame (UTC ``timestamp`` index, float64 columns).
    :ivar edge: expected log return of the bar AFTER each bar (the drift a position decided at t
        and filled at t+1's open earns); the oracle holds ``sign(edge)``. Hidden: never a feature.
    :ivar hidden: other hidden state per bar (regime, deviation), for plots and tests.
    """

    kind: str
    seed: int
    ohlcv: pd.DataFrame
    edge: pd.Series
    hidden: pd.DataFrame
    description: str
    params: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return planted_asset_name(self.kind, self.seed)

    def oracle(self, index: pd.Index | None = None) -> np.ndarray:
        """Oracle exposure per bar of ``index`` (default: all bars): the sign of the next bar's drift."""
        edge = self.edge if index is None else self.edge.reindex(index)
        if edge.isna().any():
            raise DataError(f"{self.name}: oracle asked for timestamps that are not bars of this market")
        return np.sign(edge.to_numpy(dtype=np.float64))

    def rules(self, index: pd.Index | None = None) -> dict[str, np.ndarray]:
        """Simple causal rules' exposures per bar of ``index``, computed on the full history (causal)."""
        close = self.ohlcv["close"]
        rules = {"momentum_rule": momentum_rule(close)}
        if self.kind == "mean_reversion":
            rules = {"zscore_rule": zscore_rule(close), **rules}
        elif self.kind == "nonlinear":
            rules = {"vol_switch_rule": vol_switch_rule(close, self.params["vol_threshold"]), **rules}
        if index is None:
            return rules
        pos = self.ohlcv.index.get_indexer(index)
        if (pos < 0).any():
            raise DataError(f"{self.name}: rules asked for timestamps that are not bars of this market")
        return {k: v[pos] for k, v in rules.items()}

    @property
    def main_rule(self) -> str:
        """The rule that exploits this market's planted signal (the floor a learner should beat)."""
        return {"mean_reversion": "zscore_rule", "nonlinear": "vol_switch_rule"}.get(self.kind, "momentum_rule")


def momentum_rule(close: pd.Series, span: int = 10) -> np.ndarray:
    """Sign of an EMA (``span`` bars) of past close-to-close log returns; flat on the first bar."""
    r = np.log(close.astype("float64")).diff()
    ema = r.ewm(span=span, adjust=False).mean().to_numpy()
    return np.nan_to_num(np.sign(ema))


def zscore_rule(close: pd.Series, window: int = 20) -> np.ndarray:
    """Minus the sign of the log close's z-score against its trailing ``window``-bar mean (flat in warm-up)."""
    x = np.log(close.astype("float64"))
    mean = x.rolling(window, min_periods=window).mean()
    std = x.rolling(window, min_periods=window).std()
    return np.nan_to_num(-np.sign(((x - mean) / std).to_numpy()))


def vol_switch_rule(close: pd.Series, threshold: float, window: int = 20, lookback: int = 5) -> np.ndarray:
    """Follow the last ``lookback``-bar return when 20-bar realised vol > ``threshold``, fade it otherwise."""
    x = np.log(close.astype("float64"))
    vol = x.diff().rolling(window, min_periods=window).std().to_numpy()
    move = np.nan_to_num(np.sign(x.diff(lookback).to_numpy()))
    return np.where(np.isnan(vol), 0.0, np.where(vol > threshold, 1.0, -1.0) * move)


def _regimes(rng: np.random.Generator, n: int, mean_length: float, k: int = 2) -> np.ndarray:
    """A Markov chain over ``k`` states that leaves its state with probability 1/mean_length per bar."""
    switch = rng.random(n) < 1.0 / mean_length
    jumps = rng.integers(1, k, size=n) * switch
    return (int(rng.integers(k)) + np.cumsum(jumps)) % k


def _momentum(rng: np.random.Generator, n: int, mu: float = 0.003, sigma: float = 0.01,
              regime_bars: float = 40.0) -> tuple[np.ndarray, np.ndarray, dict]:
    sign = np.where(_regimes(rng, n, regime_bars) == 0, 1.0, -1.0)
    drift = mu * sign
    ret = drift + sigma * rng.standard_normal(n)
    return ret, drift, {"regime": sign}


def _mean_reversion(rng: np.random.Generator, n: int, phi: float = 0.9, dev_sigma: float = 0.008,
                    fair_sigma: float = 0.003, noise: float = 0.002) -> tuple[np.ndarray, np.ndarray, dict]:
    dev = np.empty(n)
    shocks = dev_sigma * rng.standard_normal(n)
    dev[0] = shocks[0]
    for i in range(1, n):
        dev[i] = phi * dev[i - 1] + shocks[i]
    fair = np.cumsum(fair_sigma * rng.standard_normal(n))
    x = fair + dev + noise * rng.standard_normal(n)
    ret = np.diff(x, prepend=0.0)
    # expected return of bar i given the deviation at i-1 (the oracle ignores the small noise term)
    drift = np.concatenate([[0.0], (phi - 1.0) * dev[:-1]])
    return ret, drift, {"deviation": dev, "fair_value": fair}


def _nonlinear(rng: np.random.Generator, n: int, mu: float = 0.003, sigmas: tuple[float, float] = (0.006, 0.018),
               regime_bars: float = 60.0, lookback: int = LOOKBACK) -> tuple[np.ndarray, np.ndarray, dict]:
    regime = _regimes(rng, n, regime_bars)  # 0 calm (reversal), 1 volatile (momentum)
    sig = np.asarray(sigmas)[regime]
    ret, drift = np.zeros(n), np.zeros(n)
    eps = rng.standard_normal(n)
    for i in range(n):
        if i > lookback:
            direction = 1.0 if regime[i - 1] == 1 else -1.0
            drift[i] = direction * mu * np.sign(ret[i - lookback:i].sum())
        ret[i] = drift[i] + sig[i] * eps[i]
    return ret, drift, {"regime": regime, "sigma": sig}


def _null(rng: np.random.Generator, n: int, sigma: float = 0.01) -> tuple[np.ndarray, np.ndarray, dict]:
    return sigma * rng.standard_normal(n) - 0.5 * sigma**2, np.zeros(n), {}


_GENERATORS = {"momentum": _momentum, "mean_reversion": _mean_reversion, "nonlinear": _nonlinear, "null": _null}
DESCRIPTIONS = {
    "momentum": "hidden drift ±0.3 %/bar switching sign every ~40 bars, 1 % noise",
    "mean_reversion": "AR(1) deviation (phi 0.9) around a random-walk fair value",
    "nonlinear": "follow the last 5 bars' move in the volatile regime, fade it in the calm one",
    "null": "driftless random walk (no edge)",
}


def _bars(ret: np.ndarray, rng: np.random.Generator, start: str, s0: float) -> pd.DataFrame:
    """Close from log returns; open = previous close × a small gap; high/low bracket them."""
    n = len(ret)
    close = s0 * np.exp(np.cumsum(ret))
    scale = float(np.std(ret)) or 0.01
    open_ = np.concatenate([[s0], close[:-1]]) * np.exp(0.1 * scale * rng.standard_normal(n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.standard_normal(n)) * 0.4 * scale)
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.standard_normal(n)) * 0.4 * scale)
    volume = np.round(np.exp(rng.normal(np.log(1e9), 0.3, n)))
    index = pd.date_range(start=start, periods=n, freq="B", tz="UTC", name="timestamp")
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume},
                        index=index, dtype="float64")


def planted_market(kind: str, seed: int = 0, n_bars: int = DEFAULT_BARS, start: str = "1980-01-01",
                   s0: float = 100.0) -> PlantedMarket:
    """A seeded planted-signal market of ``kind`` (see the module docstring); same seed, same bars."""
    if kind not in _GENERATORS:
        raise DataError(f"unknown planted market {kind!r}; use one of {PLANTED_KINDS}")
    if n_bars < 100:
        raise DataError(f"planted market needs n_bars >= 100, got {n_bars}")
    rng = np.random.default_rng([seed, PLANTED_KINDS.index(kind)])
    ret, drift, hidden = _GENERATORS[kind](rng, n_bars)
    ohlcv = _bars(ret, rng, start, s0)
    # drift[i] is the expected return of bar i; a decision at t holds bar t+1, so its edge is drift[t+1]
    edge = pd.Series(np.append(drift[1:], 0.0), index=ohlcv.index, name="edge")
    params: dict = {}
    if kind == "nonlinear":
        params["vol_threshold"] = float(np.sqrt(np.prod((0.006, 0.018))))
    return PlantedMarket(kind, int(seed), ohlcv, edge, pd.DataFrame(hidden, index=ohlcv.index),
                         DESCRIPTIONS[kind], params)


def planted_asset_name(kind: str, seed: int = 0) -> str:
    """``PLANTED_MOMENTUM`` (seed 0) or ``PLANTED_MOMENTUM_S3``."""
    return f"{PLANTED_PREFIX}{kind.upper()}" + (f"_S{seed}" if seed else "")


def parse_planted_name(name: str) -> tuple[str, int] | None:
    """``PLANTED_<KIND>[_S<seed>]`` → (kind, seed); None for any other name."""
    m = _NAME.match(str(name).strip().upper())
    return (m.group(1).lower(), int(m.group(2) or 0)) if m else None


def reference_exposures(market: PlantedMarket, index: pd.Index) -> dict[str, np.ndarray]:
    """Oracle, the market's rules, buy-and-hold and flat as exposures on ``index`` (for ``backtest``)."""
    n = len(index)
    return {"oracle": market.oracle(index), **market.rules(index), "buy_and_hold": np.ones(n), "flat": np.zeros(n)}
