"""The Kaggle loop: build dataset and kernel folders, drive the real ``kaggle`` CLI, wait, pull.

``push(spec, params)`` → ``wait(slug)`` → ``pull(slug)``; ``run`` chains them and ``resume``
pushes a continuation kernel that starts from the previous run's checkpoint. Specs per workflow
live in ``kaggle/specs/<workflow>.yaml`` (:func:`load_spec`).
"""

from tradelab.kaggle.cli_driver import CREDENTIALS_HELP, KaggleCLI, KernelStatus
from tradelab.kaggle.loop import KernelFailed, PushResult, load_state, prepare, pull, push, resume, run, wait
from tradelab.kaggle.spec import KaggleSpec, load_spec, resolve_owner, slugify

__all__ = [
    "CREDENTIALS_HELP",
    "KaggleCLI",
    "KaggleSpec",
    "KernelFailed",
    "KernelStatus",
    "PushResult",
    "load_spec",
    "load_state",
    "prepare",
    "pull",
    "push",
    "resolve_owner",
    "resume",
    "run",
    "slugify",
    "wait",
]
