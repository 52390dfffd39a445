"""The source of ``notebooks/00_data.ipynb`` (rebuild all notebooks: ``python -m tradelab.notebooks.build``)."""

from __future__ import annotations

from pathlib import Path

HEADER = """# 00 · Data: embedded real OHLCV → features, splits, stores

Builds `processed_data.h5` (train/val/test per asset, OHLCV + unscaled features) and
`{asset}_final.parquet` (features + labels + `split`) with `tradelab.data.build.build_processed`,
then shows each price with its split boundaries, a few features and the feature table.

* Features are computed on each asset's full history (causal); the warm-up rows are dropped and a
  purge gap of label horizon + warm-up bars separates train, val and test.
* **Writes** the stores under `out_dir` and `metrics.json` (rows per split, feature count, content
  hash) plus plots under `output_dir`.
* Same as `tradelab data build --assets ... --out ...`."""

PARAMETERS = '''assets = None  # embedded assets, e.g. ["GOOG", "SPX"]; None: all four (only the CSV when csv_path is set)
csv_path = None  # a user CSV/parquet, e.g. a Yahoo export (Date,Open,High,Low,Close,Adj Close,Volume)
csv_asset = "CUSTOM"  # the asset name for csv_path
fractions = [0.7, 0.15, 0.15]  # train / val / test
horizon = 5  # label horizon in bars
out_dir = "data/processed"  # where the stores go (relative to the working directory)
output_dir = "outputs/00_data"  # metrics.json and plots
smoke = False  # True: plot only the first asset (the build itself takes seconds)'''

CELLS = [
    '''from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from tradelab.data.build import build_processed
from tradelab.data.overview import data_metrics, feature_table, plot_features, plot_price_with_splits
from tradelab.data.store import read_processed_h5
from tradelab.utils import atomic_write_json

output_dir = Path(output_dir)
output_dir.mkdir(parents=True, exist_ok=True)''',
    '''csv = [(csv_path, csv_asset)] if csv_path else []
summary = build_processed(assets=assets, csv=csv, out_dir=out_dir, fractions=tuple(fractions), horizon=horizon)
data = read_processed_h5(summary["h5"])
pd.DataFrame(summary["rows"]).T.assign(labelled=pd.Series(summary["labelled_rows"]))''',
    "## Prices and split boundaries",
    '''for asset in data.assets[:1] if smoke else data.assets:
    ax = plot_price_with_splits(data, asset)
    ax.figure.savefig(output_dir / f"{asset.lower()}_splits.png", dpi=80, bbox_inches="tight")
    plt.show()''',
    "## A few features (unscaled, train split)",
    '''fig = plot_features(data, data.assets[0], ["rsi_14", "macd_rel", "atr_14_rel", "hurst_100", "bb_pct_b"])
fig.savefig(output_dir / "features.png", dpi=80, bbox_inches="tight")
plt.show()''',
    "## The feature table",
    '''table = feature_table()
print(f"{len(table)} features")
print(table.groupby("group").size().to_string())
pd.set_option("display.max_rows", 200)
table''',
    '''metrics = data_metrics(summary)
atomic_write_json(output_dir / "metrics.json", metrics)
metrics''',
]


def build(folder: str | Path) -> list[Path]:
    """Write ``00_data.ipynb`` into ``folder``."""
    from tradelab.notebooks.authoring import write_notebook

    return [write_notebook(Path(folder) / "00_data.ipynb", HEADER, PARAMETERS, CELLS)]
