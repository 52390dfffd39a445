"""`tradelab train ppo`: PPO V3 on the multi-asset PortfolioEnv (every config key is a flag)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from tradelab.cli.run_flags import add_run_flags, run_overrides
from tradelab.config import CONFIG_DIR, parse_sets, parse_value

HELP = "train PPO V3 (SB3) on the portfolio env; every config key can be overridden"
DESCRIPTION = (
    "Train Ploutos V3 PPO on the multi-asset PortfolioEnv. Writes TensorBoard logs, checkpoints, the best "
    "model on validation, the final model (+ scalers, config) and, at the end, the test backtest beside "
    "the baselines at 0/1/2x costs. Any config key: --SECTION.KEY VALUE or --set SECTION.KEY=VALUE."
)


def _keys(cls: type, prefix: str) -> list[str]:
    """Dotted keys of a (nested) config dataclass."""
    out = []
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out += _keys(type(default), f"{prefix}{f.name}.")
        else:
            out.append(f"{prefix}{f.name}")
    return out


def _config_flags(parser: argparse.ArgumentParser) -> None:
    from tradelab.envs.config import TradingEnvConfig
    from tradelab.training.ppo import PPOV3Config

    group = parser.add_argument_group("config keys (override the YAML)")
    keys = [k for k in _keys(PPOV3Config, "") if k not in ("env", "output_dir")] + _keys(TradingEnvConfig, "env.")
    for key in keys:
        group.add_argument(f"--{key}", dest=f"cfg__{key}", type=parse_value, default=None, metavar="V",
                           help=f"override {key}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=str(CONFIG_DIR / "ppo_v3.yaml"), help="PPO V3 YAML config")
    parser.add_argument("--total-timesteps", type=int, help="training steps (training.total_timesteps)")
    parser.add_argument("--output-dir", help="run folder (output_dir)")
    parser.add_argument("--seed", type=int, help="random seed (training.seed)")
    parser.add_argument("--h5-path", help="processed_data.h5 to train on (data.h5_path)")
    parser.add_argument("--load-model", help="start from this PPO zip's weights")
    add_run_flags(parser)
    parser.add_argument("--skip-test", action="store_true", help="do not run the test backtest at the end")
    parser.add_argument("--smoke", action="store_true", help="tiny network and budget (a quick end-to-end check)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override any config key (repeatable)")
    _config_flags(parser)


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Dotted overrides from the generated flags, the short flags and --set (last wins)."""
    from tradelab.training.ppo import SMOKE_OVERRIDES

    out = dict(SMOKE_OVERRIDES) if args.smoke else {}
    out.update({k[len("cfg__"):]: v for k, v in vars(args).items() if k.startswith("cfg__") and v is not None})
    short = {"training.total_timesteps": args.total_timesteps, "output_dir": args.output_dir,
             "training.seed": args.seed, "data.h5_path": args.h5_path}
    out.update({k: v for k, v in short.items() if v is not None})
    out.update(run_overrides(args))
    out.update(parse_sets(args.set))
    return out


def main(args: argparse.Namespace) -> int:
    from tradelab.training.model_paths import resolve_model_path
    from tradelab.training.ppo import PPOV3Config, run_experiment

    cfg = PPOV3Config.from_yaml(args.config, **overrides_from_args(args))
    out = Path(cfg.output_dir)  # like PPO.load: "x" finds x.zip; also relative to the run's (models/) folder
    load_from = resolve_model_path(args.load_model, [out, out / "models"]) if args.load_model else None
    result = run_experiment(cfg, load_from=load_from, test=not args.skip_test)
    print(f"final model: {result['final_model']}  validation Sharpe: {result['validation'].get('sharpe_ratio')}")
    print(f"metrics: {Path(cfg.output_dir) / 'metrics.json'}")
    return 0
