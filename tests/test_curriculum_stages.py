"""Curriculum: stage 1 → stage 2 transfer, file names, the gate, bad --load-model files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tradelab.cli import main
from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import CheckpointError, ConfigError
from tradelab.results import RunResult

TINY_SETS = ["ppo.net_arch=[32,32]", "ppo.net_arch_pi=[32,32]", "ppo.net_arch_vf=[32,32]", "ppo.batch_size=64", "ppo.n_epochs=2",
             "training.checkpoint_freq=128", "training.eval_freq=128", "training.progress_bar=false",
             "env.window=10", "env.episode_lengths=[64]", "data.min_overlap=100"]


def write_assets(folder: Path, n_bars: int = 1300) -> list[str]:
    """Synthetic CSVs (tests only) standing in for users' asset files."""
    paths = []
    for i, name in enumerate(("AAA", "BBB")):
        path = folder / f"{name}.csv"
        regime_switching_gbm(n_bars=n_bars, seed=11 + i).reset_index().to_csv(path, index=False)
        paths.append(str(path))
    return paths


def write_curriculum(folder: Path, targets: tuple[float, float] = (-100.0, -100.0)) -> Path:
    """A two-stage curriculum over synthetic CSVs (tests only): 1 asset, then 2."""
    a, b = write_assets(folder)
    stages = [
        {"stage": 1, "assets": [a], "timesteps": 256, "n_envs": 2, "sharpe_target": targets[0],
         "learning_rate": 3e-4, "n_steps": 64, "ent_coef": 0.01, "tune_timesteps": 128,
         "search": {"learning_rate": [1e-4, 1e-3], "n_steps": [32, 64], "ent_coef": [0.001, 0.02]}},
        {"stage": 2, "assets": [a, b], "timesteps": 256, "n_envs": 2, "sharpe_target": targets[1],
         "learning_rate": 1e-4, "n_steps": 64, "ent_coef": 0.005, "tune_timesteps": 128},
    ]
    path = folder / "curriculum.yaml"
    path.write_text(yaml.safe_dump({"base_config": "ppo_v3.yaml", "stages": stages, "evals_per_trial": 2,
                                    "output_dir": str(folder / "cur")}))
    return path


def cli(config: Path, out: Path, stage: int, *extra: str) -> int:
    sets = [x for s in TINY_SETS for x in ("--set", s)]
    return main(["curriculum", "--stage", str(stage), "--config", str(config), "--output-dir", str(out),
                 *sets, *extra])


@pytest.mark.slow
def test_stage1_to_stage2_transfer_files_and_gate(tmp_path, capsys):
    from stable_baselines3 import PPO

    from tradelab.training.ppo import params_sha256

    config, out = write_curriculum(tmp_path), tmp_path / "cur"
    assert cli(config, out, 1) == 0
    assert (out / "models" / "stage1" / "ploutos_stage1_128_steps.zip").is_file()
    assert (out / "models" / "stage1" / "ploutos_stage1_256_steps.zip").is_file()
    assert (out / "models" / "stage1" / "best_model.zip").is_file()
    final1 = out / "models" / "stage1_final.zip"
    report1 = json.loads((out / "stage1_report.json").read_text())
    assert report1["gate"]["passed"] and report1["loaded_from"] == ""
    assert "buy_and_hold" in report1["test"] and (out / "stage1_test" / "metrics.json").is_file()
    tested = RunResult.read(report1["test_result"])
    assert tested.strategies == report1["test"] and (tested.workflow, tested.focus) == ("curriculum", "ploutos_stage1")
    assert set(tested.by_cost) == {"0x", "1x", "2x"} and tested.meta["stage"] == 1

    # A failed gate blocks stage 2 unless --force.
    report1["gate"]["passed"] = False
    (out / "stage1_report.json").write_text(json.dumps(report1))
    assert cli(config, out, 2) == 2
    assert "failed its gate" in capsys.readouterr().err
    assert not (out / "models" / "stage2_final.zip").exists()

    assert cli(config, out, 2, "--force") == 0
    report2 = json.loads((out / "stage2_report.json").read_text())
    assert report2["loaded_from"] == str(final1)
    # The stage-2 run started from exactly stage 1's final weights, then moved away from them.
    assert report2["start_weights_sha256"] == params_sha256(PPO.load(final1))
    assert report2["final_weights_sha256"] != report2["start_weights_sha256"]
    assert (out / "models" / "stage2_final.zip").is_file()
    assert report2["assets"] == report1["assets"] + [report2["assets"][1]]


def test_stage2_without_stage1_is_a_clear_error(tmp_path):
    from tradelab.training.curriculum import load_curriculum, run_stage

    cur = load_curriculum(write_curriculum(tmp_path))
    with pytest.raises(CheckpointError, match="stage 1's final model not found.*--load-model"):
        run_stage(cur, 2, tmp_path / "empty")
    with pytest.raises(ConfigError, match="--stage 7 does not exist"):
        run_stage(cur, 7, tmp_path / "empty")


@pytest.mark.slow
def test_corrupted_or_incompatible_load_model(tmp_path, capsys):
    import gymnasium as gym
    from stable_baselines3 import PPO

    config, out = write_curriculum(tmp_path), tmp_path / "cur"
    bad = tmp_path / "corrupted.zip"
    bad.write_bytes(b"PK\x03\x04 this is not a model")
    assert cli(config, out, 1, "--load-model", str(bad)) == 2
    err = capsys.readouterr().err
    assert "corrupted.zip is not a readable stable-baselines3 PPO model" in err

    other = tmp_path / "pendulum.zip"
    PPO("MlpPolicy", gym.make("Pendulum-v1"), n_steps=64, batch_size=64,
        policy_kwargs={"net_arch": [8]}).save(other)
    assert cli(config, out, 1, "--load-model", str(other)) == 2
    assert "does not fit this environment" in capsys.readouterr().err
