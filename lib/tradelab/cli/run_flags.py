"""The run-control flags shared by the PPO commands (`tradelab train ppo`, `tradelab curriculum`).

``--resume``, ``--fresh`` and ``--max-runtime`` map to ``training.resume``, ``training.fresh`` and
``training.max_runtime`` of the PPO V3 config; declared here once so their names, help and mapping
cannot drift between the commands.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_run_flags", "run_overrides"]


def add_run_flags(parser: argparse.ArgumentParser, what: str = "the run") -> None:
    """Add ``--resume``, ``--fresh`` and ``--max-runtime``; ``what`` names what they act on in the help."""
    parser.add_argument("--resume", action="store_true", help=f"continue {what} from its newest checkpoint")
    parser.add_argument("--fresh", action="store_true",
                        help=f"start {what} over in a folder holding earlier checkpoints (they are removed)")
    parser.add_argument("--max-runtime", metavar="DURATION",
                        help="stop cleanly with a checkpoint after this wall time (3600, 90m, 11h; "
                             "default auto: 11h on Kaggle, unlimited locally; off); --resume continues")


def run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The dotted config overrides the run flags set (flags left out set nothing)."""
    flags = {"training.resume": True if args.resume else None, "training.fresh": True if args.fresh else None,
             "training.max_runtime": args.max_runtime}
    return {k: v for k, v in flags.items() if v is not None}
