"""`tradelab run NOTEBOOK`: execute a parameterized notebook with papermill."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "run a notebook with papermill (-p key value, -f params.yaml); --list shows notebooks"
DESCRIPTION = (
    "Execute notebooks/NOTEBOOK.ipynb with parameters injected; the executed copy is saved as "
    "OUTPUT_DIR/NOTEBOOK.ipynb next to the artifacts it writes. Unknown parameters are an error."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("notebook", nargs="?", help="notebook name (02_sac), number (02) or path")
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
        help="set a parameter (value parsed as YAML: 3, 0.5, true, [1, 2])",
    )
    parser.add_argument("-f", "--parameters-file", type=Path, help="YAML mapping of parameters")
    parser.add_argument("--output-dir", type=Path, help="run folder for the executed notebook and its artifacts; None: outputs/NOTEBOOK")
    parser.add_argument("--list", action="store_true", help="list notebooks and their parameters")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _collect(args: argparse.Namespace) -> dict:
    from tradelab.config import load_yaml, parse_value

    params = dict(load_yaml(args.parameters_file)) if args.parameters_file else {}
    for key, value in args.parameter:
        params[key] = parse_value(value)
    return params


def _print_list() -> None:
    from tradelab.errors import NotebookError
    from tradelab.notebooks.runner import list_notebooks, notebook_parameters

    for path in list_notebooks():
        print(path.stem)
        try:
            params = notebook_parameters(path)
        except NotebookError as exc:
            print(f"  ! {exc}")
            continue
        for name, p in params.items():
            note = f"  # {p['help']}" if p["help"] else ""
            print(f"  {name:<18} = {p['default']}{note}")


def main(args: argparse.Namespace) -> int:
    from tradelab.errors import NotebookError
    from tradelab.notebooks.runner import run

    if args.list:
        _print_list()
        return 0
    if not args.notebook:
        raise NotebookError("name a notebook to run (e.g. `tradelab run 00_data`), or use --list")
    result = run(args.notebook, _collect(args), args.output_dir, progress_bar=not args.quiet)
    print(f"executed {result.executed} in {result.seconds:.1f}s")
    if result.metrics:
        print(f"metrics: {result.output_dir / 'metrics.json'}")
    return 0
