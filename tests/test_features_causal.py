"""No look-ahead for every feature, the feature list, warm-up handling and price/volume scale-freeness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.features import FEATURE_GROUPS, WARMUP_BARS, compute_features, feature_names

GROUPS = {"trend", "momentum", "volatility", "volume", "support_resistance", "statistical", "price_action"}


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    return regime_switching_gbm(n_bars=600, seed=11)


@pytest.fixture(scope="module")
def full(series) -> pd.DataFrame:
    return compute_features(series)


def test_no_look_ahead_for_every_feature(series, full):
    """Features on the series truncated at t equal the full-series rows <= t, exactly."""
    rng = np.random.default_rng(2024)
    cuts = sorted({WARMUP_BARS, WARMUP_BARS + 1, len(series) - 2, *rng.integers(WARMUP_BARS, len(series) - 1, 20)})
    for t in cuts:
        part = compute_features(series.iloc[: t + 1])
        expected = full.iloc[: t + 1]
        for name in feature_names():
            np.testing.assert_array_equal(part[name].to_numpy(), expected[name].to_numpy(),
                                          err_msg=f"feature {name} changes when bars after t={t} are removed")


def test_future_shock_does_not_move_the_past(series, full):
    """A huge move at bar k leaves every feature value before k untouched."""
    k = 450
    shocked = series.copy()
    shocked.iloc[k:, :4] *= 3.0
    shocked.iloc[k:, 4] *= 10.0
    pd.testing.assert_frame_equal(compute_features(shocked).iloc[:k], full.iloc[:k])
    assert not np.allclose(compute_features(shocked).iloc[k].to_numpy(), full.iloc[k].to_numpy())


def test_feature_list_and_groups(full):
    names = feature_names()
    assert len(names) >= 50 and len(set(names)) == len(names)
    assert list(full.columns) == names == list(FEATURE_GROUPS)
    assert set(FEATURE_GROUPS.values()) == GROUPS
    from tradelab.features.technical import _all_groups  # every computed series is listed, none left out

    computed = _all_groups(regime_switching_gbm(n_bars=300, seed=1))
    assert {g: set(s) for g, s in computed.items()} == {g: {n for n in names if FEATURE_GROUPS[n] == g} for g in GROUPS}
    for required in ("rsi_14", "macd_rel", "adx_14", "atr_14_rel", "obv_slope_20", "pivot_r1_rel",
                     "high_252_rel", "hurst_100", "variance_ratio_5_100", "zscore_20", "gap_rel", "mfi_14"):
        assert required in names


def test_warmup_rows_nan_then_complete(full):
    assert full.iloc[:WARMUP_BARS].isna().all().all()
    assert np.isfinite(full.iloc[WARMUP_BARS:].to_numpy()).all()
    assert full.index.equals(regime_switching_gbm(n_bars=600, seed=11).index)


def test_features_are_scale_free(series, full):
    """Relative-to-price/volume features: prices x 37 and volume x 1000 give the same values."""
    scaled = series.copy()
    scaled[["open", "high", "low", "close"]] *= 37.0
    scaled["volume"] *= 1000.0
    other = compute_features(scaled).iloc[WARMUP_BARS:]
    np.testing.assert_allclose(other.to_numpy(), full.iloc[WARMUP_BARS:].to_numpy(), rtol=1e-6, atol=1e-9)


def test_zero_volume_series_keeps_rows(series):
    """FX-style zero volume: volume features are 0, no row is lost to NaN."""
    feats = compute_features(series.assign(volume=0.0))
    assert np.isfinite(feats.iloc[WARMUP_BARS:].to_numpy()).all()
    assert (feats.iloc[WARMUP_BARS:]["volume_ratio_20"] == 0).all()


def test_the_check_catches_a_look_ahead_indicator(series):
    """ta's Ichimoku (visual=True) fills with the whole-series mean: the truncation check flags it."""
    from ta.trend import IchimokuIndicator

    def span_a(frame: pd.DataFrame) -> np.ndarray:
        return IchimokuIndicator(frame["high"], frame["low"], visual=True).ichimoku_a().to_numpy()

    t = 400
    full_a, part = span_a(series), span_a(series.iloc[: t + 1])
    assert not np.array_equal(part, full_a[: t + 1], equal_nan=True)
    assert not any(name.startswith("ichimoku") for name in feature_names())
