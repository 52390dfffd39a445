"""PPO V3: config defaults, multi-asset alignment errors, a tiny real training run via the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradelab.config import CONFIG_DIR
from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import ConfigError, DataError
from tradelab.results import RunResult
from tradelab.training.multiasset import align_assets
from tradelab.training.ppo import PPOV3Config, policy_kwargs

TINY = ["--ppo.net_arch", "[32,32]", "--ppo.net_arch_pi", "[32,32]", "--ppo.net_arch_vf", "[32,32]", "--ppo.n_steps", "64",
        "--ppo.batch_size", "64", "--ppo.n_epochs", "2", "--training.n_envs", "2",
        "--training.checkpoint_freq", "128", "--training.eval_freq", "128", "--training.progress_bar", "false",
        "--env.window", "10", "--env.episode_lengths", "[64]"]


def write_assets(folder: Path, n_bars: int = 1300, names: tuple[str, ...] = ("AAA", "BBB")) -> list[str]:
    """Synthetic CSVs (tests only) standing in for users' asset files."""
    paths = []
    for i, name in enumerate(names):
        df = regime_switching_gbm(n_bars=n_bars, seed=11 + i)
        path = folder / f"{name}.csv"
        df.reset_index().to_csv(path, index=False)
        paths.append(str(path))
    return paths


def test_v3_defaults_from_yaml_and_network():
    cfg = PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml")
    p = cfg.ppo
    assert (p.learning_rate, p.batch_size, p.n_steps, p.n_epochs) == (1e-4, 512, 512, 10)  # issue 11's retune
    assert (p.gamma, p.gae_lambda, p.clip_range, p.ent_coef, p.target_kl, p.max_grad_norm) == (
        0.9, 0.95, 0.2, 0.0, None, 0.5)
    assert cfg.training.normalize_obs and cfg.training.normalize_reward
    kw = policy_kwargs(p)
    assert p.architecture == "shared" and kw["share_features_extractor"] is True
    assert kw["net_arch"] == {"pi": [], "vf": []} and kw["features_extractor_kwargs"]["net_arch"] == [1024, 512, 256]
    sep = policy_kwargs(p.replace(architecture="separate"))
    assert sep["net_arch"] == {"pi": [1024, 512, 256], "vf": [1024, 512, 256]}
    assert kw["activation_fn"].__name__ == "Tanh"
    assert cfg.training.vec_env == "batched" and cfg.training.threads == 1


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="training.vec_env"):
        PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml", **{"training.vec_env": "threads"})
    with pytest.raises(ConfigError, match="unknown key"):
        PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml", **{"ppo.learning_rat": 1e-3})
    with pytest.raises(ConfigError, match="max_assets"):
        PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml", **{"env.max_assets": 2})


def test_align_assets_common_timestamps_and_errors():
    a = regime_switching_gbm(n_bars=300, seed=1)
    b = regime_switching_gbm(n_bars=300, seed=2, start="2010-03-01")
    aligned = align_assets({"A": a, "B": b}, min_rows=100)
    assert aligned["A"].index.equals(aligned["B"].index)
    assert aligned["A"].index[0] == b.index[0] and len(aligned["A"]) < 300
    with pytest.raises(DataError, match="share only .* common timestamps"):
        align_assets({"A": a, "B": b}, min_rows=290)
    hourly = regime_switching_gbm(n_bars=300, seed=3, freq="h")
    with pytest.raises(DataError, match="mixed bar frequencies"):
        align_assets({"A": a, "H": hourly})


def test_scalers_fitted_on_train_rows_only(tmp_path):
    from tradelab.training.multiasset import prepare_data

    assets = write_assets(tmp_path, names=("AAA",))
    prep = prepare_data(assets, min_overlap=100, splits=("train", "val"))
    train = prep.split("train").features[assets[0]]
    # Scaled train features have ~zero mean; val (unseen by the scaler) does not have to.
    centre = np.nanmean(np.clip(train.to_numpy(), -4, 4), axis=0)
    assert np.nanmedian(np.abs(centre)) < 0.2
    assert "test" not in prep.splits
    assert prep.split("val").ohlcv[assets[0]].index[0] > train.index[-1]


