"""Optuna on a real PostgreSQL server (tests/pg_cluster.py): simultaneous openers of a fresh database,
one clear error per connection problem (never with the password), and a study whose search space
differs from the config refused with the parameters named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tradelab.errors import ConfigError
from tradelab.training.tuning import SearchSpace, make_storage, open_study, redact

LIB = Path(__file__).resolve().parents[1] / "lib"
OPENER = """import sys
from tradelab.training.tuning import SearchSpace, make_storage, open_study
study = open_study("race", make_storage(sys.argv[1], "/nonexistent", heartbeat=5), space=SearchSpace())
print(study._study_id)
"""


def test_six_simultaneous_openers_of_a_fresh_database_all_succeed(pg_cluster):
    """Workers starting together on an empty database race to create Optuna's schema (without the
    advisory lock, 13 of 18 such openers failed with UniqueViolation on `studydirection`)."""
    url = pg_cluster.create_database("race")
    env = {**os.environ, "PYTHONPATH": str(LIB)}
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, url], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, [o[1][-800:] for o in outs if o[1]]
    assert len({o[0].strip() for o in outs}) == 1  # one study, the same for all six
    assert optuna.get_all_study_names(storage=make_storage(url, ".", heartbeat=None)) == ["race"]


def test_unreachable_server_bad_password_and_missing_database_are_clear(pg_cluster):
    with pytest.raises(ConfigError, match="cannot be reached") as unreachable:
        make_storage(pg_cluster.url().replace(f":{pg_cluster.port}/", ":9/"), ".")
    bad = pg_cluster.url(password="wrong-secret-123")
    with pytest.raises(ConfigError, match="refused the user or password") as refused:
        make_storage(bad, ".")
    with pytest.raises(ConfigError, match="database does not exist") as missing:
        make_storage(pg_cluster.url("no_such_db"), ".")
    for err in (unreachable, refused, missing):
        text = str(err.value)
        assert "127.0.0.1" in text and "***" in text
        assert pg_cluster.password not in text and "wrong-secret-123" not in text
    assert redact(bad) == f"postgresql://{pg_cluster.user}:***@127.0.0.1:{pg_cluster.port}/postgres"


def test_study_with_another_search_space_is_refused_naming_the_parameters(pg_cluster):
    storage = make_storage(pg_cluster.create_database("space"), ".", heartbeat=None)
    open_study("s", storage, space=SearchSpace())
    open_study("s", storage, space=SearchSpace())  # the same ranges join
    other = SearchSpace(learning_rate=(1e-4, 1e-3), n_steps=(32, 64))
    with pytest.raises(ConfigError, match="another search space") as err:
        open_study("s", storage, space=other)
    assert "learning_rate" in str(err.value) and "n_steps" in str(err.value) and "ent_coef" not in str(err.value)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_heartbeat_fails_a_silent_trial_and_requeues_its_parameters(pg_cluster):
    """Optuna's own heartbeat + RetryHeartbeatStaleTrialCallback, wired by make_storage: a trial whose
    worker stopped beating is FAILED by the next worker's optimize, and its parameters run again."""
    import time

    url = pg_cluster.create_database("beat")
    study = open_study("b", make_storage(url, ".", heartbeat=1), space=SearchSpace())
    dead = study.ask()  # a worker that asked, beat once, then died
    dead.suggest_float("x", 0.0, 1.0)
    study._storage.record_heartbeat(dead._trial_id)
    time.sleep(3.5)  # > grace (3 heartbeats)
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    states = {t.number: t.state for t in study.trials}
    assert states[dead.number] == optuna.trial.TrialState.FAIL
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == dead.number]
    assert retried and retried[0].params == {"x": dead.params["x"]}
    assert retried[0].state == optuna.trial.TrialState.COMPLETE


@pytest.mark.slow
def test_curriculum_auto_optimize_on_postgres_leaves_no_password_behind(pg_cluster, tmp_path, capsys):
    from test_curriculum_stages import TINY_SETS, write_curriculum

    from tradelab.cli import main

    url = pg_cluster.create_database("curriculum")
    config, out = write_curriculum(tmp_path), tmp_path / "cur"
    rc = main(["curriculum", "--stage", "1", "--config", str(config), "--output-dir", str(out), "--auto-optimize",
               "--n-trials", "2", "--storage", url, *[x for s in TINY_SETS for x in ("--set", s)]])
    assert rc == 0
    study = optuna.load_study(study_name="ploutos_stage1", storage=make_storage(url, ".", heartbeat=None))
    assert len([t for t in study.trials if t.state.is_finished()]) == 2 and "search_space" in study.user_attrs
    report = json.loads((out / "stage1_report.json").read_text())
    assert report["config"]["ppo"]["learning_rate"] == pytest.approx(study.best_params["learning_rate"])
    leaks = [str(p) for p in out.rglob("*") if p.is_file() and pg_cluster.password.encode() in p.read_bytes()]
    captured = capsys.readouterr()
    assert leaks == [] and pg_cluster.password not in captured.out + captured.err
