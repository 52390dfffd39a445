"""Training plots of a SAC run (the seed's monitoring section): episode rewards, actor loss, alpha."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["training_figures", "plot_training"]


def _rolling(values: np.ndarray, window: int = 10) -> np.ndarray:
    if len(values) == 0:
        return values
    kernel = min(window, len(values))
    return np.convolve(values, np.ones(kernel) / kernel, mode="valid")


def training_figures(stats: dict[str, Any]) -> dict[str, Any]:
    """Three matplotlib figures keyed ``rewards``, ``actor_loss``, ``alpha`` from trainer stats."""
    import matplotlib.pyplot as plt

    ep = stats["episodes"]
    x = np.asarray(ep["episode"], dtype=float)
    figs: dict[str, Any] = {}
    fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    rewards = np.asarray(ep["reward"], dtype=float)
    ax.plot(x, rewards, alpha=0.5, label="episode reward")
    smooth = _rolling(rewards)
    ax.plot(x[len(x) - len(smooth):], smooth, label="10-episode mean")
    ev = stats.get("eval", {})
    if ev.get("episode"):
        ax2 = ax.twinx()
        ax2.plot(ev["episode"], ev["sharpe_ratio"], "o--", color="tab:green", label="val Sharpe")
        ax2.set_ylabel("val Sharpe")
    ax.set(xlabel="episode", ylabel="reward")
    _legend_below(fig, "Episode rewards (train) and validation Sharpe")
    figs["rewards"] = fig
    for key, title in (("actor_loss", "Actor loss"), ("alpha", "Entropy coefficient alpha")):
        fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
        ax.plot(x, np.asarray(ep[key], dtype=float), marker=".", label=key.replace("_", " "))
        ax.set(xlabel="episode", ylabel=key)
        if key == "actor_loss" and np.isfinite(np.asarray(ep.get("aux_loss", []), dtype=float)).any():
            ax.plot(x, np.asarray(ep["aux_loss"], dtype=float), marker=".", label="auxiliary loss (agent 2)")
            _legend_below(fig, f"{title} (mean per episode)")
        else:
            ax.set_title(f"{title} (mean per episode)")
        figs[key] = fig
    return figs


def _legend_below(fig: Any, title: str) -> None:
    """Title, and one legend for every axis (twin axes too) in a row under the plot: it never covers a curve."""
    handles, labels = [], []
    for ax in fig.axes:
        h, lab = ax.get_legend_handles_labels()
        handles, labels = handles + h, labels + lab
    fig.axes[0].set_title(title)
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False)


def plot_training(stats: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Save the three training figures as PNGs (atomic) under ``out_dir``; returns their paths."""
    import io

    import matplotlib.pyplot as plt

    from tradelab.utils import atomic_write_bytes

    paths = []
    for key, fig in training_figures(stats).items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)  # laid out by its constrained layout
        plt.close(fig)
        paths.append(atomic_write_bytes(Path(out_dir) / f"training_{key}.png", buf.getvalue()))
    return paths