@pytest.mark.slow
def test_train_ppo_cli_writes_checkpoints_best_final_tensorboard(tmp_path):
    from stable_baselines3 import PPO

    from tradelab.cli import main
    from tradelab.training.callbacks import read_scalars

    assets = write_assets(tmp_path)
    out = tmp_path / "run"
    rc = main(["train", "ppo", "--total-timesteps", "256", "--output-dir", str(out), "--seed", "3",
               "--set", f"data.assets={json.dumps(assets)}", "--set", "data.min_overlap=100", *TINY])
    assert rc == 0
    assert (out / "checkpoints" / "ppo_v3_128_steps.zip").is_file()
    assert (out / "checkpoints" / "ppo_v3_256_steps.zip").is_file()
    assert (out / "best_model.zip").is_file() and (out / "final_model.zip").is_file()
    scalers = json.loads((out / "final_model.scalers.json").read_text())
    assert set(scalers["scalers"]) == set(assets)
    resolved = json.loads((out / "config.json").read_text())
    assert resolved["ppo"]["net_arch_pi"] == [32, 32] and resolved["training"]["seed"] == 3
    result = RunResult.read(out)
    assert np.isfinite(result.meta["validation"]["total_return"]) and result.workflow == "ppo"
    assert "ppo_v3" in result.strategies and "buy_and_hold" in result.strategies and result.focus == "ppo_v3"
    assert result.meta["results"] == ["test/metrics.json"] and result.asset == result.meta["assets"]
    assert RunResult.read(out / "test").by_cost == result.by_cost
    model = PPO.load(out / "final_model.zip")
    assert model.policy.action_space.shape == (3,)
    tags = set(read_scalars(out / "tensorboard")["tag"])
    assert {"train/approx_kl", "train/entropy_loss", "train/explained_variance"} <= tags
    assert {"trading/equity", "trading/total_return", "trading/n_trades", "trading/episode_reward"} <= tags
    assert isinstance(pd.read_csv(out / "test" / "equity.csv"), pd.DataFrame)


@pytest.mark.slow
def test_seeded_run_repeats_exactly_and_resume_continues(tmp_path):
    from stable_baselines3 import PPO

    from tradelab.cli import main
    from tradelab.training.ppo import params_sha256

    assets = write_assets(tmp_path, names=("AAA",))
    base = ["train", "ppo", "--seed", "4", "--skip-test", "--set", f"data.assets={json.dumps(assets)}",
            "--set", "data.min_overlap=100", "--training.tensorboard", "false", *TINY]
    for name in ("a", "b"):
        assert main([*base, "--total-timesteps", "128", "--output-dir", str(tmp_path / name)]) == 0
    sha = [params_sha256(PPO.load(tmp_path / n / "final_model.zip")) for n in ("a", "b")]
    assert sha[0] == sha[1]
    assert main([*base, "--total-timesteps", "256", "--output-dir", str(tmp_path / "a"), "--resume"]) == 0
    assert (tmp_path / "a" / "checkpoints" / "ppo_v3_256_steps.zip").is_file()
    assert RunResult.read(tmp_path / "a").meta["num_timesteps"] == 256


def test_prepare_data_from_processed_h5(tmp_path):
    from tradelab.data.build import build_processed
    from tradelab.training.multiasset import prepare_data

    a, b = write_assets(tmp_path)
    build_processed(assets=[], csv=[(a, "AAA"), (b, "BBB")], out_dir=tmp_path / "proc")
    h5 = tmp_path / "proc" / "processed_data.h5"
    prep = prepare_data(["aaa", "BBB"], h5_path=h5, min_overlap=100, splits=("train", "val"))
    assert prep.assets == ["AAA", "BBB"] and set(prep.splits) == {"train", "val"}
    train, val = prep.split("train"), prep.split("val")
    assert train.ohlcv["AAA"].index.equals(train.ohlcv["BBB"].index)
    assert list(train.features["AAA"].columns) == prep.feature_names
    assert prep.load("test").ohlcv["AAA"].index[0] > val.ohlcv["AAA"].index[-1]
    with pytest.raises(DataError, match="not in the file"):
        prepare_data(["AAA", "ZZZ"], h5_path=h5, min_overlap=100)


def test_wandb_only_when_installed_and_asked(tmp_path):
    import importlib.util

    from tradelab.training.ppo import _start_wandb

    cfg = PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml")
    assert _start_wandb(cfg, tmp_path) is None  # not asked: never imported, never required
    if importlib.util.find_spec("wandb") is None:
        with pytest.raises(ConfigError, match="pip install wandb"):
            _start_wandb(cfg.replace(training=cfg.training.replace(wandb=True)), tmp_path)
