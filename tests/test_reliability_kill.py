"""Issue 13 "done means": SIGKILL at a random point of SAC, PPO and `data build` leaves a folder that either
resumes correctly or is refused with a clear message, never a mixed state. The kill delay is printed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tradelab.results import RunResult

ROOT = Path(__file__).resolve().parents[1]
ENV = os.environ | {"OMP_NUM_THREADS": "1", "TRADELAB_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def kill_at_random(cmd: list[str], folder: Path, max_delay: float) -> float:
    """Start ``cmd``; once it holds ``folder``'s lock (work has begun), SIGKILL it after a random delay."""
    delay = random.uniform(0.0, max_delay)
    print(f"SIGKILL {delay:.2f}s after the lock was taken: {' '.join(cmd[3:6])}")
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lock, deadline = folder / ".tradelab.lock", time.time() + 120
    while not (lock.is_file() and lock.stat().st_size > 0):
        if proc.poll() is not None:
            pytest.fail(f"finished before the kill: {proc.stderr.read()[-1500:]}")
        assert time.time() < deadline
        time.sleep(0.02)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return delay


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)


def _no_temps(folder: Path) -> bool:
    return not [p for p in folder.rglob(".*.tmp*")]


@pytest.mark.slow
def test_sigkill_during_data_build(tmp_path):
    from tradelab.data.build import build_processed
    from tradelab.data.store import build_ids, read_final_parquet, read_processed_h5
    from tradelab.data.synthetic import regime_switching_gbm
    from tradelab.errors import DataError

    csv = []
    for i, name in enumerate(("AAA", "BBB")):
        regime_switching_gbm(n_bars=1300, seed=40 + i).to_parquet(tmp_path / f"{name}.parquet")
        csv += ["--csv", str(tmp_path / f"{name}.parquet"), "--asset", name]
    out = tmp_path / "proc"
    build_processed(csv=[(str(tmp_path / f"{n}.parquet"), n) for n in ("AAA", "BBB")], out_dir=out, horizon=5)
    cmd = [sys.executable, "-m", "tradelab.cli", "data", "build", *csv, "--out", str(out), "--horizon", "7"]
    kill_at_random(cmd, out, max_delay=1.0)
    readers = {"processed_data.h5": read_processed_h5, "aaa_final.parquet": read_final_parquet,
               "bbb_final.parquet": read_final_parquet}
    seen = {}
    for name, reader in readers.items():
        try:
            got = reader(out / name)
        except DataError as exc:  # refused: must say why and how to repair
            assert "rerun `tradelab data build" in str(exc) or "not found" in str(exc), str(exc)
            continue
        meta = got.metadata if name.endswith(".h5") else got[1]
        seen[name] = (meta["build_id"], meta["label_horizon"])
    assert len(set(seen.values())) <= 1, f"readers accepted a mixed folder: {seen}"
    rerun = run(cmd)
    assert rerun.returncode == 0, rerun.stderr[-1500:]
    assert len(set(build_ids(out).values())) == 1 and read_processed_h5(out).metadata["label_horizon"] == 7
    assert _no_temps(out)


@pytest.mark.slow
def test_sigkill_during_sac_training(tmp_path):
    from tradelab.data.build import build_processed
    from tradelab.data.synthetic import regime_switching_gbm

    regime_switching_gbm(n_bars=1200, seed=5).to_parquet(tmp_path / "syn.parquet")
    build_processed(csv=[(str(tmp_path / "syn.parquet"), "SYN")], out_dir=tmp_path)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("sac: {hidden_dims: [32, 32], batch_size: 32, buffer_capacity: 20000}\nenv: {window: 8}\n"
                   "final_test: false\n")
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "tradelab.cli", "train", "sac", "--h5-path", str(tmp_path / "processed_data.h5"),
           "--output-dir", str(out), "--num-episodes", "6", "--eval-frequency", "2", "--checkpoint-frequency", "1",
           "--device", "cpu", "--episode-length", "48", "--warmup-steps", "32", "--seed", "4", "--no-progress",
           "--config", str(cfg)]
    kill_at_random(cmd, out, max_delay=4.0)
    had = sorted((out / "checkpoints").glob("agent_1_ep*.pt")) if (out / "checkpoints").is_dir() else []
    again = run(cmd)  # the same command: continues from the newest checkpoint (or starts, if none was written)
    assert again.returncode == 0, again.stderr[-1500:]
    if had:
        assert "resuming from the newest" in again.stdout
    stats = json.loads((out / "logs" / "training_stats.json").read_text())
    assert stats["episodes"]["episode"] == [float(e) for e in range(1, 7)]
    assert _no_temps(out)


@pytest.mark.slow
def test_sigkill_during_ppo_training(tmp_path):
    from tests.test_ppo_train import write_assets

    assets = write_assets(tmp_path, names=("AAA",))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "tradelab.cli", "train", "ppo", "--output-dir", str(out), "--seed", "2",
           "--skip-test", "--total-timesteps", "1024", "--set", f"data.assets={json.dumps(assets)}",
           "--set", "data.min_overlap=100", "--ppo.net_arch_pi", "[16,16]", "--ppo.net_arch_vf", "[16,16]",
           "--ppo.n_steps", "64", "--ppo.batch_size", "64", "--ppo.n_epochs", "1", "--training.n_envs", "2",
           "--training.checkpoint_freq", "128", "--training.eval_freq", "128", "--training.progress_bar", "false",
           "--training.tensorboard", "false", "--env.window", "10", "--env.episode_lengths", "[64]"]
    kill_at_random(cmd, out, max_delay=6.0)
    plain = run(cmd)
    if plain.returncode != 0:  # refused: the folder holds the killed run's files
        assert plain.returncode == 2 and "pass --resume" in plain.stderr, plain.stderr[-1500:]
        resumed = run([*cmd, "--resume"])
        assert resumed.returncode == 0, resumed.stderr[-1500:]
    metrics = RunResult.read(out).meta
    assert metrics["num_timesteps"] >= 1024
    with np.load(out / "eval" / "evaluations.npz", allow_pickle=False) as f:
        steps = list(f["timesteps"])
    assert steps == sorted(set(steps)) and steps[-1] >= 1024  # one entry per eval step, none lost or doubled
    best = json.loads((out / "best_model.json").read_text())["best_mean_reward"]
    with np.load(out / "eval" / "evaluations.npz", allow_pickle=False) as f:
        assert best >= max(float(np.mean(r)) for r in f["results"]) - 1e-9
    assert _no_temps(out)
