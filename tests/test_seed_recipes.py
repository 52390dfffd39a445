"""Every recipe of ../shared/SEED_RECIPES.md, executed as written or as its documented equivalent (issue 12).

Embedded real data (EURUSD hourly, GOOG daily; no network), tiny budgets, tmp folders; ``/kaggle/...``
paths become a sandbox laid out like Kaggle's (``TRADELAB_KAGGLE_ROOT``). Budgets differ from the documents' (100 episodes, 20 M steps) only in
size: flags, values of every other kind, file names and snippets are the documents'.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tradelab.cli import main as cli
from tradelab.errors import CheckpointError, ConfigError, DataError

ROOT = Path(__file__).resolve().parents[1]
TINY_SAC = {"sac.hidden_dims": [32, 32], "sac.batch_size": 32, "sac.buffer_capacity": 4000, "env.window": 8}
TINY_PPO = ["ppo.n_steps=64", "training.n_envs=2", "ppo.net_arch_pi=[32,32]", "ppo.net_arch_vf=[32,32]", "ppo.batch_size=64", "ppo.n_epochs=2",
            "training.checkpoint_freq=128", "training.eval_freq=128", "training.progress_bar=false",
            "env.window=10", "env.episode_lengths=[64]", "data.min_overlap=100"]


def sets(*items: str) -> list[str]:
    return [x for s in items for x in ("--set", s)]


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    """processed_data.h5 + {asset}_final.parquet of the embedded EURUSD (hourly) and GOOG (daily)."""
    from tradelab.data.build import build_processed

    out = tmp_path_factory.mktemp("processed")
    build_processed(assets=["EURUSD", "GOOG"], out_dir=out)
    return out


@pytest.fixture(scope="module")
def kaggle(processed, tmp_path_factory) -> Path:
    """A sandbox laid out like Kaggle's: input/trading-data/processed_data.h5, working/train_sac_kaggle.py."""
    root = tmp_path_factory.mktemp("kaggle")
    (root / "input" / "trading-data").mkdir(parents=True)
    (root / "working").mkdir()
    shutil.copy(processed / "processed_data.h5", root / "input" / "trading-data" / "processed_data.h5")
    shutil.copy(ROOT / "kaggle" / "train_sac_kaggle.py", root / "working" / "train_sac_kaggle.py")
    return root


@pytest.fixture
def on_kaggle(kaggle, monkeypatch) -> Path:
    monkeypatch.setenv("TRADELAB_KAGGLE_ROOT", str(kaggle))
    monkeypatch.syspath_prepend(str(kaggle / "working"))  # the recipe's sys.path.insert(0, '/kaggle/working')
    return kaggle


def tiny_sac_yaml(folder: Path) -> Path:
    from tradelab.config import load_yaml, set_dotted

    data = load_yaml(ROOT / "configs" / "sac.yaml")
    for key, value in TINY_SAC.items():
        set_dotted(data, key, value)
    path = folder / "sac_tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# -- Document 000/001: supervised model -----------------------------------------------------------------
