"""`tradelab train ppo`: PPO V3 on the multi-asset PortfolioEnv (every config key is a flag).

Flags are derived from :class:`~tradelab.training.ppo_config.PPOV3Config` (:mod:`tradelab.cli.config_flags`):
``--ppo.n_steps 64``, ``--env.window 10`` (the TradingEnvConfig keys of the ``env`` mapping),
``--set KEY=VALUE``; the short flags are aliases of its keys.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tradelab.cli.config_flags import Alias, add_config_arguments, aliases, config_from_args
from tradelab.cli.run_flags import run_aliases
from tradelab.config import CONFIG_DIR, config_fields
from tradelab.envs.config import TradingEnvConfig
from tradelab.training.ppo_config import PARAMETERS, SMOKE_OVERRIDES, PPOV3Config

HELP = "train PPO V3 (SB3) on the portfolio env; every config key can be overridden"
DESCRIPTION = (
    "Train Ploutos V3 PPO on the multi-asset PortfolioEnv. Writes TensorBoard logs, checkpoints, the best "
    "model on validation, the final model (+ scalers, config) and, at the end, the test backtest beside "
    "the baselines at 0/1/2x costs. Any config key: --SECTION.KEY VALUE or --set SECTION.KEY=VALUE; the "
    "last flag given wins."
)

ALIASES = (
    *aliases(PARAMETERS, ["total_timesteps", "output_dir", "seed", "h5_path", "load_model"]),
    *run_aliases(),
    Alias(("--skip-test",), "training.final_test", const=False, help="do not run the test backtest at the end"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = CONFIG_DIR / "ppo_v3.yaml"
    parser.add_argument("--config", default=str(default), metavar="YAML", help="PPO V3 YAML config")
    parser.add_argument("--smoke", action="store_true", help="tiny network and budget (a quick end-to-end check); "
                                                             "flags given still win")
    add_config_arguments(parser, PPOV3Config, config_path=default, aliases=ALIASES,
                         extra=config_fields(TradingEnvConfig, "env."))


def main(args: argparse.Namespace) -> int:
    from tradelab.training.ppo import train

    cfg = config_from_args(PPOV3Config, args, presets=SMOKE_OVERRIDES if args.smoke else None)
    result = train(cfg)
    print(f"final model: {result.meta.get('final_model')}  validation Sharpe: "
          f"{(result.meta.get('validation') or {}).get('sharpe_ratio')}")
    print(f"metrics: {Path(cfg.output_dir) / 'metrics.json'}")
    return 0
