"""Frozen configuration for the trading environments: costs, rewards and the env itself.

Load from YAML with ``TradingEnvConfig.from_yaml("configs/env.yaml", **{"costs.spread_bps": 1})``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tradelab.config import ConfigBase
from tradelab.errors import ConfigError

__all__ = ["CostConfig", "RewardConfig", "RiskConfig", "TradingEnvConfig", "FINRA_MODES", "REWARD_KINDS", "PDT_MODES", "IMPACT_MODES"]

FINRA_MODES = ("notional", "per_share")
REWARD_KINDS = ("return_dd", "v3", "log_return")
PDT_MODES = ("finra", "daily_cap")
IMPACT_MODES = ("auto", "on", "off")


def _check(cond: bool, where: str, value: object, allowed: str) -> None:
    if not cond:
        raise ConfigError(f"{where} = {value!r} is invalid: {allowed}")


@dataclass(frozen=True)
class CostConfig(ConfigBase):
    """Transaction-cost model (V4). All monetary terms are scaled by ``cost_multiplier``."""

    spread_bps: float = 2.0
    """Full bid/ask spread in basis points of notional; half is paid on each side (buy and sell)."""
    slippage_atr_coef: float = 0.05
    """Slippage = coef × ATR(t)/close(t) × order notional (ATR: Wilder, ``atr_window`` bars, causal)."""
    atr_window: int = 14
    """Bars in the Wilder ATR used for slippage."""
    sec_fee_rate: float = 0.0000221
    """SEC Section 31 fee as a fraction of SELL notional (0.00221 %)."""
    finra_mode: str = "notional"
    """FINRA TAF mode: 'notional' (finra_taf_rate × sell notional) or 'per_share' (per share sold, capped)."""
    finra_taf_rate: float = 0.000145
    """FINRA TAF as a fraction of SELL notional in 'notional' mode (0.0145 %, the V3 design's default)."""
    finra_per_share: float = 0.000166
    """FINRA TAF in dollars per share sold in 'per_share' mode."""
    finra_cap: float = 8.30
    """Cap in dollars per order (per asset per fill) for the 'per_share' FINRA TAF."""
    commission_rate: float = 0.0
    """Broker commission as a fraction of notional (both sides)."""
    impact: str = "auto"
    """Square-root market impact: 'auto' charges it only where volume is notional (shares or contracts
    traded), not for FX or tick-count volumes (see :func:`tradelab.envs.costs.volume_is_notional`); 'on' always
    (where volume > 0); 'off' never."""
    impact_coef: float = 0.1
    """Square-root market impact: coef × notional × sqrt(notional / bar dollar volume); 0 volume → no impact."""
    impact_cap: float = 0.005
    """Upper bound of the impact as a fraction of notional (the square-root law is for small participation;
    tick-count volumes such as the embedded EURUSD's would otherwise imply absurd impact)."""
    pdt_enabled: bool = True
    """Apply the pattern-day-trading rule (pdt_mode says which)."""
    pdt_mode: str = "finra"
    """'finra': FINRA's rule, ``max_day_trades`` same-day round trips per rolling 5 trading days, only on
    intraday bars while equity < ``pdt_equity_threshold``; 'daily_cap': the V3 design's "max 4 trades per
    day", at most ``max_trades_per_day`` fills per trading day whatever the equity."""
    max_trades_per_day: int = 4
    """Fills allowed per trading day (all assets together) in 'daily_cap' mode."""
    max_day_trades: int = 3
    """Same-day round trips allowed within a rolling 5-trading-day window while under the PDT threshold."""
    pdt_equity_threshold: float = 25_000.0
    """Equity (account currency) under which the PDT limit applies."""
    min_holding_bars: int = 0
    """Bars a position must be held before it may be reduced, closed or flipped (0 = no limit)."""
    cost_multiplier: float = 1.0
    """Scales every monetary cost (reports use 0×, 1× and 2×)."""

    def validate(self) -> None:
        for name in ("spread_bps", "slippage_atr_coef", "sec_fee_rate", "finra_taf_rate", "finra_per_share",
                     "finra_cap", "commission_rate", "impact_coef", "impact_cap", "pdt_equity_threshold", "cost_multiplier"):
            value = getattr(self, name)
            _check(value >= 0, f"costs.{name}", value, "must be >= 0")
        _check(self.finra_mode in FINRA_MODES, "costs.finra_mode", self.finra_mode, f"use one of {FINRA_MODES}")
        _check(self.pdt_mode in PDT_MODES, "costs.pdt_mode", self.pdt_mode, f"use one of {PDT_MODES}")
        _check(self.impact in IMPACT_MODES, "costs.impact", self.impact, f"use one of {IMPACT_MODES}")
        _check(self.max_trades_per_day >= 0, "costs.max_trades_per_day", self.max_trades_per_day, "must be >= 0")
        _check(self.atr_window >= 1, "costs.atr_window", self.atr_window, "must be >= 1")
        _check(self.max_day_trades >= 0, "costs.max_day_trades", self.max_day_trades, "must be >= 0")
        _check(self.min_holding_bars >= 0, "costs.min_holding_bars", self.min_holding_bars, "must be >= 0")


@dataclass(frozen=True)
class RewardConfig(ConfigBase):
    """Training reward. Evaluation never uses it (metrics come from the equity curve)."""

    kind: str = "return_dd"
    """'return_dd' (step return in % minus the drawdown's increase in %, both O(1) per step), 'v3' (the
    seed's five weighted terms below) or 'log_return' (log of equity ratio per step)."""
    return_weight: float = 1.0
    """Weight of the step return in percent (100 × equity_t/equity_{t-1} − 100)."""
    drawdown_weight: float = 1.0
    """return_dd: weight of the drawdown's increase beyond ``drawdown_threshold`` in % on the step;
    v3: weight of the penalty DD × 10 charged on every step while the drawdown exceeds the threshold."""
    drawdown_threshold: float = 0.10
    """Drawdown (fraction of the episode's equity peak) beyond which the penalty applies."""
    sharpe_weight: float = 1.0
    """v3 only: weight of the negative-Sharpe penalty Sharpe × 0.1 (episode Sharpe, annualised, only when < 0)."""
    trade_penalty: float = 0.01
    """v3 only: penalty per trade beyond the first one in the episode (overtrading)."""
    bonus: float = 0.1
    """v3 only: bonus added on each step while the episode's total return exceeds ``bonus_threshold``."""
    bonus_threshold: float = 0.02
    """Total-return threshold of the bonus (0.02 = 2 %)."""

    def validate(self) -> None:
        _check(self.kind in REWARD_KINDS, "reward.kind", self.kind, f"use one of {REWARD_KINDS}")
        _check(self.drawdown_threshold >= 0, "reward.drawdown_threshold", self.drawdown_threshold, "must be >= 0")


@dataclass(frozen=True)
class RiskConfig(ConfigBase):
    """Risk manager between the policy and the env (:mod:`tradelab.envs.risk`); off by default."""

    enabled: bool = False
    """Apply the rules below (off by default: agents are evaluated as trained unless a user asks for it)."""
    max_position: float | None = None
    """Per-asset cap of |target exposure| (fraction of equity); None: no cap."""
    max_gross: float | None = None
    """Cap of the summed |target exposure| over assets (scaled down proportionally); None: no cap."""
    stop_loss: float | None = None
    """Close a position whose unrealised return from its entry price is <= -stop_loss (0.05 = -5 %)."""
    take_profit: float | None = None
    """Close a position whose unrealised return from its entry price is >= take_profit."""
    max_drawdown: float | None = None
    """Circuit breaker: when equity falls this fraction below its peak, go flat for ``breaker_bars`` bars."""
    breaker_bars: int = 20
    """Bars kept flat after the circuit breaker fires; the peak then restarts from the equity at release."""
    target_vol: float | None = None
    """Volatility targeting: scale exposure by target_vol / realised annualised vol (capped by max_leverage)."""
    vol_window: int = 20
    """Bars of close-to-close returns (up to the decision bar) in the realised volatility."""
    max_leverage: float = 1.0
    """Largest factor volatility targeting may scale an exposure up by."""

    def validate(self) -> None:
        for name in ("max_position", "max_gross", "stop_loss", "take_profit", "max_drawdown", "target_vol"):
            value = getattr(self, name)
            _check(value is None or value > 0, f"risk.{name}", value, "must be > 0, or null to switch the rule off")
        _check(self.breaker_bars >= 1, "risk.breaker_bars", self.breaker_bars, "must be >= 1")
        _check(self.vol_window >= 2, "risk.vol_window", self.vol_window, "must be >= 2")
        _check(self.max_leverage > 0, "risk.max_leverage", self.max_leverage, "must be > 0")


@dataclass(frozen=True)
class TradingEnvConfig(ConfigBase):
    """Single-asset and portfolio environment settings (shared by SAC, PPO and evaluation)."""

    window: int = 30
    """Bars of scaled features in each observation (bars t-window+1 .. t)."""
    episode_lengths: tuple[int, ...] = (256,)
    """Training episodes: one of these lengths (in decisions) is drawn per reset at a random start."""
    initial_cash: float = 100_000.0
    """Starting equity in account currency."""
    long_only: bool = False
    """Clip target exposure to [0, 1] instead of [-1, 1]."""
    min_trade_fraction: float = 0.01
    """No-trade band: orders smaller than this fraction of equity are skipped (no churn from drift rebalances)."""
    max_position_pct: float = 1.0
    """Cap of each asset's exposure as a fraction of equity (target weights are clipped to ±this; seed 003's key)."""
    buy_pct: float | None = None
    """Cap of each asset's position change per step as a fraction of equity (None: no cap; seed 003's key)."""
    reward_scaling: float = 1.0
    """Factor multiplying the training reward (seed 003's key); evaluation never uses the reward."""
    max_assets: int = 5
    """Asset slots of PortfolioEnv; spaces depend only on (max_assets, window, n_features)."""
    costs: CostConfig = field(default_factory=CostConfig)
    """Transaction-cost model."""
    reward: RewardConfig = field(default_factory=RewardConfig)
    """Training reward."""
    risk: RiskConfig = field(default_factory=RiskConfig)
    """Risk manager between policy and env (backtests, inference and make_vec_env apply it when enabled)."""

    def validate(self) -> None:
        _check(self.window >= 1, "window", self.window, "must be >= 1")
        _check(len(self.episode_lengths) > 0 and min(self.episode_lengths) >= 1, "episode_lengths",
               self.episode_lengths, "give at least one length >= 1, e.g. [256]")
        _check(self.initial_cash > 0, "initial_cash", self.initial_cash, "must be > 0")
        _check(0 <= self.min_trade_fraction < 1, "min_trade_fraction", self.min_trade_fraction, "must be in [0, 1)")
        _check(self.max_assets >= 1, "max_assets", self.max_assets, "must be >= 1")
        _check(0 < self.max_position_pct <= 1, "max_position_pct", self.max_position_pct, "must be in (0, 1]")
        _check(self.buy_pct is None or self.buy_pct > 0, "buy_pct", self.buy_pct, "must be > 0, or null for no cap")
        _check(self.reward_scaling > 0, "reward_scaling", self.reward_scaling, "must be > 0")

    def with_cost_multiplier(self, multiplier: float) -> TradingEnvConfig:
        """A copy whose costs are scaled by ``multiplier`` (0×, 1×, 2× sweeps)."""
        return self.replace(costs={**self.costs.to_dict(), "cost_multiplier": float(multiplier)})
