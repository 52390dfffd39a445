"""`tradelab backtest`: baselines on one split of processed_data.h5 at several cost multipliers."""

from __future__ import annotations

import argparse

HELP = "backtest the baselines (buy-and-hold, flat, SMA crossover, random) on a processed split"
DESCRIPTION = (
    "Run buy-and-hold, flat, SMA crossover and random through the trading env (decision at t, fill at "
    "t+1 open, full cost model) on one split of processed_data.h5, at each cost multiplier. Writes "
    "metrics.json (strategies at 1x, by_cost and meta: see tradelab.results), equity.csv and equity/drawdown/position PNGs."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--h5-path", default="data/processed/processed_data.h5",
                        help="processed_data.h5 (or its folder), from `tradelab data build`")
    parser.add_argument("--asset", required=True, help="asset name in the h5 (e.g. SPX, EURUSD)")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"), help="split to backtest")
    parser.add_argument("--output-dir", required=True, help="folder for metrics.json, equity.csv and plots")
    parser.add_argument("--config", default=None, help="env YAML (TradingEnvConfig); default: built-in defaults")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="config overrides, e.g. costs.spread_bps=1 long_only=true")
    parser.add_argument("--cost-multipliers", nargs="+", type=float, default=[0.0, 1.0, 2.0],
                        help="cost multipliers of the sweep")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random baseline")


def main(args: argparse.Namespace) -> int:
    from tradelab.config import parse_sets
    from tradelab.data.store import read_processed_h5
    from tradelab.envs.config import TradingEnvConfig
    from tradelab.evaluation.report import evaluate_against_baselines
    from tradelab.features.scaling import FeatureScaler

    config = TradingEnvConfig.from_yaml(args.config, **parse_sets(args.set))
    store = read_processed_h5(args.h5_path)
    asset = store.resolve_asset(args.asset) or args.asset
    data = store.frame(args.split, asset)
    scaler = FeatureScaler.fit(store.features("train", asset))  # train rows only
    features = scaler.transform(store.features(args.split, asset))
    result = evaluate_against_baselines(None, data, features, config, args.output_dir,
                                        cost_multipliers=args.cost_multipliers, seed=args.seed,
                                        title=f"{asset} {args.split}",
                                        run_meta={"workflow": "backtest", "asset": asset, "split": args.split,
                                                  "data_hash": store.metadata.get("content_hash")})
    print(f"{asset} {args.split}: {len(data)} bars {data.index[0].date()} .. {data.index[-1].date()}")
    print(f"{'strategy':<15}{'cost':>6}{'total_ret':>11}{'sharpe':>8}{'max_dd':>8}{'trades':>8}")
    for cost, table in result.by_cost.items():
        for name, m in table.items():
            print(f"{name:<15}{cost:>6}{m['total_return']:>11.4f}{m['sharpe_ratio']:>8.3f}"
                  f"{m['max_drawdown']:>8.3f}{m['n_trades']:>8d}")
    print(f"wrote {args.output_dir}/metrics.json, equity.csv, equity.png, drawdown.png, position.png")
    return 0
