"""Agent 3's HMM regime probabilities: fitted on train, forward-filtered, causal."""

from __future__ import annotations

import numpy as np
import pytest

from tradelab.agents.regime import RegimeHMM
from tradelab.data.synthetic import regime_switching_gbm


@pytest.fixture(scope="module")
def fitted():
    frame = regime_switching_gbm(n_bars=900, seed=11)
    return RegimeHMM.fit(frame.iloc[:600], n_regimes=3, seed=0), frame


def test_forward_filter_is_causal(fitted):
    hmm, frame = fitted
    probs = hmm.filter(frame)
    assert probs.shape == (900, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    changed = frame.copy()
    t0 = 700
    rng = np.random.default_rng(1)
    shock = np.exp(np.cumsum(rng.normal(0, 0.05, len(frame) - t0 - 1)))
    for col in ("open", "high", "low", "close"):
        changed.iloc[t0 + 1:, changed.columns.get_loc(col)] *= shock
    probs2 = hmm.filter(changed)
    np.testing.assert_array_equal(probs[: t0 + 1], probs2[: t0 + 1])  # bars ≤ t0 untouched
    assert np.abs(probs[t0 + 1:] - probs2[t0 + 1:]).max() > 1e-3  # the future did change


def test_differs_from_smoothed_predict_proba(fitted):
    hmm, frame = fitted
    z = hmm.standardise(frame)
    smoothed = hmm.to_hmmlearn().predict_proba(z)
    filtered = hmm.filter(frame)
    # Same model: at the last bar filtering and smoothing coincide...
    np.testing.assert_allclose(filtered[-1], smoothed[-1], atol=1e-4)
    # ...but earlier, predict_proba uses future bars, so it differs.
    assert np.abs(filtered[:-50] - smoothed[:-50]).max() > 0.05
    # and smoothed probabilities at t move when only the future moves: the reason not to use it.
    z2 = z.copy()
    z2[701:] = z2[701:][::-1]
    smoothed2 = hmm.to_hmmlearn().predict_proba(z2)
    assert np.abs(smoothed2[690:701] - smoothed[690:701]).max() > 1e-6


def test_fit_on_train_only_and_round_trip(fitted):
    hmm, frame = fitted
    train_inputs = hmm.standardise(frame.iloc[:600])
    np.testing.assert_allclose(train_inputs.mean(axis=0), 0.0, atol=1e-9)  # standardised with TRAIN stats
    again = RegimeHMM.from_dict(hmm.to_dict())
    np.testing.assert_array_equal(again.filter(frame), hmm.filter(frame))
    vols = hmm.means[:, 1]
    assert np.all(np.diff(vols) > 0)  # regime 0 is the calmest