@pytest.mark.parametrize("argv, asset", [
    ([], "goog"),  # python model/training/training_script.py → tradelab train supervised
    (["--asset", "eth", "--epochs", "100"], "eth"),
    (["--asset", "sol", "--lr", "0.0005", "--save_path", "model/training/sol_model_v1.h5"], "sol"),
    (["--asset", "btc"], "btc"),
])
def test_supervised_asset_without_data_says_how_to_build_it(argv, asset, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli(["train", "supervised", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "Traceback" not in err
    assert f"data/processed/{asset}_final.parquet" in err and "tradelab data build" in err
    if asset != "goog":  # not embedded: the fix is the user's own CSV
        assert f"--csv YOUR_{asset.upper()}.csv --asset {asset.upper()}" in err


@pytest.mark.slow
def test_supervised_config_epochs_batch_size_save_path(processed, tmp_path, monkeypatch, capsys):
    """`--config config/config.yaml --epochs 5 --batch_size 64`, then `--asset ... --save_path X.h5`."""
    from tradelab.config import load_yaml, set_dotted

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "processed").mkdir(parents=True)
    shutil.copy(processed / "goog_final.parquet", tmp_path / "data" / "processed" / "goog_final.parquet")
    data = load_yaml(ROOT / "configs" / "supervised.yaml")
    for key, value in {"model_params.cnn_filters": [8], "model_params.lstm_units": [8], "model_params.dense_units": 8,
                       "data_loader_params.time_window": 12, "callback_params.tensorboard": False,
                       "training_params.make_plots": False}.items():
        set_dotted(data, key, value)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(data))
    assert set(data) >= {"paths", "data_loader_params", "model_params", "training_params", "callback_params"}
    argv = ["train", "supervised", "--config", "config/config.yaml", "--epochs", "5", "--batch_size", "64",
            "--save_path", "model/training/goog_model_v1.h5"]
    assert cli(argv) == 0
    out = capsys.readouterr().out
    assert "test:" in out and "Epoch 1/5" in out  # progress, final metrics printed
    assert out.count("Epoch ") == 5, "one line per epoch when stdout is not a terminal"
    run = tmp_path / "model" / "training"
    assert (run / "checkpoints" / "best.keras").is_file() and (run / "scalers.json").is_file()
    resources = json.loads((run / "resources.json").read_text())  # CPU/memory monitored per epoch
    assert resources["epoch"] == [1, 2, 3, 4, 5] and min(resources["rss_mb"]) > 10
    assert "rss_mb" not in json.loads((run / "history.json").read_text())  # measured, not learned
    assert (run / "train.log").read_text().count("epoch ") >= 5


def test_supervised_seed_config_key_names(tmp_path):
    from tradelab.training.supervised import SupervisedConfig

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"paths": {"processed_data_path": "data/x", "model_save_path": "m.h5",
                                              "log_dir": "logs"},
                                    "model_params": {"time_window": 20, "lstm_units": 32},
                                    "training_params": {"epochs": 5, "batch_size": 64, "optimizer": "adam"}}))
    cfg = SupervisedConfig.from_yaml(path, **{"training_params.epochs": 2})
    assert (cfg.paths.data_dir, cfg.paths.save_path, cfg.paths.log_dir) == ("data/x", "m.h5", "logs")
    assert (cfg.data_loader_params.time_window, cfg.data_loader_params.batch_size) == (20, 64)
    assert cfg.training_params.epochs == 2 and cfg.model_params.lstm_units == (32,)
    path.write_text(yaml.safe_dump({"paths": {"model_save_path": "a", "save_path": "b"}}))
    with pytest.raises(ConfigError, match="both given"):
        SupervisedConfig.from_yaml(path)
    path.write_text(yaml.safe_dump({"training_params": {"optimizer": "sgd"}}))
    with pytest.raises(ConfigError, match="Adam only"):
        SupervisedConfig.from_yaml(path)


# -- Document 002: SAC on Kaggle -------------------------------------------------------------------------
@pytest.mark.slow
def test_kaggle_notebook_recipe_outputs_and_monitoring_snippet(on_kaggle, tmp_path):
    from train_sac_kaggle import KaggleTrainer

    trainer = KaggleTrainer(
        h5_path=f"{on_kaggle}/input/trading-data/processed_data.h5",
        output_dir=f"{on_kaggle}/working",
        num_episodes=5, eval_frequency=5, checkpoint_frequency=5,
        agent_id=1, device="auto",
        episode_length=32, warmup_steps=16, config=tiny_sac_yaml(tmp_path), progress=False)
    agent, stats = trainer.run_training()
    work = on_kaggle / "working"
    for name in ("agent_1_best.pt", "agent_1_final.pt", "checkpoints/agent_1_ep5.pt", "checkpoints/metrics_ep5.json",
                 "logs/training_stats.json", "logs/training_stats.npz", "logs/training.log"):
        assert (work / name).is_file(), name
    stats = json.load(open(f"{on_kaggle}/working/logs/training_stats.json"))  # the seed's monitoring snippet
    assert len(stats["episode_rewards"]) == 5 and len(stats["actor_losses"]) == 5 and len(stats["alpha_values"]) == 5
    assert len(stats["critic_losses"]) == 5 and len(stats["eval_sharpe"]) == len(stats["eval_rewards"]) == 1
    assert stats["episode_rewards"] == stats["episodes"]["reward"] and stats["eval_sharpe"] == stats["eval"]["sharpe_ratio"]


