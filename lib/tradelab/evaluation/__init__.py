"""Evaluation: metrics, baselines, deterministic backtests, plots and the one report function."""

from tradelab.evaluation.backtest import BacktestResult, backtest, cost_sweep
from tradelab.evaluation.baselines import BASELINES, baseline_exposures
from tradelab.evaluation.metrics import compute_metrics
from tradelab.evaluation.report import evaluate_against_baselines

__all__ = [
    "BASELINES",
    "BacktestResult",
    "backtest",
    "baseline_exposures",
    "compute_metrics",
    "cost_sweep",
    "evaluate_against_baselines",
]
