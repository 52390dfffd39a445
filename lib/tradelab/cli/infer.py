"""`tradelab infer`: backtest a lone SAC checkpoint (agent_1_best.pt) on an h5 split or a CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "backtest a SAC .pt checkpoint alone on processed data or a new OHLCV CSV"
DESCRIPTION = (
    "Load agent_N_best.pt with weights-only loading, rebuild features and scaling from what it "
    "carries, run it deterministically and write metrics.json, equity.csv, actions.csv and plots "
    "vs buy-and-hold into --output-dir. No run folder needed."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="path to agent_N_best.pt")
    parser.add_argument(
        "--h5-path", type=Path, default=Path("data/processed/processed_data.h5"),
        help="processed_data.h5 (from `tradelab data build`); ignored with --csv",
    )
    parser.add_argument("--split", default="test", choices=("train", "val", "test"), help="h5 split")
    parser.add_argument("--asset", help="asset name (default: the checkpoint's asset)")
    parser.add_argument("--csv", type=Path, help="OHLCV CSV the agent never saw (used instead of the h5)")
    parser.add_argument("--output-dir", type=Path, required=True, help="where results are written")
    parser.add_argument("--seed", type=int, default=0, help="seed (the backtest is deterministic)")
    parser.add_argument("--max-bars", type=int, help="trade only the last N bars (quick check)")
    parser.add_argument("--allow-other-market", action="store_true",
                        help="trade an asset or bar frequency the agent was not trained on (refused without it)")


def main(args: argparse.Namespace) -> int:
    from tradelab.inference import run_inference

    result = run_inference(
        args.checkpoint, args.output_dir, h5_path=None if args.csv else args.h5_path, split=args.split,
        asset=args.asset, csv_path=args.csv, seed=args.seed, max_bars=args.max_bars,
        allow_other_market=args.allow_other_market,
    )
    info = result.meta["inference"]
    print(f"{info['source']}: {info['n_bars']} bars {info['start']} → {info['end']}")
    print(f"{'strategy':<16}{'total_return':>14}{'sharpe':>10}{'max_dd':>10}")
    for name, m in result.strategies.items():
        print(f"{name:<16}{m['total_return']:>14.4f}{m['sharpe_ratio']:>10.3f}{m['max_drawdown']:>10.4f}")
    print(f"wrote {args.output_dir}/metrics.json, equity.csv, actions.csv and plots")
    return 0
