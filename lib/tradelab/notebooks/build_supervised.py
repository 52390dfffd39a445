"""The source of ``notebooks/01_supervised.ipynb`` (``python -m tradelab.notebooks.build``)."""

from __future__ import annotations

from pathlib import Path

from tradelab.notebooks.authoring import write_notebook

HEADER = """# 01 · Morningstar: supervised multi-task model

Trains the hybrid CNN+LSTM (`tradelab.models.hybrid`) on `{asset}_final.parquet` with three heads:
trading signal (sell/hold/buy), forward volatility and volatility regime. Validation drives
checkpointing and early stopping; the test split is scored once at the end, beside naive
baselines and a logistic regression on the same windows, and the signal head is traded with a
causal sign rule (long if P(buy) > P(sell), short if lower; decided at t, filled at t+1's open)
through the env at 1x costs, beside buy-and-hold and flat. Everything (model, scaler, config, metrics, plots) lands in
`output_dir`; `tradelab train supervised` runs the same code from the shell."""

PARAMETERS = '''asset = "goog"  # embedded asset (goog, eurusd, spx, ndx) or any built {asset}_final.parquet
epochs = 30  # maximum epochs (early stopping on the signal head's val loss may end sooner)
batch_size = 32  # windows per batch
lr = 0.0003  # Adam learning rate (configs/supervised.yaml says why)
seed = 42  # seeds python, numpy, TF and Keras
data_dir = "data/processed"  # folder with {asset}_final.parquet
build_data_if_missing = True  # build the embedded asset's parquet into data_dir when absent
config_path = None  # YAML config; None -> configs/supervised.yaml
output_dir = "outputs/01_supervised"  # artifact folder: model.keras, metrics.json, plots
smoke = False  # tiny model and budget (tests, make demo)'''

CELLS = [
    '''%matplotlib inline
import json
from pathlib import Path

import pandas as pd
from IPython.display import display

from tradelab import load_artifacts
from tradelab.config import CONFIG_DIR
from tradelab.data import load_asset
from tradelab.models.hybrid_metrics import SIGNAL_CLASS_NAMES, summary_frame
from tradelab.training import supervised_plots as plots
from tradelab.training.supervised import notebook_config, train_supervised
from tradelab.training.supervised_data import ensure_final_parquet

parquet = ensure_final_parquet(asset, data_dir, build_if_missing=build_data_if_missing)
cfg = notebook_config(config_path or CONFIG_DIR / "supervised.yaml", output_dir, smoke=smoke, asset=asset,
                      epochs=1 if smoke else epochs, batch_size=None if smoke else batch_size, lr=lr,
                      data_dir=data_dir, seed=seed)
print(parquet)
cfg.to_dict()''',
    "## Train (Keras progress below) and score val, then test once",
    '''metrics = train_supervised(cfg)
run = Path(metrics["artifact_dir"])
display(summary_frame(metrics).round(4))''',
    "## Trading the signal head: sign rule at 1x costs (Morningstar, logistic regression) beside buy-and-hold and flat",
    '''pd.DataFrame({(split, name): row for split, table in metrics["trading"].items() for name, row in table.items()}).T.round(3)''',
    "## Learning curves per head (train loss is class-weighted, val loss is not)",
    '''plots.plot_learning_curves(json.loads((run / "history.json").read_text()));''',
    "## Confusion matrices on the test split",
    '''labels = json.loads((run / "labels.json").read_text())
plots.plot_confusion_matrix(metrics["test"]["trading_signal_output"]["model"]["confusion_matrix"], list(SIGNAL_CLASS_NAMES), "signal (test)")
plots.plot_confusion_matrix(metrics["test"]["market_regime_output"]["model"]["confusion_matrix"], labels["regime_names"], "regime (test)");''',
    "## Predicted vs realised volatility on the test split",
    '''test_preds = pd.read_csv(run / "predictions_test.csv", index_col=0, parse_dates=True)
plots.plot_volatility(test_preds);''',
    "## The artifact folder alone predicts from raw OHLCV",
    '''predictor = load_artifacts(run)
latest = predictor.predict(load_asset(asset)).tail(5)
print(sorted(p.name for p in run.iterdir()))
latest''',
]

def build(folder: str | Path) -> list[Path]:
    """Write ``01_supervised.ipynb`` into ``folder``."""
    return [write_notebook(Path(folder) / "01_supervised.ipynb", HEADER, PARAMETERS, CELLS)]
