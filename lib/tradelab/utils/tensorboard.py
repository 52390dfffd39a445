"""One process, two TensorBoard writers: SB3 (torch) and Keras (TF).

``tensorboard.compat`` imports all of TensorFlow (~3 s a process) unless its ``notf`` marker
module exists, in which case it uses its own TF stub, which writes the same event files. The marker
is process-wide, so only entry points set it (the CLI's ``main``, a notebook's ``setup_kernel()``,
the benchmark scripts, the test suite's conftest); a program that imports a trainer directly works
the same, it just loads TensorFlow once when SB3 is imported. Keras' TensorBoard callback lifts the
marker when it needs the real ``tf.summary`` API.
"""

from __future__ import annotations

import logging
import sys
import types

log = logging.getLogger(__name__)

_MARKER = "tensorboard.compat.notf"


def skip_tensorflow() -> None:
    """Make torch's SummaryWriter (SB3's logger) use TensorBoard's TF stub; call before SB3 loads."""
    if "tensorflow" not in sys.modules:
        sys.modules.setdefault(_MARKER, types.ModuleType(_MARKER))


def use_tensorflow_summaries() -> bool:
    """Point TensorBoard back at the real TF (Keras' TensorBoard callback needs ``tf.summary``).

    Drops the marker and, if TensorBoard already resolved ``compat.tf`` to the stub in this process
    (an SB3 run came first), re-points it at TF before ``compat.tf2`` resolves. False, with a warning,
    only if TF summaries stay unavailable (TensorBoard logs are then skipped).
    """
    import tensorboard.compat as tb_compat
    import tensorflow

    marker = sys.modules.get(_MARKER)
    if marker is not None and getattr(marker, "__file__", None) is None:
        del sys.modules[_MARKER]
    if getattr(tb_compat.tf, "__name__", "") == "tensorboard.compat.tensorflow_stub":
        tb_compat.tf = tensorflow  # modules that already hold the stub keep it
    try:
        tb_compat.tf2.summary  # noqa: B018  (resolves the lazy module now)
    except (ImportError, AttributeError) as exc:
        log.warning("TensorBoard logs skipped: TensorBoard cannot reach TF's summary API here (%s)", exc)
        return False
    return True
