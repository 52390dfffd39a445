"""``tradelab train sac``: the seed guide's SAC trainer (agents 1/2/3) on processed_data.h5.

Every key of :class:`~tradelab.training.sac_config.SACTrainingConfig` is a flag (``--sac.gamma 0.95``,
``--env.window 20``, ``--set KEY=VALUE``); the seed guide's flags (``--h5-path``, ``--num-episodes``,
``--agent-id`` ...) are aliases of its keys (:mod:`tradelab.cli.config_flags`).
"""

from __future__ import annotations

import argparse
import json

from tradelab.cli.config_flags import Alias, add_config_arguments, aliases, config_from_args
from tradelab.config import CONFIG_DIR
from tradelab.training.sac_config import PARAMETERS, SACTrainingConfig

HELP = "train a SAC agent (1 plain, 2 auxiliary return head, 3 HMM regimes) on processed_data.h5"
DESCRIPTION = (
    "Train on the train split (random episodes), evaluate on the whole val split every --eval-frequency "
    "episodes (best val Sharpe -> agent_{id}_best.pt), checkpoint every --checkpoint-frequency episodes "
    "(checkpoints/agent_{id}_ep{N}.pt + replay buffer), then backtest the best agent once on the test split "
    "against buy-and-hold, flat and SMA crossover at 0/1/2x costs. A killed run continues from its newest "
    "checkpoint when run again into the same --output-dir (or --resume PATH); --fresh starts over. The folder "
    "is locked while a run uses it. Every setting is a key of --config (configs/sac.yaml); the flags below "
    "override it, the last one given winning."
)

#: The seed guide's flags (document 002) and the short ones, each an alias of one config key.
ALIASES = (
    *aliases(PARAMETERS, ["h5_path", "output_dir", "num_episodes", "eval_frequency", "checkpoint_frequency",
                          "agent_id", "device", "asset", "episode_length", "warmup_steps", "seed", "threads",
                          "resume", "max_runtime"]),
    Alias(("--fresh",), "fresh", const=True),
    Alias(("--no-progress",), "progress", const=False, help="hide the progress bar"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = CONFIG_DIR / "sac.yaml"
    parser.add_argument("--config", default=str(default), help="SAC training YAML (every setting; default %(default)s)")
    add_config_arguments(parser, SACTrainingConfig, config_path=default, aliases=ALIASES, skip=("sac.seed",))


def main(args: argparse.Namespace) -> int:
    from tradelab.training.sac_trainer import train
    from tradelab.utils.runtime import check_device

    cfg = config_from_args(SACTrainingConfig, args)
    check_device(cfg.sac.device, "--device")  # before any data is read
    result = train(cfg)
    training = result.meta.get("training") or {}
    summary = {"output_dir": str(result.output_dir), "best_val_sharpe": training.get("best_val_sharpe"),
               "best_episode": training.get("best_episode")}
    for name in (result.focus, "buy_and_hold", "flat", "sma_crossover"):
        if name in result.strategies:
            summary[f"test_sharpe_{name}"] = result.strategies[name].get("sharpe_ratio")
    print(json.dumps(summary, indent=2, default=str))
    return 0
