"""`tradelab pipeline demo`: run the notebooks in order into one run folder and write the report."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "run a notebook pipeline (demo: 00 → 05 on embedded data) and write report.md/html"
DESCRIPTION = (
    "Run the notebooks of a pipeline defined in configs/pipeline.yaml in order into one run folder "
    "(each notebook in its own sub-folder with its executed copy), then write report.md and "
    "report.html with the parameters, plots and one table of test metrics beside baselines."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", default="demo", help="pipeline name in the config")
    parser.add_argument("--output-dir", type=Path, default=Path("outputs/demo"), help="run folder")
    parser.add_argument(
        "--data-dir", type=Path, help="where 00_data writes processed_data.h5 and the parquets (default: RUN/processed)"
    )
    parser.add_argument("--smoke", action="store_true", help="much smaller budgets (tests, quick checks)")
    parser.add_argument("--seed", type=int, default=0, help="seed passed to every notebook")
    parser.add_argument("--config", type=Path, help="pipeline YAML (default configs/pipeline.yaml)")
    parser.add_argument("--quiet", action="store_true", help="no per-cell progress bars")


def main(args: argparse.Namespace) -> int:
    from tradelab.notebooks.pipeline import run_pipeline

    info = run_pipeline(
        args.name, args.output_dir, smoke=args.smoke, seed=args.seed, config_path=args.config,
        progress_bar=not args.quiet, data_dir=args.data_dir,
    )
    print(f"{args.name}: {len(info['stages'])} notebooks in {info['seconds']:.0f}s")
    print(f"report: {Path(info['run_dir']) / 'report.md'} (and report.html)")
    return 0
