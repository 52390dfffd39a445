"""Risk manager: a composable layer between the policy and the env (seed 002's ``risk_manager.py``).

The rules act on TARGET exposures (fractions of equity, one per asset) before the env fills them:

* ``drawdown_breaker`` — equity ``max_drawdown`` below its peak → flat for ``breaker_bars`` bars; the
  peak then restarts from the equity at release (otherwise the breaker would fire again at once);
* ``stop_loss`` / ``take_profit`` — a held position whose return from its entry price reaches
  ``-stop_loss`` / ``+take_profit`` is closed (target 0 for that asset on that decision);
* ``vol_target`` — exposure × min(target_vol / realised vol, max_leverage), realised vol from the
  last ``vol_window`` close-to-close returns up to the decision bar (causal), annualised;
* ``position_cap`` — |exposure| per asset ≤ ``max_position``;
* ``gross_cap`` — Σ|exposure| ≤ ``max_gross`` (scaled down proportionally).

:func:`apply_risk` is the pure function on ``(n_envs, n_assets)`` arrays; :class:`RiskWrapper`
(gymnasium, for :class:`~tradelab.envs.TradingEnvironment` / :class:`~tradelab.envs.PortfolioEnv`)
and :class:`tradelab.envs.vec.RiskVecEnvWrapper` (SB3, for the batched VecEnvs) feed it the account and count how
often each rule changed a target (``counts``, reported as ``risk_rule_counts``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from tradelab.envs.config import RiskConfig

__all__ = ["RISK_RULES", "RiskState", "RiskInputs", "apply_risk", "realised_vol", "RiskWrapper", "wrap_env",
           "core_inputs"]

RISK_RULES = ("drawdown_breaker", "stop_loss", "take_profit", "vol_target", "position_cap", "gross_cap")


@dataclass
class RiskInputs:
    """What the rules read at the decision bar, one row per env: equity ``(n,)``, per asset ``(n, A)``."""

    equity: np.ndarray
    shares: np.ndarray
    avg_price: np.ndarray
    price: np.ndarray
    vol: np.ndarray  # annualised realised vol per asset (0: unknown → no scaling)


@dataclass
class RiskState:
    """Per-env breaker state and the rule counters."""

    peak: np.ndarray
    breaker_left: np.ndarray
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RISK_RULES, 0))

    @classmethod
    def new(cls, equity: np.ndarray) -> RiskState:
        eq = np.asarray(equity, dtype=np.float64).reshape(-1)
        return cls(eq.copy(), np.zeros(len(eq), dtype=np.int64))

    def reset_rows(self, rows: np.ndarray, equity: np.ndarray) -> None:
        self.peak[rows] = equity
        self.breaker_left[rows] = 0


def _count(state: RiskState, rule: str, before: np.ndarray, after: np.ndarray) -> None:
    state.counts[rule] += int(np.any(np.abs(after - before) > 1e-12, axis=-1).sum())


def apply_risk(weights: np.ndarray, inputs: RiskInputs, state: RiskState, cfg: RiskConfig) -> np.ndarray:
    """Target exposures ``(n, A)`` after every enabled rule; updates ``state`` (peak, breaker, counts)."""
    w = np.array(weights, dtype=np.float64, copy=True).reshape(len(inputs.equity), -1)
    if not cfg.enabled:
        return w
    if cfg.max_drawdown is not None:
        w = _breaker(w, inputs.equity, state, cfg)
    held = inputs.shares != 0
    ret = np.divide(inputs.price, inputs.avg_price, out=np.ones_like(inputs.price), where=held) - 1.0
    ret *= np.sign(inputs.shares)
    for rule, limit, hit in (("stop_loss", cfg.stop_loss, lambda r, x: r <= -x),
                             ("take_profit", cfg.take_profit, lambda r, x: r >= x)):
        if limit is not None:
            new = np.where(held & hit(ret, limit), 0.0, w)
            _count(state, rule, w, new)
            w = new
    if cfg.target_vol is not None:
        scale = np.divide(cfg.target_vol, inputs.vol, out=np.ones_like(inputs.vol), where=inputs.vol > 0)
        new = w * np.minimum(scale, cfg.max_leverage)
        _count(state, "vol_target", w, new)
        w = new
    if cfg.max_position is not None:
        new = np.clip(w, -cfg.max_position, cfg.max_position)
        _count(state, "position_cap", w, new)
        w = new
    if cfg.max_gross is not None:
        gross = np.abs(w).sum(-1, keepdims=True)
        new = w * np.minimum(1.0, cfg.max_gross / np.maximum(gross, 1e-12))
        _count(state, "gross_cap", w, new)
        w = new
    return w


def _breaker(w: np.ndarray, equity: np.ndarray, state: RiskState, cfg: RiskConfig) -> np.ndarray:
    """Drawdown circuit breaker: flat while ``breaker_left > 0``; fires when the drawdown reaches the limit."""
    active = state.breaker_left > 0
    release = active & (state.breaker_left == 1)
    state.breaker_left[active] -= 1
    state.peak[release] = equity[release]  # restart the peak at release
    state.peak = np.maximum(state.peak, equity)
    fire = ~active & (1.0 - equity / state.peak >= cfg.max_drawdown)
    state.breaker_left[fire] = cfg.breaker_bars - 1
    flat = active | fire
    new = np.where(flat[:, None], 0.0, w)
    _count(state, "drawdown_breaker", w, new)
    return new


def realised_vol(close: np.ndarray, t: np.ndarray, window: int, periods_per_year: float) -> np.ndarray:
    """Annualised std of the last ``window`` log returns of ``close`` ``(T, A)`` up to bar ``t`` ``(n,)``; 0 before 2."""
    t = np.asarray(t, dtype=np.int64).reshape(-1)
    idx = np.maximum(t[:, None] - np.arange(window, -1, -1)[None, :], 0)  # (n, window+1) bars t-window .. t
    logc = np.log(close[idx])  # (n, window+1, A)
    rets = np.diff(logc, axis=1)
    valid = (t[:, None] - np.arange(window - 1, -1, -1)[None, :]) >= 1  # returns that exist
    n_valid = valid.sum(1)[:, None]
    mean = (rets * valid[:, :, None]).sum(1) / np.maximum(n_valid, 1)
    var = (((rets - mean[:, None, :]) ** 2) * valid[:, :, None]).sum(1) / np.maximum(n_valid - 1, 1)
    return np.where(n_valid >= 2, np.sqrt(var) * math.sqrt(periods_per_year), 0.0)


def _single_inputs(env: Any, vol_window: int) -> tuple[RiskInputs, int]:
    """:class:`RiskInputs` of a TradingEnvironment or PortfolioEnv (one row) and its action width."""
    u = env.unwrapped
    if hasattr(u, "core"):  # PortfolioEnv
        return core_inputs(u.core, np.array([0]), vol_window), u.core.n_slots
    m, a, t = u.market, u.acct, u.t
    vol = realised_vol(m.close[:, :1], np.array([t]), vol_window, m.periods_per_year)
    return RiskInputs(np.array([a.equity]), np.array([a.shares]), np.array([a.avg_price]),
                      m.close[t:t + 1, :1].copy(), vol), 1


def core_inputs(core: Any, rows: np.ndarray, vol_window: int) -> RiskInputs:
    m, a, t = core.market, core.acct, core.t[rows]
    return RiskInputs(a.equity[rows, 0].copy(), a.shares[rows].copy(), a.avg_price[rows].copy(), m.close[t],
                      realised_vol(m.close, t, vol_window, m.periods_per_year))


class RiskWrapper(gym.Wrapper):
    """Applies :func:`apply_risk` to every action of a single or portfolio env; ``counts`` per rule.

    ``info["risk_fired"]`` lists the rules that changed this step's target; the counters run over
    the wrapper's life (a backtest: one episode) and restart with :meth:`reset_counts`.
    """

    def __init__(self, env: gym.Env, config: RiskConfig) -> None:
        super().__init__(env)
        self.risk = config
        self.state: RiskState | None = None

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.state.counts) if self.state else dict.fromkeys(RISK_RULES, 0)

    def reset_counts(self) -> None:
        if self.state is not None:
            self.state.counts = dict.fromkeys(RISK_RULES, 0)

    def reset(self, **kwargs: Any) -> tuple[Any, dict]:
        obs, info = self.env.reset(**kwargs)
        inputs, _ = _single_inputs(self.env, self.risk.vol_window)
        counts = self.state.counts if self.state else None
        self.state = RiskState.new(inputs.equity)
        if counts is not None:
            self.state.counts = counts
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        inputs, width = _single_inputs(self.env, self.risk.vol_window)
        before = dict(self.state.counts)
        target = apply_risk(np.asarray(action, dtype=np.float64).reshape(1, width), inputs, self.state, self.risk)
        obs, reward, terminated, truncated, info = self.env.step(target.reshape(np.shape(action) or (1,)))
        info = dict(info)
        info["risk_fired"] = [k for k, v in self.state.counts.items() if v != before[k]]
        return obs, reward, terminated, truncated, info


def wrap_env(env: gym.Env, config: Any) -> gym.Env:
    """``env`` behind a :class:`RiskWrapper` when ``config`` (RiskConfig or TradingEnvConfig) enables it."""
    risk = getattr(config, "risk", config)
    return RiskWrapper(env, risk) if risk is not None and risk.enabled else env
