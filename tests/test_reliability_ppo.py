"""Issue 13 items 1-3 for PPO: weights-only loading, resume that keeps the best, folder identity, max_runtime."""

from __future__ import annotations

import base64
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tradelab.errors import CheckpointError
from tradelab.results import RunResult

TINY = ["--ppo.net_arch_pi", "[16,16]", "--ppo.net_arch_vf", "[16,16]", "--ppo.n_steps", "64",
        "--ppo.batch_size", "64", "--ppo.n_epochs", "1", "--training.n_envs", "2",
        "--training.checkpoint_freq", "128", "--training.eval_freq", "64", "--training.progress_bar", "false",
        "--training.tensorboard", "false", "--env.window", "10", "--env.episode_lengths", "[64]"]


class _Evil:
    """Unpickling this creates ``path`` (the payload a crafted zip would carry)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _pendulum_zip(path: Path) -> Path:
    import gymnasium as gym
    from stable_baselines3 import PPO

    PPO("MlpPolicy", gym.make("Pendulum-v1"), n_steps=64, batch_size=64, policy_kwargs={"net_arch": [8]}).save(path)
    return path


def _rewrite(src: Path, dst: Path, replace: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, replace.get(name, zin.read(name)))
    return dst


def _evil_data(src: Path, marker: Path) -> bytes:
    data = json.loads(zipfile.ZipFile(src).read("data"))
    data["observation_space"][":serialized:"] = base64.b64encode(pickle.dumps(_Evil(marker))).decode()
    return json.dumps(data).encode()


def test_malicious_zip_never_runs_code(tmp_path):
    import io

    import torch
    from stable_baselines3 import PPO

    from tradelab.training.ppo import load_model

    good = _pendulum_zip(tmp_path / "good.zip")
    marker = tmp_path / "pwned"
    evil_space = _rewrite(good, tmp_path / "evil_space.zip", {"data": _evil_data(good, marker)})
    buf = io.BytesIO()
    torch.save({"mlp_extractor.policy_net.0.weight": _Evil(marker)}, buf)
    evil_policy = _rewrite(good, tmp_path / "evil_policy.zip", {"policy.pth": buf.getvalue()})

    # The cloudpickled space is never decoded: tensors load, the model works, no marker.
    model = load_model(evil_space)
    assert model.policy.action_space.shape == (1,) and not marker.exists()
    # A pickled object inside policy.pth: one clear error, no marker.
    with pytest.raises(CheckpointError, match="refuses to unpickle"):
        load_model(evil_policy)
    assert not marker.exists()
    # Teeth: the same file does run code through stable-baselines3's own loader.
    try:
        PPO.load(evil_space)
    except Exception:  # noqa: BLE001 - the payload returns a file object, not a space
        pass
    assert marker.exists()


def test_cli_load_model_refuses_malicious_zip(tmp_path, capsys):
    from tests.test_ppo_train import write_assets

    from tradelab.cli import main

    good = _pendulum_zip(tmp_path / "good.zip")
    marker = tmp_path / "pwned"
    evil = _rewrite(good, tmp_path / "evil.zip", {"data": _evil_data(good, marker)})  # cloudpickled space
    assets = write_assets(tmp_path, names=("AAA",))
    rc = main(["train", "ppo", "--output-dir", str(tmp_path / "run"), "--load-model", str(evil), "--skip-test",
               "--set", f"data.assets={json.dumps(assets)}", "--set", "data.min_overlap=100", *TINY])
    assert rc == 2 and not marker.exists()  # one clear error, and the payload never ran
    assert "evil.zip does not fit this environment" in capsys.readouterr().err


def _base(tmp_path: Path) -> list[str]:
    from tests.test_ppo_train import write_assets

    assets = write_assets(tmp_path, names=("AAA",))
    return ["train", "ppo", "--seed", "5", "--skip-test", "--set", f"data.assets={json.dumps(assets)}",
            "--set", "data.min_overlap=100", *TINY]


def _evals(out: Path) -> tuple[list[int], list[float]]:
    with np.load(out / "eval" / "evaluations.npz", allow_pickle=False) as f:
        return [int(s) for s in f["timesteps"]], [float(np.mean(r)) for r in f["results"]]


@pytest.mark.slow
def test_resume_keeps_best_and_eval_history(tmp_path):
    from tradelab.cli import main
    from tradelab.utils import file_sha256

    base, out = _base(tmp_path), tmp_path / "run"
    assert main([*base, "--total-timesteps", "256", "--output-dir", str(out)]) == 0
    steps0, means0 = _evals(out)
    assert steps0 == [64, 128, 192, 256]
    best0 = json.loads((out / "best_model.json").read_text())
    assert best0["best_mean_reward"] == pytest.approx(max(means0))
    sha0 = file_sha256(out / "best_model.zip")
    # A kill after step 128's checkpoint: the 256 checkpoint is gone, the best and eval files remain.
    (out / "checkpoints" / "ppo_v3_256_steps.zip").unlink()
    assert main([*base, "--total-timesteps", "512", "--output-dir", str(out), "--resume"]) == 0
    steps1, means1 = _evals(out)
    assert steps1 == [64, 128, 192, 256, 320, 384, 448, 512]  # pre-kill history kept, redone part replaced
    assert means1[:2] == means0[:2]
    best1 = json.loads((out / "best_model.json").read_text())["best_mean_reward"]
    assert best1 == pytest.approx(max([best0["best_mean_reward"], *means1[2:]]))  # never lower than before
    if best1 == pytest.approx(best0["best_mean_reward"]):
        assert file_sha256(out / "best_model.zip") == sha0  # not replaced by a worse model
    assert not list(out.rglob(".*.tmp*"))  # atomic writes leave no temp files


@pytest.mark.slow
def test_folder_identity_fresh_and_max_runtime(tmp_path, capsys):
    from tradelab.cli import main

    base, out = _base(tmp_path), tmp_path / "run"
    assert main([*base, "--total-timesteps", "128", "--output-dir", str(out)]) == 0
    # A fresh run into a folder holding another run's checkpoints is refused, naming the difference...
    assert main([*base, "--total-timesteps", "128", "--output-dir", str(out), "--seed", "6"]) == 2
    err = capsys.readouterr().err
    assert "of another run (config.training.seed: 5 there, 6 in this run)" in err and "pass --fresh" in err
    # ...the same run again continues from its checkpoint (nothing left to train here).
    assert main([*base, "--total-timesteps", "128", "--output-dir", str(out)]) == 0
    assert "checkpoints of this same run: continuing from ppo_v3_128_steps.zip" in capsys.readouterr().out
    # ...and a resume with another seed names the difference.
    assert main([*base, "--total-timesteps", "256", "--output-dir", str(out), "--seed", "6", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "belongs to a different run" in err and "seed: 5 there, 6 in this run" in err
    # --fresh starts over: old checkpoints and best model removed.
    assert main([*base, "--total-timesteps", "64", "--output-dir", str(out), "--fresh",
                 "--training.checkpoint_freq", "1000"]) == 0
    assert not list((out / "checkpoints").glob("*.zip"))
    # max_runtime: a checkpoint, exit 0, no test; --resume finishes the budget.
    out2 = tmp_path / "timed"
    assert main([*base, "--total-timesteps", "256", "--output-dir", str(out2), "--max-runtime", "0.01"]) == 0
    stopped = RunResult.read(out2)
    m = stopped.meta
    assert m["stopped_early"] is True and m["num_timesteps"] < 256 and stopped.strategies == {} and m["results"] == []
    assert "max_runtime" in m["note"]
    assert list((out2 / "checkpoints").glob("ppo_v3_*_steps.zip"))
    assert main([*base, "--total-timesteps", "256", "--output-dir", str(out2), "--resume"]) == 0
    m = RunResult.read(out2).meta
    assert m["stopped_early"] is False and m["num_timesteps"] >= 256  # SB3 stops at a rollout boundary


@pytest.mark.slow
def test_curriculum_stage_max_runtime_then_resume(tmp_path):
    from test_curriculum_stages import cli, write_curriculum

    config, out = write_curriculum(tmp_path), tmp_path / "cur"
    assert cli(config, out, 1, "--max-runtime", "0.01") == 0
    report = json.loads((out / "stage1_report.json").read_text())
    assert report["stopped_early"] and report["test"] is None and report["gate"]["passed"] is False
    assert list((out / "models" / "stage1").glob("ploutos_stage1_*_steps.zip"))
    assert cli(config, out, 1, "--resume") == 0
    report = json.loads((out / "stage1_report.json").read_text())
    assert not report["stopped_early"] and report["num_timesteps"] >= 256 and "buy_and_hold" in report["test"]
