"""`tradelab train supervised`: the Morningstar multi-task Keras model.

Flags are derived from :class:`~tradelab.training.supervised_config.SupervisedConfig`
(:mod:`tradelab.cli.config_flags`): every key is ``--section.key VALUE`` (``--model_params.use_attention
true``) or ``--set KEY=VALUE``; seed 001's flags (``--epochs``, ``--batch_size`` ...) are aliases of its keys.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from tradelab.cli.config_flags import add_config_arguments, aliases, config_from_args
from tradelab.config import CONFIG_DIR
from tradelab.training.supervised_config import PARAMETERS, SupervisedConfig

HELP = "train the supervised multi-task Keras model (CNN+LSTM: signal, volatility, regime)"
DESCRIPTION = (
    "Train the hybrid CNN+LSTM on DATA_DIR/{asset}_final.parquet (build it with `tradelab data build`) "
    "and write the artifact folder (model.keras, scalers.json, features.json, labels.json, config.yaml, "
    "history.json, metrics.json, train.log). Flags left unset take their value from --config; the last "
    "flag given wins."
)

ALIASES = aliases(PARAMETERS, ["asset", "epochs", "batch_size", "lr", "val_split", "save_path", "data_dir", "seed",
                               "threads", "time_window", "verbose"], underscore=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = CONFIG_DIR / "supervised.yaml"
    parser.add_argument("--config", default=str(default), metavar="YAML", help="YAML config")
    add_config_arguments(parser, SupervisedConfig, config_path=default, aliases=ALIASES)


def main(args: argparse.Namespace) -> int:
    from tradelab.training.supervised import summary_line, train

    result = train(config_from_args(SupervisedConfig, args))
    heads = result.meta["heads"]
    print(f"val:  {summary_line(heads['val'])}")
    print(f"test: {summary_line(heads['test'])}")
    print(f"artifacts: {result.output_dir}")
    return 0


def run_from_argv(argv: Sequence[str]) -> int:
    """``python -m tradelab.training.supervised ARGS`` → same as ``tradelab train supervised ARGS``."""
    from tradelab.cli import main as cli_main

    return cli_main(["train", "supervised", *argv])
