"""Shared fixtures: seeded synthetic OHLCV (unit tests only) and one-thread torch/TF."""

from __future__ import annotations

import os

os.environ.setdefault("TRADELAB_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tradelab.data.synthetic import regime_switching_gbm  # noqa: E402
from tradelab.utils.tensorboard import skip_tensorflow  # noqa: E402

# The test session is an entry point: TensorBoard without TensorFlow, as the CLI and notebooks set it
# (tests that need TF's summaries get them through Keras' callback, which lifts the marker).
skip_tensorflow()


@pytest.fixture
def ohlcv() -> pd.DataFrame:
    """1,500 seeded synthetic daily bars in the canonical OHLCV layout."""
    return regime_switching_gbm(n_bars=1500, seed=7)


@pytest.fixture
def ohlcv_small() -> pd.DataFrame:
    """400 seeded synthetic daily bars."""
    return regime_switching_gbm(n_bars=400, seed=3)


@contextmanager
def lock_held_by_another_process(folder: Path, what: str) -> Iterator[subprocess.Popen]:
    """A child process holding ``folder``'s run lock (as ``what``) for the block; SIGKILLed after it."""
    code = ("import sys, time; from tradelab.utils.lock import run_lock\n"
            f"with run_lock(sys.argv[1], {what!r}):\n    print('held', flush=True); time.sleep(60)\n")
    lib = Path(__file__).resolve().parents[1] / "lib"
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True,
                            env=os.environ | {"PYTHONPATH": str(lib)})
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def pg_cluster(request):
    """A throwaway PostgreSQL server for the session (tests/pg_cluster.py), stopped at the end even
    on failure. Missing binaries fail the test (never a silent pass) unless TRADELAB_SKIP_POSTGRES=1."""
    from pg_cluster import MISSING, SKIP_ENV, find_bindir, start_cluster

    if find_bindir() is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{SKIP_ENV}=1: PostgreSQL tests skipped on request")
        pytest.fail(MISSING)
    cluster = start_cluster()
    request.addfinalizer(cluster.stop)
    return cluster
