"""Optuna tuning: SQLite study resumed by a second call, two processes sharing one study,
--auto-optimize writing optimized_params.json, and the test split never read while tuning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from test_curriculum_stages import TINY_SETS, write_curriculum

import tradelab.training.multiasset as multiasset
from tradelab.config import parse_sets
from tradelab.errors import ConfigError
from tradelab.training.curriculum import load_curriculum, stage_ppo_config
from tradelab.training.tuning import make_storage, tune


@pytest.fixture
def no_test_split(monkeypatch):
    """Make the test split unreadable: any read of it fails the test."""
    real = multiasset.load_split
    guard = {"active": True}

    def guarded(source, split):
        if split == "test" and guard["active"]:
            raise AssertionError("the tuner read the test split")
        return real(source, split)

    monkeypatch.setattr(multiasset, "load_split", guarded)
    return guard


@pytest.mark.slow
def test_sqlite_study_resumed_to_four_trials_without_reading_test(tmp_path, no_test_split):
    cur = load_curriculum(write_curriculum(tmp_path))
    cfg = stage_ppo_config(cur, 1, parse_sets(TINY_SETS))
    space, out = cur.get(1).search, tmp_path / "tune"
    optuna.logging.set_verbosity(optuna.logging.DEBUG)  # the caller's level survives the call (no global change)
    try:
        first = tune(cfg, space, n_trials=2, output_dir=out, study_name="s1", trial_timesteps=128, evals_per_trial=2)
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG
    finally:
        optuna.logging.set_verbosity(optuna.logging.INFO)
    assert first["n_trials"] == 2 and (out / "optuna.db").is_file()
    again = tune(cfg, space, n_trials=2, output_dir=out, study_name="s1", trial_timesteps=128, evals_per_trial=2)
    assert again["n_trials"] == 2  # already 2 finished: a restart tops up, it does not add 2 more
    second = tune(cfg, space, n_trials=4, output_dir=out, study_name="s1", trial_timesteps=128, evals_per_trial=2)
    assert second["n_trials"] == 4
    study = optuna.load_study(study_name="s1", storage=make_storage(None, out))
    assert len(study.trials) == 4
    for t in study.trials:
        if t.params:
            assert space.learning_rate[0] <= t.params["learning_rate"] <= space.learning_rate[1]
            assert t.params["n_steps"] in space.n_steps
            assert space.ent_coef[0] <= t.params["ent_coef"] <= space.ent_coef[1]


@pytest.mark.slow
def test_two_processes_share_one_journal_study(tmp_path):
    config, out = write_curriculum(tmp_path), tmp_path / "shared"
    storage = f"journal:{out / 'study.log'}"
    cmd = [sys.executable, "-m", "tradelab.cli", "tune", "--study", "shared", "--storage", storage,
           "--stage", "1", "--add-trials", "1", "--config", str(config), "--output-dir", str(out),
           "--timesteps", "128", *[x for s in TINY_SETS for x in ("--set", s)]]
    env = {**os.environ, "TRADELAB_THREADS": "1", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([*cmd, "--seed", str(i)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(2)]
    outputs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outputs]
    study = optuna.load_study(study_name="shared", storage=make_storage(storage, out))
    assert len(study.trials) == 2
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2
    assert json.loads((out / "shared_best_params.json").read_text())["n_trials"] >= 1


@pytest.mark.slow
def test_auto_optimize_writes_params_used_by_full_run(tmp_path, monkeypatch, no_test_split):
    import tradelab.training.tuning as tuning
    from tradelab.cli import main

    real_tune = tuning.tune
    no_test_split["active"] = False

    def tune_guarded(*args, **kwargs):  # the test split is unreadable only while tuning runs
        no_test_split["active"] = True
        try:
            return real_tune(*args, **kwargs)
        finally:
            no_test_split["active"] = False

    monkeypatch.setattr(tuning, "tune", tune_guarded)
    config, out = write_curriculum(tmp_path), tmp_path / "cur"
    rc = main(["curriculum", "--stage", "1", "--config", str(config), "--output-dir", str(out), "--auto-optimize",
               "--n-trials", "2", *[x for s in TINY_SETS for x in ("--set", s)]])
    assert rc == 0
    params = json.loads((out / "models" / "stage1" / "optimized_params.json").read_text())
    report = json.loads((out / "stage1_report.json").read_text())
    assert report["config"]["ppo"]["learning_rate"] == pytest.approx(params["best_params"]["learning_rate"])
    assert report["config"]["ppo"]["n_steps"] == params["best_params"]["n_steps"]
    assert report["optimized_params"]["n_trials"] == 2 and "buy_and_hold" in report["test"]


def test_bad_storage_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a storage URL"):
        make_storage("my-db", tmp_path)
    assert isinstance(make_storage(f"journal:{tmp_path / 'j.log'}", tmp_path), optuna.storages.JournalStorage)
    assert not Path(tmp_path / "optuna.db").exists()


SQLITE_OPENER = """import sys
from tradelab.training.tuning import SearchSpace, make_storage, open_study
study = open_study("race", make_storage(sys.argv[1], "/nonexistent", heartbeat=5), space=SearchSpace())
print(study._study_id)
"""


def test_six_simultaneous_openers_of_a_fresh_sqlite_file_all_succeed(tmp_path):
    """Two workers creating a fresh SQLite study at once raced on Optuna's `alembic_version` row
    (UNIQUE constraint failed: 2 of 18 openers in 3 rounds of 6 before the retry covered it; 0 after)."""
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    lib = Path(__file__).resolve().parents[1] / "lib"
    procs = [subprocess.Popen([sys.executable, "-c", SQLITE_OPENER, url], env={**os.environ, "PYTHONPATH": str(lib)},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [o[1][-600:] for o in outs if o[1]]
    assert len({o[0].strip() for o in outs}) == 1
