"""``tradelab train sac``: the seed guide's SAC trainer (agents 1/2/3) on processed_data.h5."""

from __future__ import annotations

import argparse
import json

from tradelab.config import CONFIG_DIR

HELP = "train a SAC agent (1 plain, 2 auxiliary return head, 3 HMM regimes) on processed_data.h5"
DESCRIPTION = (
    "Train on the train split (random episodes), evaluate on the whole val split every --eval-frequency "
    "episodes (best val Sharpe -> agent_{id}_best.pt), checkpoint every --checkpoint-frequency episodes "
    "(checkpoints/agent_{id}_ep{N}.pt + replay buffer), then backtest the best agent once on the test split "
    "against buy-and-hold, flat and SMA crossover at 0/1/2x costs. A killed run continues from its newest checkpoint when run again into the same --output-dir (or "
    "--resume PATH); --fresh starts over. The folder is locked while a run uses it."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--h5-path", default="data/processed/processed_data.h5", help="processed_data.h5")
    parser.add_argument("--output-dir", default="outputs/sac", help="run folder")
    parser.add_argument("--num-episodes", type=int, default=100, help="total training episodes")
    parser.add_argument("--eval-frequency", type=int, default=10, help="validate every N episodes")
    parser.add_argument("--checkpoint-frequency", type=int, default=5, help="checkpoint every N episodes")
    parser.add_argument("--agent-id", type=int, default=1, choices=(1, 2, 3), help="which agent")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--asset", default=None, help="asset in the file (default: the first)")
    parser.add_argument("--episode-length", type=int, default=None, help="steps per episode (config: 3000)")
    parser.add_argument("--warmup-steps", type=int, default=None, help="random steps before learning (config: 5000)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (config: 0)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default 1 / TRADELAB_THREADS)")
    parser.add_argument("--resume", default=None, metavar="PATH",
                        help="checkpoint .pt, run or checkpoints folder (newest), or glob pattern to continue from")
    parser.add_argument("--fresh", action="store_true",
                        help="start over although --output-dir holds checkpoints (default: resume from the newest)")
    parser.add_argument("--max-runtime", metavar="DURATION", default=None,
                        help="stop cleanly with a checkpoint after this wall time (3600, 90m, 11h; default auto: "
                             "11h on Kaggle, unlimited locally; off); the next run continues")
    parser.add_argument("--config", default=str(CONFIG_DIR / "sac.yaml"), help="SAC training YAML")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def main(args: argparse.Namespace) -> int:
    from tradelab.training.sac_trainer import KaggleTrainer
    from tradelab.utils.runtime import check_device, parse_max_runtime

    check_device(args.device, "--device")  # before any data is read
    parse_max_runtime(args.max_runtime, "--max-runtime")

    trainer = KaggleTrainer(
        h5_path=args.h5_path, output_dir=args.output_dir, num_episodes=args.num_episodes,
        eval_frequency=args.eval_frequency, checkpoint_frequency=args.checkpoint_frequency,
        agent_id=args.agent_id, device=args.device, asset=args.asset, episode_length=args.episode_length,
        warmup_steps=args.warmup_steps, seed=args.seed, threads=args.threads, resume_from=args.resume,
        config=args.config, progress=not args.no_progress, fresh=args.fresh, max_runtime=args.max_runtime,
    )
    from tradelab.results import RunResult

    _, stats = trainer.run_training()
    summary = {"output_dir": str(trainer.output_dir), "best_val_sharpe": stats["best_val_sharpe"],
               "best_episode": stats["best_episode"]}
    test = RunResult.read(trainer.output_dir).strategies  # {} when max_runtime stopped it before the test
    for name in (f"sac_agent_{args.agent_id}", "buy_and_hold", "flat", "sma_crossover"):
        if name in test:
            summary[f"test_sharpe_{name}"] = test[name].get("sharpe_ratio")
    print(json.dumps(summary, indent=2, default=str))
    return 0
