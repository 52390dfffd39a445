#!/usr/bin/env python
"""The seed guide's Kaggle entry point: same flags as ``tradelab train sac``, and the trainer itself.

    python kaggle/train_sac_kaggle.py --h5-path /kaggle/input/<dataset>/processed_data.h5 \
        --output-dir /kaggle/working --num-episodes 100 --eval-frequency 10 \
        --checkpoint-frequency 5 --agent-id 1 --device auto [--resume PATH]

or, copied to ``/kaggle/working`` (the seed guide's notebook recipe)::

    import sys; sys.path.insert(0, '/kaggle/working')
    from train_sac_kaggle import KaggleTrainer
    trainer = KaggleTrainer(num_episodes=50, eval_frequency=5, checkpoint_frequency=10)

Importing this file makes ``tradelab`` importable when it is attached as a Kaggle dataset
(``/kaggle/input/*/lib``, ``/kaggle/input/*/*/lib``) or sits beside this file in a clone. It is an
entry point, so it also makes the process-wide setting the trainer wants: TensorBoard without
TensorFlow (:func:`tradelab.utils.tensorboard.skip_tensorflow`), before SB3 is imported.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _make_importable() -> None:
    try:
        import tradelab  # noqa: F401

        return
    except ImportError:
        pass
    here = Path(__file__).resolve().parent
    inputs = Path(os.environ.get("TRADELAB_KAGGLE_ROOT", "/kaggle")) / "input"
    candidates = [here.parent / "lib", here / "lib", *sorted(inputs.glob("*/lib")), *sorted(inputs.glob("*/*/lib")),
                  *sorted(inputs.glob("*/*/*/lib"))]
    for lib in candidates:
        if (lib / "tradelab" / "__init__.py").is_file():
            sys.path.insert(0, str(lib))
            return
    raise ImportError("cannot find the tradelab package: attach the tradelab code dataset "
                      f"(searched {[str(c) for c in candidates] or [str(inputs)]}) or `pip install` it")


_make_importable()

from tradelab.utils.tensorboard import skip_tensorflow  # noqa: E402

skip_tensorflow()

from tradelab.agents.sac import SACAgent, SACConfig  # noqa: E402
from tradelab.envs.config import TradingEnvConfig  # noqa: E402
from tradelab.envs.trading_env import TradingEnvironment  # noqa: E402
from tradelab.training.sac_trainer import KaggleTrainer, SACTrainingConfig  # noqa: E402

__all__ = ["KaggleTrainer", "SACTrainingConfig", "SACAgent", "SACConfig", "TradingEnvConfig", "TradingEnvironment",
           "main"]


def main(argv: list[str] | None = None) -> int:
    from tradelab.cli import main as cli_main

    return cli_main(["train", "sac", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
