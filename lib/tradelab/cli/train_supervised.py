"""`tradelab train supervised`: the Morningstar multi-task Keras model (flags override the YAML)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tradelab.config import CONFIG_DIR

HELP = "train the supervised multi-task Keras model (CNN+LSTM: signal, volatility, regime)"
DESCRIPTION = (
    "Train the hybrid CNN+LSTM on DATA_DIR/{asset}_final.parquet (build it with `tradelab data build`) "
    "and write the artifact folder (model.keras, scalers.json, features.json, labels.json, config.yaml, "
    "history.json, metrics.json, train.log). Flags left unset take their value from --config."
)

# flag dest -> dotted config key
_OVERRIDES = {
    "asset": "data_loader_params.asset",
    "epochs": "training_params.epochs",
    "batch_size": "data_loader_params.batch_size",
    "lr": "training_params.learning_rate",
    "val_split": "data_loader_params.val_split",
    "save_path": "paths.save_path",
    "data_dir": "paths.data_dir",
    "seed": "training_params.seed",
    "threads": "training_params.threads",
    "time_window": "data_loader_params.time_window",
    "verbose": "training_params.verbose",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=str(CONFIG_DIR / "supervised.yaml"), help="YAML config")
    parser.add_argument("--asset", default=argparse.SUPPRESS, help="asset (config default: goog)")
    parser.add_argument("--epochs", type=int, default=argparse.SUPPRESS, help="maximum epochs (config default: 50)")
    parser.add_argument("--batch_size", "--batch-size", type=int, default=argparse.SUPPRESS, help="batch size (config default: 32)")
    parser.add_argument("--lr", type=float, default=argparse.SUPPRESS, help="Adam learning rate (config default: 0.0003)")
    parser.add_argument("--val_split", "--val-split", type=float,
                        default=argparse.SUPPRESS, help="re-split train+val: last fraction is val (config default: the parquet's split)")
    parser.add_argument("--save_path", "--save-path",
                        default=argparse.SUPPRESS, help="artifact folder or a .keras/.h5 file in it (config default: outputs/mstar)")
    parser.add_argument("--data-dir", "--data_dir", dest="data_dir", default=argparse.SUPPRESS, help="processed data folder (config default: data/processed)")
    parser.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="seed (config default: 42)")
    parser.add_argument("--threads", type=int, default=argparse.SUPPRESS, help="TF threads (config default: TRADELAB_THREADS or 1)")
    parser.add_argument("--time-window", "--time_window", dest="time_window", type=int, default=argparse.SUPPRESS, help="window length in bars")
    parser.add_argument("--verbose", type=int, choices=(0, 1, 2), default=argparse.SUPPRESS, help="Keras progress output")
    parser.add_argument("-o", "--override", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                        help="any config key, dotted (e.g. model_params.use_attention true)")


def config_from_args(args: argparse.Namespace):
    """The resolved :class:`SupervisedConfig`: YAML, then ``--override`` pairs, then named flags."""
    from tradelab.config import parse_value
    from tradelab.training.supervised import SupervisedConfig

    overrides = {key: parse_value(value) for key, value in args.override}
    flags = {key: getattr(args, dest, None) for dest, key in _OVERRIDES.items()}
    overrides.update({key: value for key, value in flags.items() if value is not None})
    return SupervisedConfig.from_yaml(args.config, **overrides)


def main(args: argparse.Namespace) -> int:
    from tradelab.training.supervised import summary_line, train_supervised

    metrics = train_supervised(config_from_args(args))
    print(f"val:  {summary_line(metrics['val'])}")
    print(f"test: {summary_line(metrics['test'])}")
    print(f"artifacts: {metrics['artifact_dir']}")
    return 0


def run_from_argv(argv: Sequence[str]) -> int:
    """``python -m tradelab.training.supervised ARGS`` → same as ``tradelab train supervised ARGS``."""
    from tradelab.cli import main as cli_main

    return cli_main(["train", "supervised", *argv])
