#!/usr/bin/env python
"""The seed guide's Kaggle entry point: same flags as ``tradelab train sac``.

    python kaggle/train_sac_kaggle.py --h5-path /kaggle/input/<dataset>/processed_data.h5 \
        --output-dir /kaggle/working --num-episodes 100 --eval-frequency 10 \
        --checkpoint-frequency 5 --agent-id 1 --device auto [--resume PATH]

Makes ``tradelab`` importable when it is attached as a Kaggle dataset (``/kaggle/input/*/lib``)
or sits beside this file in a clone, then runs the CLI command.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _make_importable() -> None:
    try:
        import tradelab  # noqa: F401

        return
    except ImportError:
        pass
    here = Path(__file__).resolve().parent
    candidates = [here.parent / "lib", *Path("/kaggle/input").glob("*/lib"), *Path("/kaggle/input").glob("*/*/lib")]
    for lib in candidates:
        if (lib / "tradelab" / "__init__.py").is_file():
            sys.path.insert(0, str(lib))
            return
    sys.exit("error: cannot find the tradelab package: attach the tradelab code dataset or pip install it")


def main(argv: list[str] | None = None) -> int:
    _make_importable()
    from tradelab.cli import main as cli_main

    return cli_main(["train", "sac", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
