"""One function every workflow reports with: agent vs baselines at several cost multipliers.

Writes into ``out_dir``:

* ``metrics.json`` — ``{strategy: metrics}`` at 1× costs (``agent``/``name``, ``buy_and_hold``,
  ``flat``, ``sma_crossover``, ``random``) plus ``by_cost`` = ``{"0x": {strategy: metrics}, "1x": ...,
  "2x": ...}``;
* ``equity.csv`` — timestamp + one equity column per strategy (1× costs);
* ``trades.csv`` — every round trip of every strategy at 1× costs (``strategy`` column first; see
  :mod:`tradelab.evaluation.trades`); per-trade metrics are in ``metrics.json``;
* ``equity.png`` (equity vs buy-and-hold), ``drawdown.png``, ``position.png``;
* ``report_meta.json`` — bars, period, annualisation, cost settings, whether square-root impact was
  charged per asset and why (``impact``: e.g. "off (auto: EURUSD is an FX pair ...)"), and with the
  risk manager on, how often each rule fired per strategy (also ``risk_rule_counts`` in metrics.json).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tradelab.data.calendar import infer_frequency
from tradelab.envs.config import TradingEnvConfig
from tradelab.evaluation.backtest import BacktestResult, backtest
from tradelab.evaluation.baselines import baseline_exposures
from tradelab.evaluation.metrics import annualisation
from tradelab.evaluation.plots import plot_drawdown, plot_equity, plot_positions
from tradelab.utils import atomic_write_json, atomic_write_text

__all__ = ["evaluate_against_baselines", "cost_key"]


def cost_key(multiplier: float) -> str:
    """``0.0 → "0x"``, ``1.5 → "1.5x"``."""
    return f"{float(multiplier):g}x"


def _strategies(policy: Any, name: str, data: pd.DataFrame, config: TradingEnvConfig, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {} if policy is None else {name: policy}
    out.update(baseline_exposures(data, long_only=config.long_only, seed=seed))
    return out


def evaluate_against_baselines(policy: Any, data: pd.DataFrame, features: Any,
                               config: TradingEnvConfig | None = None, out_dir: str | Path = "outputs/eval",
                               name: str = "agent", cost_multipliers: Sequence[float] = (0, 1, 2),
                               seed: int = 0, title: str = "", history: Any = None) -> dict[str, Any]:
    """Backtest ``policy`` (None → baselines only) and the baselines on the same bars and costs.

    Returns the ``metrics.json`` content. Use it on the TEST split once, at the end of a run.
    ``history``: scaled feature rows of the bars before ``data`` (the purge gap) for the first windows.
    """
    cfg = config or TradingEnvConfig()
    strategies = _strategies(policy, name, data, cfg, seed)
    focus = name if policy is not None else None
    label = f"{title} " if title else ""
    meta = {
        "n_bars": len(data), "start": data.index[0].isoformat(), "end": data.index[-1].isoformat(),
        "frequency": infer_frequency(data.index) if len(data) >= 3 else None,
        "periods_per_year": annualisation(data.index),
    }
    titles = (f"{label}equity (1x costs)", f"{label}drawdown (1x costs)", f"{label}position")
    return write_strategy_report(strategies, data, features, cfg, out_dir, cost_multipliers, focus, titles, meta,
                                 history=history)


def write_strategy_report(strategies: dict[str, Any], data: Any, features: Any, cfg: Any, out_dir: str | Path,
                          cost_multipliers: Sequence[float], focus: str | None, titles: tuple[str, str, str],
                          meta: dict[str, Any], history: Any = None) -> dict[str, Any]:
    """Backtest every strategy at each cost multiplier (1× always) and write the run's report files.

    ``metrics.json`` ({strategy: metrics} at 1× plus ``by_cost``), ``equity.csv``, the equity /
    drawdown / position PNGs (``titles``) and ``report_meta.json`` (``meta`` plus the run's settings).
    ``data``/``features`` are one asset's frames or, for the portfolio env, dicts of them.
    """
    out = Path(out_dir)
    multipliers = sorted({float(m) for m in cost_multipliers} | {1.0})
    results: dict[float, dict[str, BacktestResult]] = {
        m: {key: backtest(pol, data, features, cfg, m, key, history=history) for key, pol in strategies.items()}
        for m in multipliers
    }
    one = results[1.0]
    metrics: dict[str, Any] = {key: res.metrics for key, res in one.items()}
    metrics["by_cost"] = {cost_key(m): {k: r.metrics for k, r in results[m].items()} for m in multipliers
                          if m in {float(c) for c in cost_multipliers}}
    equity = pd.DataFrame({key: res.equity["equity"] for key, res in one.items()})
    positions = pd.DataFrame({key: res.equity["position"] for key, res in one.items()})
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_text(out / "equity.csv", equity.to_csv(index_label="timestamp"))
    trades = pd.concat([res.trades.assign(strategy=key) for key, res in one.items() if res.trades is not None],
                       ignore_index=True)
    trades = trades[["strategy", *[c for c in trades.columns if c != "strategy"]]]
    atomic_write_text(out / "trades.csv", trades.to_csv(index=False))
    plot_equity(equity, out / "equity.png", titles[0], focus=focus)
    plot_drawdown(equity, out / "drawdown.png", titles[1])
    shown = [c for c in (focus, "sma_crossover", "buy_and_hold") if c]
    plot_positions(positions[shown], out / "position.png", titles[2])
    first = next(iter(one.values()))
    atomic_write_json(out / "report_meta.json", {
        **meta, "impact": first.extra.get("impact"), "first_windows": "real bars before the split (history)"
        if history is not None else "zero-padded (no history rows given)",
        "risk_rule_counts": {k: r.metrics["risk_rule_counts"] for k, r in one.items() if "risk_rule_counts" in r.metrics}, "cost_multipliers": [float(m) for m in cost_multipliers], "env_config": cfg.to_dict(),
        "strategies": list(strategies),
    })
    return metrics
