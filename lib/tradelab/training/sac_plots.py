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
    fig, ax = plt.subplots(figsize=(8, 3.5))
    rewards = np.asarray(ep["reward"], dtype=float)
    ax.plot(x, rewards, alpha=0.5, label="episode reward")
    smooth = _rolling(rewards)
    ax.plot(x[len(x) - len(smooth):], smooth, label="10-episode mean")
    ev = stats.get("eval", {})
    if ev.get("episode"):
        ax2 = ax.twinx()
        ax2.plot(ev["episode"], ev["sharpe_ratio"], "o--", color="tab:green", label="val Sharpe")
        ax2.set_ylabel("val Sharpe")
        ax2.legend(loc="lower right")
    ax.set(xlabel="episode", ylabel="reward", title="Episode rewards (train) and validation Sharpe")
    ax.legend(loc="upper left")
    figs["rewards"] = fig
    for key, title in (("actor_loss", "Actor loss"), ("alpha", "Entropy coefficient alpha")):
        fig, ax = plt.subplots(figsize=(8, 3.5))
        ax.plot(x, np.asarray(ep[key], dtype=float), marker=".", label=key.replace("_", " "))
        if key == "actor_loss" and np.isfinite(np.asarray(ep.get("aux_loss", []), dtype=float)).any():
            ax.plot(x, np.asarray(ep["aux_loss"], dtype=float), marker=".", label="auxiliary loss (agent 2)")
            ax.legend()
        ax.set(xlabel="episode", ylabel=key, title=f"{title} (mean per episode)")
        figs[key] = fig
    return figs


def plot_training(stats: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Save the three training figures as PNGs (atomic) under ``out_dir``; returns their paths."""
    import io

    import matplotlib.pyplot as plt

    from tradelab.utils import atomic_write_bytes

    paths = []
    for key, fig in training_figures(stats).items():
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        paths.append(atomic_write_bytes(Path(out_dir) / f"training_{key}.png", buf.getvalue()))
    return paths
