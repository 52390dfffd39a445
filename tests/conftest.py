"""Shared fixtures: seeded synthetic OHLCV (unit tests only) and one-thread torch/TF."""

from __future__ import annotations

import os

os.environ.setdefault("TRADELAB_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tradelab.data.synthetic import regime_switching_gbm  # noqa: E402


@pytest.fixture
def ohlcv() -> pd.DataFrame:
    """1,500 seeded synthetic daily bars in the canonical OHLCV layout."""
    return regime_switching_gbm(n_bars=1500, seed=7)


@pytest.fixture
def ohlcv_small() -> pd.DataFrame:
    """400 seeded synthetic daily bars."""
    return regime_switching_gbm(n_bars=400, seed=3)