@pytest.mark.slow
def test_kaggle_script_command_line(kaggle, tmp_path):
    env = {**os.environ, "TRADELAB_KAGGLE_ROOT": str(kaggle), "TRADELAB_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = tmp_path / "working"
    res = subprocess.run(
        [sys.executable, "train_sac_kaggle.py", "--h5-path", f"{kaggle}/input/trading-data/processed_data.h5",
         "--output-dir", str(out), "--num-episodes", "2", "--eval-frequency", "1", "--checkpoint-frequency", "1",
         "--agent-id", "1", "--device", "auto", "--episode-length", "32", "--warmup-steps", "16",
         "--config", str(tiny_sac_yaml(tmp_path)), "--no-progress"],
        cwd=kaggle / "working", capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (out / "agent_1_best.pt").is_file() and (out / "checkpoints" / "agent_1_ep2.pt").is_file()
    assert len(json.loads((out / "logs" / "training_stats.json").read_text())["episode_rewards"]) == 2


def test_quick_and_full_configurations_with_default_paths(on_kaggle, tmp_path, monkeypatch):
    from train_sac_kaggle import KaggleTrainer

    from tradelab import SACConfig, TradingEnvConfig

    trainer = KaggleTrainer(num_episodes=50, eval_frequency=5, checkpoint_frequency=10)  # quick test
    assert trainer.h5_path == on_kaggle / "input" / "trading-data" / "processed_data.h5"
    assert trainer.output_dir == on_kaggle / "working"
    trainer = KaggleTrainer(num_episodes=500, eval_frequency=10, checkpoint_frequency=20)  # full
    assert (trainer.num_episodes, trainer.eval_frequency, trainer.checkpoint_frequency) == (500, 10, 20)
    config = SACConfig(buffer_capacity=50000, batch_size=512)
    env_config = TradingEnvConfig(episode_lengths=[2000])
    assert config.batch_size == 512 and list(env_config.episode_lengths) == [2000]
    # Off Kaggle: the local defaults.
    monkeypatch.setenv("TRADELAB_KAGGLE_ROOT", str(tmp_path / "not_kaggle"))
    monkeypatch.chdir(tmp_path)
    trainer = KaggleTrainer(num_episodes=50, eval_frequency=5, checkpoint_frequency=10)
    assert trainer.h5_path == Path("data/processed/processed_data.h5") and trainer.output_dir == Path("outputs/sac")
    with pytest.raises(DataError, match="processed_data.h5"):
        trainer.run_training()  # no data built here: one clear message


@pytest.fixture(scope="module")
def trained(processed, tmp_path_factory) -> Path:
    """agent_1_best.pt from a tiny SAC run on EURUSD (the 'downloaded checkpoint')."""
    from tradelab.training.sac_trainer import KaggleTrainer

    out = tmp_path_factory.mktemp("sac")
    KaggleTrainer(processed / "processed_data.h5", out, num_episodes=1, eval_frequency=1, checkpoint_frequency=1,
                  device="cpu", episode_length=32, warmup_steps=16, config=tiny_sac_yaml(out), progress=False,
                  asset="EURUSD").run_training()
    return out / "agent_1_best.pt"


def test_local_use_of_a_downloaded_checkpoint(trained):
    from tradelab import SACAgent, SACConfig

    config = SACConfig(state_dim=30, action_dim=1, hidden_dims=[256, 256])  # the document's values
    agent = SACAgent(config=config, agent_id=1)
    with pytest.raises(CheckpointError, match=r"sac_config.state_dim differs.*SACAgent.from_checkpoint"):
        agent.load(trained)  # another network than the file's: one message naming the field and the fix
    saved = SACAgent.from_checkpoint(trained).config
    agent = SACAgent(config=SACConfig(state_dim=saved.state_dim, action_dim=1, hidden_dims=list(saved.hidden_dims)),
                     agent_id=1)
    agent.load(trained)
    state = np.zeros(saved.state_dim, dtype=np.float32)
    action = agent.select_action(state, evaluate=True)
    assert action.shape == (1,) and -1 <= float(action[0]) <= 1


def test_validation_loop_as_written_fails_with_the_working_form(trained, processed):
    from tradelab import SACAgent, TradingEnvConfig, TradingEnvironment
    from tradelab.data.store import read_processed_h5

    agent = SACAgent.from_checkpoint(trained)
    store = read_processed_h5(processed / "processed_data.h5")
    test_data = {"EURUSD": store.frame("test", "EURUSD")}
    test_features = store.features("test", "EURUSD")  # unscaled, as the document passes them
    env = TradingEnvironment(data=test_data["EURUSD"], features=test_features,
                             config=TradingEnvConfig(), eval_mode=True)
    state = env.reset()
    with pytest.raises(DataError) as exc:
        agent.select_action(state, evaluate=True)
    assert "obs, reward, terminated, truncated, info = env.step(action)" in str(exc.value)
    assert "obs, info = env.reset()" in str(exc.value)
    # Unscaled features, right shapes: refused, naming the fix.
    env = TradingEnvironment(data=test_data["EURUSD"], features=test_features[agent.spec["feature_names"]],
                             config=TradingEnvConfig.from_dict(agent.spec["env_config"]), eval_mode=True)
    obs, _ = env.reset()
    with pytest.raises(DataError, match=r"UNSCALED features.*agent.make_env\(ohlcv\)"):
        agent.select_action(obs, evaluate=True)
    # The working form (README, 05_inference): the agent's scaler, gymnasium's 5-tuple.
    for env in (agent.make_env(test_data["EURUSD"], test_features), agent.make_env(store.frame("val", "EURUSD"))):
        obs, info = env.reset()
        done, total_reward, steps = False, 0.0, 0
        while not done:
            action = agent.select_action(obs, evaluate=True)
            obs, reward, terminated, truncated, info = env.step(action)
            total_reward += reward
            done, steps = terminated or truncated, steps + 1
        assert np.isfinite(info["total_return"]) and "sharpe_ratio" in info and steps > 50


@pytest.mark.slow
def test_resume_after_kaggle_time_limit_continues(on_kaggle, tmp_path):
    from train_sac_kaggle import KaggleTrainer

    out = tmp_path / "working"
    kw = dict(output_dir=out, eval_frequency=1, checkpoint_frequency=1, device="cpu", episode_length=32,
              warmup_steps=16, config=tiny_sac_yaml(tmp_path), progress=False)
    agent, _ = KaggleTrainer(num_episodes=2, **kw).run_training()
    best = (out / "agent_1_best.pt").read_bytes()
    trainer = KaggleTrainer(num_episodes=3, **kw)
    agent.load(out / "checkpoints" / "agent_1_ep2.pt")
    _, stats = trainer.run_training()  # must continue, never silently restart
    assert stats["episodes"]["episode"] == [1.0, 2.0, 3.0]
    if stats["best_episode"] != 3:
        assert (out / "agent_1_best.pt").read_bytes() == best


def test_optional_risk_manager_module():
    import importlib

    assert any(importlib.util.find_spec(name) for name in ("tradelab.envs.risk", "tradelab.risk",
                                                          "tradelab.evaluation.risk"))


# -- Document 003: PPO V3 --------------------------------------------------------------------------------
@pytest.mark.slow
def test_train_ppo_with_the_v3_config_logs_and_tensorboard(tmp_path):
    """`train_v3_ultimate.py --config ...` → `tradelab train ppo --config configs/ppo_v3.yaml` (tiny budget)."""
    from tradelab.training.callbacks import read_scalars

    out = tmp_path / "v3_ultimate"
    assert cli(["train", "ppo", "--config", str(ROOT / "configs" / "ppo_v3.yaml"), "--total-timesteps", "256",
                "--output-dir", str(out), "--skip-test", *sets("data.assets=[GOOG]", *TINY_PPO)]) == 0
    assert (out / "final_model.zip").is_file() and (out / "best_model.zip").is_file()
    assert sorted(p.name for p in (out / "checkpoints").glob("*.zip"))
    log = (out / "logs" / "training_v3.log").read_text()
    assert "train/approx_kl" in log and "rss_mb=" in log
    # `tensorboard --logdir runs/v3_ultimate/` → `tensorboard --logdir <output_dir>/tensorboard`: the tracked values
    tags = set(read_scalars(out / "tensorboard")["tag"])
    assert {"trading/equity", "trading/total_return", "trading/n_trades", "trading/episode_reward",
            "train/policy_gradient_loss", "train/value_loss", "train/entropy_loss", "train/approx_kl",
            "train/explained_variance", "resources/cpu_percent", "resources/rss_mb"} <= tags


def test_train_ppo_accepts_the_seed_v3_config_layout(tmp_path, monkeypatch):
    """Offline: one message naming the local-file route; with yfinance (a local stand-in) it maps."""
    import types

    from test_envs_seed_layout import SEED_YAML

    from tradelab.data import load_asset
    from tradelab.training.ppo import PPOV3Config

    path = tmp_path / "config" / "training_config_v3.yaml"
    path.parent.mkdir()
    path.write_text(SEED_YAML)  # the seed document's file, as in test_envs_seed_layout
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "yfinance", None)  # not installed
    with pytest.raises(DataError, match="tradelab data build --csv"):
        PPOV3Config.from_yaml(path)
    goog = load_asset("GOOG").rename(columns=str.capitalize)
    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(download=lambda ticker, **kw: goog))
    cfg = PPOV3Config.from_yaml(path)
    assert cfg.training.total_timesteps == 20_000_000 and cfg.ppo.learning_rate == 1e-4
    assert cfg.ppo.batch_size == 4096 and cfg.training.n_envs == 8 and len(cfg.data.assets) == 2


