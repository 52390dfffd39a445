"""Backtest plots as matplotlib ``Figure`` objects (no pyplot state: safe in notebooks and headless).

``*_figure`` builds a figure (a notebook shows it with ``display(fig)``); ``plot_*`` builds the
same figure and saves it as a PNG for the run's folder and the reports.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

__all__ = [
    "equity_figure",
    "drawdown_figure",
    "positions_figure",
    "read_equity",
    "plot_equity",
    "plot_drawdown",
    "plot_positions",
]


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def _finish(fig: Figure) -> Figure:
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def read_equity(run_dir: str | Path) -> pd.DataFrame:
    """``run_dir/equity.csv`` (written by every backtest report): one equity column per strategy, agent first."""
    return pd.read_csv(Path(run_dir) / "equity.csv", index_col=0, parse_dates=True)


def equity_figure(equity: pd.DataFrame, title: str = "Equity", focus: str | None = None) -> Figure:
    """Equity curves (one column per strategy); ``focus`` (e.g. the agent) drawn thicker."""
    fig = Figure(figsize=(9, 4.5))
    ax = fig.add_subplot()
    for col in equity.columns:
        width = 2.2 if col == focus else 1.1
        style = "--" if col == "buy_and_hold" else "-"
        ax.plot(equity.index, equity[col], style, lw=width, label=col)
    ax.set_title(title)
    ax.set_ylabel("equity")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return _finish(fig)


def drawdown_figure(equity: pd.DataFrame, title: str = "Drawdown") -> Figure:
    """Drawdown from the running peak (negative fraction) per strategy."""
    fig = Figure(figsize=(9, 3.5))
    ax = fig.add_subplot()
    for col in equity.columns:
        series = equity[col]
        ax.plot(equity.index, series / series.cummax() - 1.0, lw=1.1, label=col)
    ax.set_title(title)
    ax.set_ylabel("drawdown")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return _finish(fig)


def positions_figure(positions: pd.DataFrame, title: str = "Position (exposure)") -> Figure:
    """Exposure over time (fraction of equity; +1 fully long, −1 fully short) per strategy."""
    fig = Figure(figsize=(9, 3.5))
    ax = fig.add_subplot()
    for col in positions.columns:
        ax.step(positions.index, positions[col], where="post", lw=1.0, label=col)
    ax.set_title(title)
    ax.set_ylim(-1.1, 1.1)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    return _finish(fig)


def plot_equity(equity: pd.DataFrame, path: str | Path, title: str = "Equity", focus: str | None = None) -> Path:
    """Save :func:`equity_figure` as a PNG at ``path``."""
    return _save(equity_figure(equity, title, focus), path)


def plot_drawdown(equity: pd.DataFrame, path: str | Path, title: str = "Drawdown") -> Path:
    """Save :func:`drawdown_figure` as a PNG at ``path``."""
    return _save(drawdown_figure(equity, title), path)


def plot_positions(positions: pd.DataFrame, path: str | Path, title: str = "Position (exposure)") -> Path:
    """Save :func:`positions_figure` as a PNG at ``path``."""
    return _save(positions_figure(positions, title), path)
