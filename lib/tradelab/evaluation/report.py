"""One function every workflow reports with: agent vs baselines at several cost multipliers.

Writes into ``out_dir``:

* ``metrics.json`` — a :class:`tradelab.results.RunResult`: ``strategies`` (``agent``/``name``,
  ``buy_and_hold``, ``flat``, ``sma_crossover``, ``random``) at 1× costs, ``by_cost`` and ``meta``
  (schema in :mod:`tradelab.results`);
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

from tradelab.envs.config import TradingEnvConfig
from tradelab.evaluation.backtest import BacktestResult, backtest
from tradelab.evaluation.baselines import baseline_exposures
from tradelab.evaluation.plots import plot_drawdown, plot_equity, plot_positions
from tradelab.results import RunResult, cost_key, make_meta, period_of
from tradelab.utils import atomic_write_json, atomic_write_text

__all__ = ["evaluate_against_baselines", "cost_key"]


def _strategies(policy: Any, name: str, data: pd.DataFrame, config: TradingEnvConfig, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {} if policy is None else {name: policy}
    out.update(baseline_exposures(data, long_only=config.long_only, seed=seed))
    return out


def evaluate_against_baselines(policy: Any, data: pd.DataFrame, features: Any,
                               config: TradingEnvConfig | None = None, out_dir: str | Path = "outputs/eval",
                               name: str = "agent", cost_multipliers: Sequence[float] = (0, 1, 2),
                               seed: int = 0, title: str = "", history: Any = None,
                               run_meta: dict[str, Any] | None = None) -> RunResult:
    """Backtest ``policy`` (None → baselines only) and the baselines on the same bars and costs.

    Returns the :class:`~tradelab.results.RunResult` written as ``metrics.json``. Use it on the TEST
    split once, at the end of a run. ``history``: scaled feature rows of the bars before ``data`` (the
    purge gap) for the first windows. ``run_meta``: the ``meta`` fields only the caller knows
    (``workflow``, ``asset``, ``data_hash``, ``split``, ...; workflow "backtest" when not given).
    """
    cfg = config or TradingEnvConfig()
    strategies = _strategies(policy, name, data, cfg, seed)
    focus = name if policy is not None else None
    label = f"{title} " if title else ""
    titles = (f"{label}equity (1x costs)", f"{label}drawdown (1x costs)", f"{label}position")
    return write_strategy_report(strategies, data, features, cfg, out_dir, cost_multipliers, focus, titles, {},
                                 history=history, run_meta=run_meta)


def write_strategy_report(strategies: dict[str, Any], data: Any, features: Any, cfg: Any, out_dir: str | Path,
                          cost_multipliers: Sequence[float], focus: str | None, titles: tuple[str, str, str],
                          meta: dict[str, Any], history: Any = None,
                          run_meta: dict[str, Any] | None = None) -> RunResult:
    """Backtest every strategy at each cost multiplier (1× always) and write the run's report files.

    ``metrics.json`` (a :class:`~tradelab.results.RunResult`; ``run_meta`` gives the meta fields only
    the caller knows, e.g. ``workflow``, ``asset``, ``data_hash``, ``split``), ``equity.csv``, the equity /
    drawdown / position PNGs (``titles``) and ``report_meta.json`` (``meta``, the period and the run's
    settings). ``data``/``features`` are one asset's frames or, for the portfolio env, dicts of them.
    Returns the RunResult.
    """
    out = Path(out_dir)
    multipliers = sorted({float(m) for m in cost_multipliers} | {1.0})
    results: dict[float, dict[str, BacktestResult]] = {
        m: {key: backtest(pol, data, features, cfg, m, key, history=history) for key, pol in strategies.items()}
        for m in multipliers
    }
    one = results[1.0]
    period = period_of((next(iter(data.values())) if isinstance(data, dict) else data).index)
    run = {"workflow": "backtest", **(run_meta or {})}
    result = RunResult(
        strategies={key: res.metrics for key, res in one.items()},
        by_cost={cost_key(m): {k: r.metrics for k, r in results[m].items()} for m in multipliers
                 if m in {float(c) for c in cost_multipliers}},
        meta=make_meta(**{"focus": focus, "period": period, **run}), output_dir=out)
    equity = pd.DataFrame({key: res.equity["equity"] for key, res in one.items()})
    positions = pd.DataFrame({key: res.equity["position"] for key, res in one.items()})
    result.write()
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
        **(period or {}), **meta, "impact": first.extra.get("impact"), "first_windows": "real bars before the split (history)"
        if history is not None else "zero-padded (no history rows given)",
        "risk_rule_counts": {k: r.metrics["risk_rule_counts"] for k, r in one.items() if "risk_rule_counts" in r.metrics}, "cost_multipliers": [float(m) for m in cost_multipliers], "env_config": cfg.to_dict(),
        "strategies": list(strategies),
    })
    return result
