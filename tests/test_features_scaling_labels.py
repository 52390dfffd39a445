"""The scaler is fitted on train rows only and travels as JSON; labels honour their horizon."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tradelab.data.split import temporal_split
from tradelab.errors import ConfigError, DataError
from tradelab.features import WARMUP_BARS, compute_features, feature_names
from tradelab.features.labels import LabelSpec, fit_label_spec, make_labels
from tradelab.features.scaling import FeatureScaler


@pytest.fixture(scope="module")
def parts(request) -> dict[str, pd.DataFrame]:
    from tradelab.data.synthetic import regime_switching_gbm

    ohlcv = regime_switching_gbm(n_bars=1500, seed=7)
    full = ohlcv.join(compute_features(ohlcv)).iloc[WARMUP_BARS:]
    return temporal_split(full).parts()


def test_scaler_statistics_equal_train_only_statistics(parts, tmp_path):
    train = parts["train"][feature_names()]
    scaler = FeatureScaler.fit(train)
    np.testing.assert_allclose(scaler.mean, train.mean().to_numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(scaler.std, np.where(train.std(ddof=0) > 0, train.std(ddof=0), 1.0), rtol=1e-10)
    everything = pd.concat([parts[s][feature_names()] for s in ("train", "val", "test")])
    assert not np.allclose(scaler.mean, everything.mean().to_numpy())
    scaled = scaler.transform(train)
    inside = scaled.abs() < scaler.clip
    np.testing.assert_allclose(scaled[inside].mean().fillna(0).abs().max(), 0.0, atol=0.2)
    assert scaler.transform(parts["test"]).to_numpy().dtype == np.float32
    assert np.abs(scaler.transform(parts["test"]).to_numpy()).max() <= scaler.clip


def test_scaler_json_round_trip(parts, tmp_path):
    scaler = FeatureScaler.fit(parts["train"], columns=feature_names()[:5])
    path = scaler.save(tmp_path / "scaler.json")
    json.loads(path.read_text())  # plain JSON, no pickle
    again = FeatureScaler.load(path)
    x = parts["val"][scaler.columns].to_numpy()
    np.testing.assert_array_equal(again.transform_array(x), scaler.transform_array(x))
    with pytest.raises(DataError, match="expected an array with 5 columns"):
        scaler.transform_array(np.zeros((3, 4)))
    with pytest.raises(DataError, match="scaler file not found"):
        FeatureScaler.load(tmp_path / "missing.json")


def test_labels_look_exactly_horizon_bars_ahead(ohlcv):
    spec = fit_label_spec(ohlcv.iloc[:1000], horizon=7)
    labels = make_labels(ohlcv, spec)
    assert (labels["label_signal"].iloc[-7:] == -1).all() and labels["label_volatility"].iloc[-7:].isna().all()
    assert (labels["label_regime"].iloc[-7:] == -1).all()
    known = labels.iloc[30:-7]
    assert known["label_signal"].isin([0, 1, 2]).all() and known["label_regime"].isin([0, 1, 2]).all()
    close = np.log(ohlcv["close"].to_numpy())
    t = 500
    r = np.diff(close)
    np.testing.assert_allclose(labels["label_volatility"].iloc[t], np.sqrt((r[t:t + 7] ** 2).sum()))
    sigma = pd.Series(np.diff(close, prepend=np.nan)).rolling(20).std().iloc[t]
    z = (close[t + 7] - close[t]) / (sigma * np.sqrt(7))
    assert labels["label_signal"].iloc[t] == (0 if z < -0.5 else 2 if z > 0.5 else 1)
    # changing bars after t + horizon does not change the label at t
    later = ohlcv.copy()
    later.iloc[t + 8:, :4] *= 2.0
    assert make_labels(later, spec).iloc[: t + 1].equals(labels.iloc[: t + 1])


def test_regime_thresholds_fitted_on_train_only(ohlcv):
    train = ohlcv.iloc[:1000]
    spec = fit_label_spec(train, horizon=5)
    assert spec.horizon == 5 and len(spec.regime_thresholds) == spec.n_regimes - 1
    r2 = np.diff(np.log(train["close"].to_numpy())) ** 2
    fwd = np.sqrt(pd.Series(r2).rolling(5).sum().to_numpy()[4:])  # all full 5-bar windows inside train
    np.testing.assert_allclose(spec.regime_thresholds, np.quantile(fwd, [1 / 3, 2 / 3]))
    everything = np.sqrt(pd.Series(np.diff(np.log(ohlcv["close"].to_numpy())) ** 2).rolling(5).sum().dropna())
    assert not np.allclose(spec.regime_thresholds, np.quantile(everything, [1 / 3, 2 / 3]))
    assert LabelSpec.from_json(spec.to_dict()) == spec
    with pytest.raises(ConfigError, match="regime_thresholds"):
        make_labels(ohlcv, LabelSpec())
