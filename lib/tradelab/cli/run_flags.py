"""The run-control flags shared by the PPO commands (`tradelab train ppo`, `tradelab curriculum`).

``--resume``, ``--fresh`` and ``--max-runtime`` are aliases of ``training.resume``, ``training.fresh`` and
``training.max_runtime`` of the PPO V3 config (:mod:`tradelab.cli.config_flags`); declared here once so
their names, help and keys cannot drift between the commands.
"""

from __future__ import annotations

from tradelab.cli.config_flags import Alias

__all__ = ["run_aliases"]


def run_aliases(what: str = "the run", prefix: str = "") -> tuple[Alias, ...]:
    """``--resume``, ``--fresh`` and ``--max-runtime``; ``what`` names what they act on in the help,
    ``prefix`` puts the PPO V3 keys under a section (the curriculum's ``ppo_overrides.``)."""
    return (
        Alias(("--resume",), f"{prefix}training.resume", const=True, help=f"continue {what} from its newest checkpoint"),
        Alias(("--fresh",), f"{prefix}training.fresh", const=True,
              help=f"start {what} over in a folder holding earlier checkpoints (they are removed)"),
        Alias(("--max-runtime",), f"{prefix}training.max_runtime",
              help="stop cleanly with a checkpoint after this wall time (3600, 90m, 11h; default auto: 11h on "
                   "Kaggle, unlimited locally; off); --resume continues"),
    )