def test_expected_results_list_trade_level_metrics(processed, tmp_path):
    assert cli(["backtest", "--asset", "GOOG", "--h5-path", str(processed / "processed_data.h5"), "--split", "test",
                "--output-dir", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    text = json.dumps(metrics)
    assert "avg_trade_bars" in text and "trade_win_rate" in text and (tmp_path / "trades.csv").is_file()


def test_pdt_max_four_trades_per_day():
    from tradelab.envs.config import TradingEnvConfig

    cfg = TradingEnvConfig.from_dict({"costs": {"pdt_mode": "daily_cap", "max_trades_per_day": 4}})
    assert cfg.costs.max_trades_per_day == 4


def test_eurusd_hourly_annualisation_is_measured():
    from backtesting.test import EURUSD

    from tradelab.data import load_asset
    from tradelab.data.calendar import periods_per_year

    assert EURUSD is not None
    assert 6100 < periods_per_year(load_asset("EURUSD").index) < 6300


# -- Document 004: the 3-stage curriculum ---------------------------------------------------------------
def three_stage_curriculum(folder: Path) -> Path:
    """The seed's three stages on embedded daily assets (1 index → 2 indices → 3 assets), tiny budgets."""
    search = {"learning_rate": [1e-4, 1e-3], "n_steps": [32, 64], "ent_coef": [0.001, 0.02]}
    stages = [{"stage": i + 1, "assets": assets, "timesteps": 128, "n_envs": 2, "sharpe_target": -100.0,
               "learning_rate": 3e-4, "n_steps": 64, "ent_coef": 0.01, "tune_timesteps": 64, "search": search}
              for i, assets in enumerate((["SPX"], ["SPX", "NDX"], ["SPX", "NDX", "GOOG"]))]
    path = folder / "curriculum.yaml"
    path.write_text(yaml.safe_dump({"base_config": "ppo_v3.yaml", "stages": stages, "evals_per_trial": 1,
                                    "n_trials": 15, "output_dir": str(folder / "cur")}))
    return path


@pytest.mark.slow
def test_curriculum_three_stages_auto_optimize_load_model_as_written(tmp_path, monkeypatch):
    import tradelab.training.ppo as ppo

    config = three_stage_curriculum(tmp_path)
    scored: list[tuple] = []
    real = ppo.evaluate_split

    def recording(model, cfg, split):  # every validation scoring: which bars
        index = next(iter(split.ohlcv.values())).index
        scored.append((index[0], index[-1]))
        return real(model, cfg, split)

    monkeypatch.setattr(ppo, "evaluate_split", recording)
    monkeypatch.chdir(tmp_path)  # the shell sits above the curriculum folder: models/ is relative to it
    base = ["curriculum", "--config", str(config), "--output-dir", "cur", "--n-trials", "1",
            *sets(*TINY_PPO, "training.checkpoint_freq=64")]
    assert cli([*base, "--stage", "1", "--auto-optimize"]) == 0
    report = json.loads((tmp_path / "cur" / "stage1_report.json").read_text())
    gate = report["gate"]
    tune_end = np.datetime64(gate["validation_parts"]["tune"][1].replace("+00:00", ""))
    gate_start = np.datetime64(gate["validation_parts"]["gate"][0].replace("+00:00", ""))
    assert gate_start > tune_end and gate["validation_parts"]["purge_gap"] == 10
    on_gate = [s for s in scored if np.datetime64(s[0].tz_localize(None)) >= gate_start]
    assert len(on_gate) == 1, "the gate part is scored once, by the gate; Optuna never saw it"
    assert all(np.datetime64(s[1].tz_localize(None)) <= tune_end for s in scored if s not in on_gate)
    assert np.isfinite(gate["val_sharpe"]) and np.isfinite(gate["tune_sharpe"])
    assert gate["val_sharpe"] == report["validation_gate"]["sharpe_ratio"]
    assert gate["tune_sharpe"] == report["validation"]["sharpe_ratio"]

    assert cli([*base, "--stage", "2", "--load-model", "models/stage1_final", "--auto-optimize"]) == 0
    assert cli([*base, "--stage", "3", "--load-model", "models/stage2_final", "--auto-optimize"]) == 0
    cur = tmp_path / "cur"
    for n in (1, 2, 3):
        assert (cur / "models" / f"stage{n}_final.zip").is_file()
        assert (cur / "models" / f"stage{n}" / "optimized_params.json").is_file()
        assert list((cur / "models" / f"stage{n}").glob(f"ploutos_stage{n}_*_steps.zip"))
    assert json.loads((cur / "stage3_report.json").read_text())["loaded_from"] == str(
        Path("cur") / "models" / "stage2_final.zip")
    assert "stage 3 gate" in (cur / "logs" / "curriculum.log").read_text()
    assert list((cur / "tensorboard").rglob("events.out.tfevents.*"))


def test_load_model_names_every_place_searched(tmp_path, monkeypatch, capsys):
    from tradelab.training.model_paths import resolve_model_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "cur" / "models").mkdir(parents=True)
    (tmp_path / "cur" / "models" / "stage1_final.zip").write_bytes(b"zip")
    assert resolve_model_path("models/stage1_final", ["cur"]) == Path("cur/models/stage1_final.zip")
    assert resolve_model_path("stage1_final", ["cur", "cur/models"]) == Path("cur/models/stage1_final.zip")
    assert resolve_model_path("cur/models/stage1_final.zip") == Path("cur/models/stage1_final.zip")
    with pytest.raises(CheckpointError) as exc:
        resolve_model_path("models/stage9_final", ["cur", "cur/models"])
    for place in ("models/stage9_final", "models/stage9_final.zip", "cur/models/stage9_final.zip",
                  "cur/models/models/stage9_final.zip"):
        assert place in str(exc.value)
    config = three_stage_curriculum(tmp_path)
    assert cli(["curriculum", "--config", str(config), "--output-dir", "cur", "--stage", "2",
                "--load-model", "models/stage9_final"]) == 2
    err = capsys.readouterr().err
    assert "cur/models/stage9_final.zip" in err and "Traceback" not in err
    # `tradelab tune` and `tradelab train ppo` resolve --load-model the same way, before any training
    assert cli(["tune", "--config", str(config), "--output-dir", "cur", "--stage", "2",
                "--load-model", "models/stage9_final"]) == 2
    assert "cur/models/stage9_final.zip" in capsys.readouterr().err
    assert cli(["train", "ppo", "--output-dir", "run", "--load-model", "models/stage9_final"]) == 2
    err = capsys.readouterr().err
    assert "run/models/stage9_final.zip" in err and "Traceback" not in err


def test_validation_split_for_the_gate_is_disjoint_with_a_purge_gap():
    import pandas as pd

    from tradelab.training.curriculum import split_validation
    from tradelab.training.multiasset import PreparedData, SplitData

    idx = pd.date_range("2020-01-01", periods=100, freq="D", tz="UTC")
    frame = pd.DataFrame({"close": np.arange(100.0)}, index=idx)
    prepared = PreparedData(["A"], ["f"], {}, "test", splits={"val": SplitData({"A": frame}, {"A": frame})})
    tune, gate, parts = split_validation(prepared, 0.4, 10, min_bars=5)
    tune_idx, gate_idx = tune.split("val").ohlcv["A"].index, gate.ohlcv["A"].index
    assert len(gate_idx) == 40 and len(tune_idx) == 50 and (gate_idx[0] - tune_idx[-1]).days == 11
    assert prepared.split("val").ohlcv["A"].index.equals(idx)  # the caller's data is untouched
    with pytest.raises(ConfigError, match="too few"):
        split_validation(prepared, 0.4, 80, min_bars=5)


def test_curriculum_wandb_project_is_the_seeds():
    from tradelab.training.curriculum import load_curriculum, stage_ppo_config

    cfg = stage_ppo_config(load_curriculum(), 1)
    assert cfg.training.wandb_project == "Ploutos_Curriculum" and cfg.training.wandb is False


# -- tradelab's own data check (issue 12.16) ----------------------------------------------------------------
def test_data_check_fails_below_the_rows_the_default_build_needs(tmp_path, capsys):
    from backtesting.test import GOOG

    from tradelab.cli.data import min_build_rows

    needed, _ = min_build_rows()
    for rows, rc in ((30, 2), (needed - 1, 2), (needed, 0)):
        path = tmp_path / f"x{rows}.csv"
        GOOG.iloc[:rows].rename_axis("Date").to_csv(path)
        assert cli(["data", "check", str(path)]) == rc
        captured = capsys.readouterr()
        if rc:
            assert f"too few rows: {rows} available, {needed} needed" in captured.err
        else:
            assert f'"min_rows_for_build": {needed}' in captured.out
    # The minimum is the build's own: it builds at `needed` rows and not one row below.
    for rows, rc in ((needed, 0), (needed - 1, 2)):
        assert cli(["data", "build", "--csv", str(tmp_path / f"x{rows}.csv"), "--asset", "X",
                    "--out", str(tmp_path / f"out{rows}")]) == rc
