"""Issue 13 item 5: a trial killed mid-run does not stay RUNNING; a restarted study tops up to n finished."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from test_curriculum_stages import TINY_SETS, write_curriculum

from tradelab.config import parse_sets
from tradelab.training.curriculum import load_curriculum, stage_ppo_config
from tradelab.training.tuning import make_storage, tune


def _running(out) -> list:
    if not (out / "optuna.db").is_file():
        return []
    try:
        study = optuna.load_study(study_name="s", storage=make_storage(None, out))
    except KeyError:  # study not created yet
        return []
    # mid-trial: the objective has started and recorded its worker (host:pid)
    return [t for t in study.get_trials(states=(optuna.trial.TrialState.RUNNING,)) if t.user_attrs.get("worker")]


@pytest.mark.slow
def test_killed_trial_is_failed_retried_and_study_topped_up(tmp_path):
    config, out = write_curriculum(tmp_path), tmp_path / "tune"
    cmd = [sys.executable, "-m", "tradelab.cli", "tune", "--study", "s", "--stage", "1", "--n-trials", "2",
           "--config", str(config), "--output-dir", str(out), "--timesteps", "1000000",
           *[x for s in TINY_SETS for x in ("--set", s)]]
    env = {**os.environ, "TRADELAB_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not _running(out):
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        assert time.time() < deadline, "the tuner never started a trial"
        time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = _running(out)[0]
    # Restart: the dead process's trial is failed and re-queued, and the study is topped up to 2 finished.
    cur = load_curriculum(config)
    cfg = stage_ppo_config(cur, 1, parse_sets(TINY_SETS))
    result = tune(cfg, cur.get(1).search, n_trials=2, output_dir=out, study_name="s", trial_timesteps=128,
                  evals_per_trial=2)
    assert result["reaped_stale_trials"] == [killed.number] and result["n_finished"] == 2
    study = optuna.load_study(study_name="s", storage=make_storage(None, out))
    states = [t.state for t in study.trials]
    assert optuna.trial.TrialState.RUNNING not in states
    assert study.trials[killed.number].state == optuna.trial.TrialState.FAIL
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retried and retried[0].params == killed.params  # its parameters were tried again
    # Restarting again adds nothing: the study already has 2 finished trials.
    assert tune(cfg, cur.get(1).search, n_trials=2, output_dir=out, study_name="s", trial_timesteps=128,
                evals_per_trial=2)["n_trials"] == len(study.trials)
