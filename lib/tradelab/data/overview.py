"""Tables, plots and metrics the data notebook shows (kept here so the notebook stays thin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tradelab.data.split import SPLITS
from tradelab.data.store import ProcessedData

__all__ = ["feature_table", "plot_price_with_splits", "plot_features", "data_metrics"]

_COLORS = {"train": "tab:blue", "val": "tab:orange", "test": "tab:green"}


def feature_table() -> pd.DataFrame:
    """One row per feature: name, group, and whether `ta` or tradelab computes it."""
    from tradelab.features.technical import FEATURE_GROUPS, feature_names

    names = feature_names()
    own = {"support_resistance", "statistical", "price_action"}
    return pd.DataFrame({
        "feature": names,
        "group": [FEATURE_GROUPS[n] for n in names],
        "computed_by": ["tradelab" if FEATURE_GROUPS[n] in own else "ta" for n in names],
    })


def plot_price_with_splits(data: ProcessedData, asset: str, ax: Any = None) -> Any:
    """Close price coloured by split; the purge gaps show as breaks between colours."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(11, 3.5))[1]
    for split in SPLITS:
        close = data.frame(split, asset)["close"]
        ax.plot(close.index, close.to_numpy(), color=_COLORS[split], lw=0.9, label=f"{split} ({len(close)} bars)")
        ax.axvline(close.index[0], color=_COLORS[split], ls=":", lw=0.8)
    ax.set_title(f"{asset}: close by split (purge gap {data.metadata.get('purge_gap')} bars between parts)")
    ax.legend(loc="upper left")
    return ax


def plot_features(data: ProcessedData, asset: str, names: list[str], split: str = "train") -> Any:
    """A few unscaled features of one split, one panel each."""
    import matplotlib.pyplot as plt

    feats = data.features(split, asset)[names]
    # constrained layout keeps the title right above the first panel (a fixed top margin left a gap)
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 1.5 * len(names)), sharex=True, layout="constrained")
    for ax, name in zip(list(getattr(axes, "flat", [axes])), names):
        ax.plot(feats.index, feats[name].to_numpy(), lw=0.7)
        ax.set_ylabel(name, rotation=0, ha="right", fontsize=8)
    fig.suptitle(f"{asset} {split}: selected features")
    return fig


def data_metrics(summary: dict[str, Any], output_dir: str | Path) -> Any:
    """What the notebook records in metrics.json, a RunResult (workflow "data", no strategies):
    ``meta.data`` = rows per split, feature count, hash, paths; ``meta.data_hash`` = the content hash."""
    from tradelab.results import RunResult, make_meta

    data = {
        "n_features": summary["n_features"],
        "rows": summary["rows"],
        "labelled_rows": summary["labelled_rows"],
        "purge_gap": summary["purge_gap"],
        "content_hash": summary["content_hash"],
        "h5": str(Path(summary["h5"])),
        "parquet": summary["parquet"],
    }
    meta = make_meta("data", asset=list(summary["rows"]) or None, data_hash=summary["content_hash"], data=data)
    return RunResult({}, {}, meta, Path(output_dir))
