"""The ``tradelab`` command line: thin over the package, one module per command.

Each command module under ``tradelab.cli`` exposes ``HELP`` (one line), optionally
``DESCRIPTION``, ``add_arguments(parser)`` and ``main(args) -> int``. Command modules import
heavy libraries (TensorFlow, torch) inside ``main`` only, so ``--help`` stays instant. The training
commands derive their flags from the workflow's config (:mod:`tradelab.cli.config_flags`).
:func:`main` is the entry point: it alone makes the process-wide settings a command needs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tradelab import __version__
from tradelab.errors import TradelabError
from tradelab.utils.tensorboard import skip_tensorflow

# (command path, module). Groups ("train") are created from the first word.
COMMANDS: list[tuple[tuple[str, ...], str]] = [
    (("data",), "tradelab.cli.data"),
    (("train", "supervised"), "tradelab.cli.train_supervised"),
    (("train", "sac"), "tradelab.cli.train_sac"),
    (("train", "ppo"), "tradelab.cli.train_ppo"),
    (("curriculum",), "tradelab.cli.curriculum"),
    (("tune",), "tradelab.cli.tune"),
    (("run",), "tradelab.cli.run"),
    (("pipeline",), "tradelab.cli.pipeline"),
    (("infer",), "tradelab.cli.infer"),
    (("backtest",), "tradelab.cli.backtest"),
    (("kaggle",), "tradelab.cli.kaggle"),
]

GROUP_HELP = {"train": "train a model: supervised (Keras), sac (SB3 SAC agents), ppo (SB3 PPO V3)"}


def _load(module: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:  # command not built yet: leave it out of the parser
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradelab",
        description="Train and evaluate trading models: data, supervised Keras, SAC, PPO/curriculum, notebooks, Kaggle.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run `tradelab COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"tradelab {__version__}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups: dict[str, argparse._SubParsersAction] = {}
    for path, module_name in COMMANDS:
        module = _load(module_name)
        if module is None:
            continue
        if len(path) == 1:
            sub = top.add_parser(
                path[0],
                help=module.HELP,
                description=getattr(module, "DESCRIPTION", module.HELP),
                formatter_class=argparse.ArgumentDefaultsHelpFormatter,
            )
        else:
            if path[0] not in groups:
                gp = top.add_parser(path[0], help=GROUP_HELP.get(path[0], ""), description=GROUP_HELP.get(path[0]))
                groups[path[0]] = gp.add_subparsers(dest=f"{path[0]}_command", metavar="KIND", required=True)
            sub = groups[path[0]].add_parser(
                path[1],
                help=module.HELP,
                description=getattr(module, "DESCRIPTION", module.HELP),
                formatter_class=argparse.ArgumentDefaultsHelpFormatter,
            )
        module.add_arguments(sub)
        sub.set_defaults(_main=module.main)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; process-wide settings are made here, not on import: TensorBoard without
    TensorFlow, so SB3 loads in a fraction of a second (Keras lifts it when it needs ``tf.summary``)."""
    skip_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._main(args) or 0)
    except TradelabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the user gave: exists as a file, no permission, disk full...
        where = f" {exc.filename!r}" if exc.filename else ""
        hint = {FileExistsError: "it exists and is a file, not a folder: pass another path",
                NotADirectoryError: "a part of it is a file, not a folder: pass another path",
                IsADirectoryError: "it is a folder where a file is expected: pass a file path",
                PermissionError: "no permission: pick a writable location"}.get(type(exc), "check the path")
        print(f"error: {exc.strerror or exc} at{where}; {hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
