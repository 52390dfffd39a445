"""`tradelab data build|check|list`: build the processed stores, validate a file, list assets."""

from __future__ import annotations

import argparse
import json

HELP = "build processed data (h5 + parquet), check an OHLCV file, list embedded assets"
DESCRIPTION = (
    "Data commands. `build` writes processed_data.h5, {asset}_final.parquet and feature_spec.json "
    "(with neither --assets nor --csv: all four embedded assets; with only --csv: only your files). "
    "`check PATH` validates a CSV/parquet OHLCV file. `list` shows the embedded assets."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter
    build = sub.add_parser("build", help="build processed_data.h5 + {asset}_final.parquet", formatter_class=fmt,
                           description="Compute features on each asset's full history, split in time with purge "
                           "gaps, fit label thresholds on train, write the stores.")
    build.add_argument("--assets", nargs="+", metavar="NAME", default=None,
                       help="embedded assets to build (GOOG EURUSD SPX NDX)")
    build.add_argument("--csv", action="append", default=[], metavar="PATH",
                       help="a user CSV/parquet file (repeatable; pair each with --asset)")
    build.add_argument("--asset", action="append", default=[], metavar="NAME",
                       help="asset name for the matching --csv (same order)")
    build.add_argument("--out", default="data/processed", help="output folder")
    build.add_argument("--fractions", nargs=3, type=float, default=(0.7, 0.15, 0.15),
                       metavar=("TRAIN", "VAL", "TEST"), help="split fractions")
    build.add_argument("--dates", nargs=2, default=None, metavar=("VAL_START", "TEST_START"),
                       help="split by dates instead of fractions")
    build.add_argument("--horizon", type=int, default=5, help="label horizon in bars")
    build.add_argument("--seed", type=int, default=0, help="seed (recorded; the build is deterministic)")
    build.add_argument("--replace", action="store_true",
                       help="drop assets an earlier build left in --out that are not in this one (without it such "
                       "a build is refused: runs trained on them read that folder)")
    build.set_defaults(_data_main=_build)
    check = sub.add_parser("check", help="validate an OHLCV CSV/parquet file", formatter_class=fmt,
                           description="Load PATH with the same checks every loader applies; exit 2 with the "
                           "problem, first offending row and fix, or print a summary.")
    check.add_argument("path", help="CSV or parquet file")
    check.add_argument("--asset", default=None, help="asset name used in messages")
    check.add_argument("--horizon", type=int, default=5, help="label horizon the build would use (sets the minimum rows)")
    check.set_defaults(_data_main=_check)
    lst = sub.add_parser("list", help="list the embedded assets", formatter_class=fmt,
                         description="Embedded real OHLCV that needs no network.")
    lst.set_defaults(_data_main=_list)


def main(args: argparse.Namespace) -> int:
    return int(args._data_main(args) or 0)


def _build(args: argparse.Namespace) -> int:
    from tradelab.data.build import build_processed
    from tradelab.errors import ConfigError

    if len(args.csv) != len(args.asset):
        raise ConfigError(f"got {len(args.csv)} --csv and {len(args.asset)} --asset; give one --asset NAME per --csv PATH")
    summary = build_processed(assets=args.assets, csv=list(zip(args.csv, args.asset)), out_dir=args.out,
                              fractions=tuple(args.fractions), horizon=args.horizon, seed=args.seed, dates=args.dates,
                              progress=True, replace=args.replace)
    print(f"wrote {summary['h5']} ({summary['n_features']} features, purge gap {summary['purge_gap']} bars)")
    for asset, rows in summary["rows"].items():
        print(f"  {asset:8s} train {rows['train']:6d}  val {rows['val']:6d}  test {rows['test']:6d}  -> "
              f"{summary['parquet'][asset]}")
    print(f"content hash {summary['content_hash']}")
    return 0


def min_build_rows(horizon: int = 5, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)) -> tuple[int, str]:
    """Fewest rows ``data build`` accepts for one asset (default fractions, this horizon), and what they are for.

    The warm-up rows are dropped, then the rest is split by ``fractions`` after two purge gaps, and every
    split needs ``MIN_SPLIT_ROWS`` rows: the smallest row count for which the build's own split succeeds.
    """
    from tradelab.data.split import MIN_SPLIT_ROWS, _positions_by_fraction, default_purge_gap
    from tradelab.features.technical import WARMUP_BARS

    gap = default_purge_gap(horizon)

    def fits(n: int) -> bool:
        return n >= 2 * gap + 3 * MIN_SPLIT_ROWS and all(
            b - a >= MIN_SPLIT_ROWS for a, b in _positions_by_fraction(n, fractions, gap))

    n = 2 * gap + 3 * MIN_SPLIT_ROWS
    while not fits(n):
        n += 1
    return (WARMUP_BARS + n, f"{WARMUP_BARS} warm-up bars, two purge gaps of {gap} and train/val/test splits "
                             f"({'/'.join(f'{f:g}' for f in fractions)}) of >= {MIN_SPLIT_ROWS} rows each")


def _check(args: argparse.Namespace) -> int:
    from tradelab.data.calendar import infer_frequency
    from tradelab.data.sources import load_file
    from tradelab.data.validate import require_rows

    frame = load_file(args.path, asset=args.asset)
    needed, why = min_build_rows(args.horizon)
    # The same rule `data build` applies: a file that passes here also builds.
    require_rows(len(frame), needed, f"{args.path}", f"the default build ({why}, horizon {args.horizon})")
    info = {
        "path": args.path,
        "rows": len(frame),
        "min_rows_for_build": needed,
        "start": frame.index[0].isoformat(),
        "end": frame.index[-1].isoformat(),
        "frequency": infer_frequency(frame.index) if len(frame) >= 3 else "unknown",
        "zero_volume_rows": int((frame["volume"] == 0).sum()),
    }
    print("OK " + json.dumps(info))
    return 0


def _list(args: argparse.Namespace) -> int:
    from tradelab.data.sources import EMBEDDED_ASSETS
    from tradelab.data.synthetic import DESCRIPTIONS, PLANTED_KINDS, planted_asset_name

    for name, asset in EMBEDDED_ASSETS.items():
        print(f"{name:8s} {asset.frequency:7s} {asset.source:26s} {asset.description}")
    print("\nplanted-signal markets (benchmark and test inputs, never real data; add _S<seed> for another draw):")
    for kind in PLANTED_KINDS:
        print(f"  {planted_asset_name(kind):24s} daily   {DESCRIPTIONS[kind]}")
    return 0
