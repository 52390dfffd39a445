"""The first window - 1 decisions of a validation/test episode see the real bars before the split (the purge
gap, stored in processed_data.h5), not zeros: for SAC, PPO, inference and backtests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tradelab.envs import TradingEnvConfig, TradingEnvironment

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

WINDOW = 6


@pytest.fixture(scope="module")
def h5(tmp_path_factory) -> Path:
    from tradelab.data.build import build_processed

    return Path(build_processed(assets=["GOOG"], out_dir=tmp_path_factory.mktemp("processed"))["h5"])


def _first_window(obs: np.ndarray, n_feat: int) -> np.ndarray:
    return obs[: WINDOW * n_feat].reshape(WINDOW, n_feat)


def test_h5_stores_the_purge_gap_before_val_and_test(h5):
    from tradelab.data import load_asset
    from tradelab.data.store import read_processed_h5

    store = read_processed_h5(h5)
    full = load_asset("GOOG").index
    for split in ("val", "test"):
        gap = store.frame(f"history_{split}", "GOOG")
        first = store.frame(split, "GOOG").index[0]
        assert len(gap) == store.metadata["purge_gap"]
        # the stored gap ends on the bar right before the split: contiguous real bars
        assert full.get_loc(first) - full.get_loc(gap.index[-1]) == 1
        assert np.isfinite(store.features(f"history_{split}", "GOOG").to_numpy()).all()


def test_sac_first_val_and_test_windows_are_the_real_previous_bars(h5):
    from tradelab.agents.sac_data import build_spec, history_features, load_split_data, prepare_features

    data = load_split_data(h5, "GOOG")
    spec = build_spec(data, 1, {})
    cfg = TradingEnvConfig(window=WINDOW)
    for split in ("val", "test"):
        feats = prepare_features(data.frames[split], data.features[split], spec)
        past = history_features(data, split, spec)
        env = TradingEnvironment(data.frames[split], feats, cfg, eval_mode=True, history=past)
        obs, _ = env.reset()
        expected = np.vstack([past.to_numpy()[-(WINDOW - 1):], feats.to_numpy()[:1]]).astype(np.float32)
        window = _first_window(obs, feats.shape[1])
        np.testing.assert_array_equal(window, expected)
        assert (np.abs(window).sum(1) > 0).all()  # no zero-padded bar
        padded, _ = TradingEnvironment(data.frames[split], feats, cfg, eval_mode=True).reset()
        assert (np.abs(_first_window(padded, feats.shape[1])).sum(1) == 0).sum() == WINDOW - 1  # the old way


def test_ppo_eval_env_and_backtest_use_the_bars_before_the_split():
    from tradelab.training.multiasset import prepare_data
    from tradelab.training.ppo import PPOV3Config, make_eval_env

    cfg = PPOV3Config.from_dict({"data": {"assets": ["GOOG"]}, "env": {"window": WINDOW, "max_assets": 1}})
    prepared = prepare_data(["GOOG"], splits=("train", "val"))
    val = prepared.split("val")
    assert val.history is not None
    obs = make_eval_env(cfg, val).reset()[0]
    feats = np.asarray(val.features["GOOG"], dtype=np.float32)
    expected = np.vstack([np.asarray(val.history["GOOG"], dtype=np.float32)[-(WINDOW - 1):], feats[:1]])
    window = _first_window(obs, feats.shape[1])
    np.testing.assert_array_equal(window, expected)
    assert (np.abs(window).sum(1) > 0).all()
    # the history is the real feature rows just before the split (the embedded source's own rows)
    src = prepared.reader
    before = src.feats["GOOG"].loc[src.feats["GOOG"].index < val.ohlcv["GOOG"].index[0]].iloc[-1]
    np.testing.assert_allclose(prepared.scalers["GOOG"].transform(before.to_frame().T), expected[-2:-1], rtol=1e-6)


def test_inference_on_an_h5_split_passes_the_gap_rows(h5, tmp_path):
    from tradelab.agents.sac import SACAgent, SACConfig
    from tradelab.agents.sac_data import build_spec, load_split_data, prepare_features
    from tradelab.inference import inference_data, load_agent

    data = load_split_data(h5, "GOOG")
    env_cfg = TradingEnvConfig(window=WINDOW)
    spec = build_spec(data, 1, env_cfg.to_dict())
    env = TradingEnvironment(data.frames["train"], prepare_features(data.frames["train"], data.features["train"], spec),
                             env_cfg)
    agent = SACAgent(SACConfig(hidden_dims=(8, 8)), agent_id=1, env=env)
    agent.spec = dict(spec)
    agent.save(tmp_path / "agent_1_best.pt")
    loaded, ckpt = load_agent(tmp_path / "agent_1_best.pt")
    got = inference_data(loaded, ckpt, h5, "test")
    assert got.history is not None and len(got.history) == data.metadata["purge_gap"]
    obs, _ = TradingEnvironment(got.ohlcv, got.features, env_cfg, eval_mode=True, history=got.history).reset()
    assert (np.abs(_first_window(obs, got.features.shape[1])).sum(1) > 0).all()
