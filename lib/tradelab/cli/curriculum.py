"""`tradelab curriculum --stage N`: one stage of the Ploutos 3-stage curriculum.

Flags are derived from :class:`~tradelab.training.curriculum_config.CurriculumRun` (:mod:`tradelab.cli.config_flags`);
``--set KEY=VALUE`` reaches the stage's PPO V3 keys (its ``ppo_overrides``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tradelab.cli.config_flags import Alias, add_config_arguments, config_from_args
from tradelab.cli.run_flags import run_aliases
from tradelab.training.curriculum_config import CurriculumRun

HELP = "run one stage of the 3-stage PPO curriculum (transfer, Optuna, gate, test vs baselines)"
DESCRIPTION = (
    "Run curriculum stage N: load stage N-1's final model (or --load-model), optionally tune "
    "learning_rate/n_steps/ent_coef with Optuna on the validation split (--auto-optimize), train, gate on "
    "the validation Sharpe, then backtest the test split beside buy-and-hold, flat and SMA crossover. "
    "Writes models/stage{N}_final.zip, stage{N}_report.json and metrics.json under --output-dir."
)

ALIASES = (
    Alias(("--stage",), "stage", required=True),
    Alias(("--config",), "config"),
    Alias(("--load-model",), "load_model"),
    Alias(("--auto-optimize",), "auto_optimize", const=True),
    Alias(("--n-trials",), "n_trials"),
    Alias(("--storage",), "storage"),
    Alias(("--output-dir",), "output_dir"),
    Alias(("--timesteps",), "timesteps"),
    Alias(("--tune-timesteps",), "tune_timesteps"),
    Alias(("--n-envs",), "n_envs"),
    Alias(("--seed",), "seed"),
    Alias(("--seeds",), "seeds", nargs="+", help="run once per seed (--seeds 0 1 2); report mean ± std"),
    Alias(("--force",), "force", const=True),
    Alias(("--smoke",), "smoke", const=True),
    *run_aliases("the stage", prefix="ppo_overrides."),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, CurriculumRun, aliases=ALIASES, set_prefix="ppo_overrides.", skip=("ppo_overrides",),
                         set_help="override a PPO V3 config key for this stage, e.g. ppo.net_arch=[64,64] (repeatable)")


def main(args: argparse.Namespace) -> int:
    from tradelab.training.curriculum import train

    run = config_from_args(CurriculumRun, args, config_path=None)
    result = train(run)
    if run.seeds:
        summary = result.meta["seeds"]
        print(f"stage {run.stage} over seeds {list(run.seeds)}: validation Sharpe "
              f"{summary['validation_sharpe_ratio_mean']} ± {summary['validation_sharpe_ratio_std']}, "
              f"test Sharpe {summary['test_sharpe_ratio_mean']} ± {summary['test_sharpe_ratio_std']}, "
              f"gates {summary['gates']}")
        return 0
    gate = result.meta["gate"]
    print(f"stage {run.stage}: validation Sharpe {gate['val_sharpe']:.3f} vs target {gate['target']} -> "
          f"{'PASSED' if gate['passed'] else 'FAILED'}; final model {result.meta['final_model']}")
    return 0


def run_from_argv(argv: Sequence[str] | None = None) -> int:
    """``python -m tradelab.training.curriculum --stage N ...`` (same options as `tradelab curriculum`)."""
    from tradelab.errors import TradelabError
    from tradelab.utils.tensorboard import skip_tensorflow

    skip_tensorflow()  # an entry point: see tradelab.utils.tensorboard
    parser = argparse.ArgumentParser(prog="python -m tradelab.training.curriculum", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return main(args)
    except TradelabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
