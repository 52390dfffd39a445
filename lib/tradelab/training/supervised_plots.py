"""Plots of a supervised run, read from its artifact folder: learning curves, confusion matrices, volatility."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradelab.models.hybrid import HEADS, REGIME_HEAD, SIGNAL_HEAD
from tradelab.models.hybrid_metrics import SIGNAL_CLASS_NAMES
from tradelab.results import RunResult
from tradelab.utils import read_json

__all__ = ["plot_learning_curves", "plot_confusion_matrix", "plot_volatility", "save_run_plots"]


def _pyplot() -> Any:
    import matplotlib.pyplot as plt  # headless machines fall back to Agg on their own

    return plt


def plot_learning_curves(history: dict[str, list[float]]) -> Any:
    """One panel per head (its loss, train vs val) plus the total loss."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(HEADS) + 1, figsize=(4 * (len(HEADS) + 1), 3.2))
    for ax, prefix in zip(axes, ("", *(f"{h}_" for h in HEADS))):
        key = f"{prefix}loss"
        for split, style in (("", "-"), ("val_", "--")):
            if f"{split}{key}" in history:
                ax.plot(np.arange(1, len(history[f"{split}{key}"]) + 1), history[f"{split}{key}"], style,
                        label=f"{split or 'train_'}loss".rstrip("_"))
        ax.set_title(prefix.rstrip("_") or "total", fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(matrix: list[list[int]] | np.ndarray, class_names: list[str], title: str) -> Any:
    """A labelled confusion matrix (rows true, columns predicted)."""
    plt = _pyplot()
    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_volatility(predictions: pd.DataFrame, title: str = "volatility: predicted vs realised (test)") -> Any:
    """Predicted volatility against the realised forward volatility, over time."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(predictions.index, predictions["true_volatility"], lw=0.8, label="realised")
    ax.plot(predictions.index, predictions["volatility"], lw=0.8, label="predicted")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def save_run_plots(run_dir: str | Path) -> list[Path]:
    """Write ``learning_curves.png``, ``confusion_signal.png``, ``confusion_regime.png``, ``volatility_test.png``."""
    plt = _pyplot()
    run_dir = Path(run_dir)
    heads = RunResult.read(run_dir).meta["heads"]
    labels = read_json(run_dir / "labels.json", "labels")
    preds = pd.read_csv(run_dir / "predictions_test.csv", index_col=0, parse_dates=True)
    figures = {
        "learning_curves.png": plot_learning_curves(read_json(run_dir / "history.json", "history")),
        "confusion_signal.png": plot_confusion_matrix(
            heads["test"][SIGNAL_HEAD]["model"]["confusion_matrix"], list(SIGNAL_CLASS_NAMES), "signal (test)"),
        "confusion_regime.png": plot_confusion_matrix(
            heads["test"][REGIME_HEAD]["model"]["confusion_matrix"], labels["regime_names"], "regime (test)"),
        "volatility_test.png": plot_volatility(preds),
    }
    paths = []
    for name, fig in figures.items():
        fig.savefig(run_dir / name, dpi=110)
        plt.close(fig)
        paths.append(run_dir / name)
    return paths
