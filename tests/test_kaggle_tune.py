"""One Optuna study on a real PostgreSQL server (tests/pg_cluster.py) shared by two local
`tradelab tune` workers and two Kaggle kernels pushed by `tradelab kaggle tune` (the real kaggle CLI
against the loopback emulator, whose sandboxed kernels reach 127.0.0.1). A third local worker is
worker is SIGKILLed mid-trial: its trial must end FAILED (Optuna's heartbeat, or a starting worker
that sees the process gone) and be retried by another worker, and the study must still complete. The storage password must appear in no file the run produced."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
import yaml
from kaggle_emulator import KaggleEmulator
from test_curriculum_stages import TINY_SETS, write_curriculum

from tradelab.results import RunResult
from tradelab.training.study_storage import STORAGE_ENV
from tradelab.training.tuning import make_storage

pytestmark = [pytest.mark.kaggle, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
OWNER = "tradelab-tester"
STUDY = "shared"
HEARTBEAT = 2  # s; a trial silent for 3 beats is failed


def _spec_dir(tmp: Path) -> Path:
    """The shipped 06_tune_worker spec, minus what needs the network (the image has the packages)."""
    spec = yaml.safe_load((REPO / "kaggle" / "specs" / "06_tune_worker.yaml").read_text())
    spec.update(requirements=[], enable_gpu=False, notebook=str(REPO / "notebooks" / "06_tune_worker.ipynb"),
                poll_s=1.0, max_poll_s=2.0, timeout_s=300.0)
    folder = tmp / "specs"
    folder.mkdir()
    (folder / "06_tune_worker.yaml").write_text(yaml.safe_dump(spec))
    return folder


def _trials(url: str) -> list:
    try:
        study = optuna.load_study(study_name=STUDY, storage=make_storage(url, ".", heartbeat=None))
    except KeyError:  # not created yet
        return []
    return study.get_trials(deepcopy=False)


def _files_with(secret: str, *roots: Path, skip: tuple[Path, ...] = ()) -> list[str]:
    hits = []
    for root in roots:
        for path in (p for p in root.rglob("*") if p.is_file()):
            if not any(path.is_relative_to(s) for s in skip) and secret.encode() in path.read_bytes():
                hits.append(str(path))
    return hits


def test_two_local_workers_and_two_kernels_share_one_postgres_study(pg_cluster, tmp_path):
    url = pg_cluster.create_database("shared_study")
    emulator = KaggleEmulator(tmp_path / "emulator")
    emulator.start()
    work = tmp_path / "work"
    for sub in ("lib/tradelab", "configs"):  # a snapshot: the code dataset is built from it
        shutil.copytree(REPO / sub, work / "repo" / sub, ignore=shutil.ignore_patterns("__pycache__"))
    config = write_curriculum(tmp_path)
    sets = [x for s in TINY_SETS for x in ("--set", s)]
    client = emulator.client_env(tmp_path / "client", OWNER, "tlkey-not-a-secret")
    env = {**os.environ, **client, "PYTHONPATH": f"{client['PYTHONPATH']}{os.pathsep}{REPO / 'lib'}",
           "TRADELAB_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env.pop("KAGGLE_API_TOKEN", None)
    env.pop(STORAGE_ENV, None)
    logs = tmp_path / "logs"
    logs.mkdir()
    started = time.monotonic()
    procs: dict[str, subprocess.Popen] = {}
    try:
        kaggle_cmd = [sys.executable, "-m", "tradelab.cli", "kaggle", "tune", "--study", STUDY, "--storage", url,
                      "--workers", "2", "--add-trials", "2", "--timesteps", "128", "--heartbeat", str(HEARTBEAT),
                      "--root", str(work / "repo"), "--out", str(work / "outputs" / "kaggle"),
                      "--spec-dir", str(_spec_dir(tmp_path)), "-p", "config", str(config), *sets]
        procs["kaggle"] = subprocess.Popen(kaggle_cmd, env=env, cwd=work, stdout=(logs / "kaggle.out").open("w"),
                                           stderr=subprocess.STDOUT)
        for i, n, steps in ((1, 3, 128), (2, 3, 128), (3, 1, 10_000_000)):  # 3: the victim, a trial that never ends
            cmd = [sys.executable, "-m", "tradelab.cli", "tune", "--study", STUDY, "--stage", "1", "--add-trials",
                   str(n), "--config", str(config), "--output-dir", str(work / f"local{i}"), "--timesteps",
                   str(steps), "--heartbeat", str(HEARTBEAT), "--seed", str(i), *sets]
            # the URL reaches local workers by environment (not in `ps`)
            procs[f"local{i}"] = subprocess.Popen(cmd, env={**env, STORAGE_ENV: url}, cwd=work,
                                                  stdout=(logs / f"local{i}.out").open("w"), stderr=subprocess.STDOUT)
        victim = procs["local3"]
        deadline = time.monotonic() + 150
        while not (mine := [t for t in _trials(url) if t.state.name == "RUNNING"
                            and str(t.user_attrs.get("worker_label", "")).endswith(f":{victim.pid}")]):
            assert victim.poll() is None, (logs / "local3.out").read_text()[-2000:]
            assert time.monotonic() < deadline, "the victim never started its trial"
            time.sleep(0.2)
        victim.send_signal(signal.SIGKILL)  # mid-trial: its 10M steps take hours
        victim.wait()
        killed = mine[0]
        for name in ("kaggle", "local1", "local2"):
            assert procs[name].wait(timeout=240) == 0, (logs / f"{name}.out").read_text()[-3000:]
        wall = time.monotonic() - started
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        emulator.stop()

    trials = _trials(url)
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)) == len({t._trial_id for t in trials})  # no number twice
    labels = {t.number: str(t.user_attrs.get("worker_label", "")) for t in trials}
    per_worker: dict[str, list[str]] = {}
    for t in trials:
        per_worker.setdefault(labels[t.number], []).append(t.state.name)
    kernels = [w for w in per_worker if w.startswith(f"kaggle:{OWNER}/")]
    local = [w for w in per_worker if w.startswith("local:")]
    victim_label = labels[killed.number]
    assert len(kernels) == 2 and len(local) == 3 and victim_label in local, per_worker
    assert per_worker[victim_label] == ["FAIL"], per_worker
    for worker in kernels + [w for w in local if w != victim_label]:  # all four workers finished trials
        assert {"COMPLETE", "PRUNED"} & set(per_worker[worker]), per_worker
    # the killed trial: FAILED (heartbeat, or a starting worker seeing its process gone), its parameters
    # retried by another worker and finished; nothing left hanging
    assert trials[killed.number].state == optuna.trial.TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert retried and retried[0].params == killed.params and retried[0].state.is_finished(), per_worker
    assert not [t.number for t in trials if t.state.name in ("RUNNING", "WAITING")], per_worker

    out = (logs / "kaggle.out").read_text()
    best = max((t for t in trials if t.state.name == "COMPLETE"), key=lambda t: t.value)
    assert f"best trial {best.number}: validation Sharpe {best.value:.3f}" in out, out[-2000:]
    summary = json.loads((work / "outputs" / "kaggle" / "tradelab-tune-shared.json").read_text())
    if labels[best.number].startswith("kaggle:"):  # its model came home with the pulled outputs
        assert Path(summary["best_model"]).is_file(), summary
    else:
        assert Path(best.user_attrs["model_path"]).is_file()
    for ref, folder in summary["pulled"].items():
        metrics = RunResult.read(folder).meta["tune"]
        assert metrics["worker"] == f"kaggle:{ref}" and len(metrics["worker_trials"]) >= 2
        assert all((Path(folder) / "trials" / STUDY / f"trial_{n}.zip").is_file() for n in metrics["worker_trials"]
                   if trials[n].state.name == "COMPLETE")

    # the password is in no produced file: kernel folders and state, pulled outputs, executed notebooks and
    # logs in the sandboxes, local outputs, logs, the kaggle CLI's home/temp (only the private dataset, as
    # Kaggle mounts it under input/, holds the URL: that is the channel)
    sandboxes = tmp_path / "emulator" / "kernels"
    mounts = tuple(p for p in sandboxes.glob("*/v*/input"))
    leaks = _files_with(pg_cluster.password, work, logs, tmp_path / "client", sandboxes, skip=mounts)
    leaks += _files_with(pg_cluster.password, *Path(tempfile.gettempdir()).glob("tradelab-storage-*"))
    assert leaks == []
    for runs in emulator.kernels.values():
        for run in runs:
            assert pg_cluster.password not in run.text and pg_cluster.password not in json.dumps(
                {k: v for k, v in run.request.items() if not k.startswith("_")})
    held = [f for ref, versions in emulator.datasets.items() for f in versions[-1]["files"].values()
            if pg_cluster.password.encode() in f]
    assert len(held) == 1  # the private storage dataset, and only it
    print(f"\n4-worker study: {len(trials)} trials in {wall:.0f} s; per worker: {per_worker}; "
          f"best {best.value:.3f} (trial {best.number} by {labels[best.number]})")


def test_kernel_reads_the_url_from_its_file_and_never_echoes_a_bad_one(tmp_path):
    from tradelab.errors import ConfigError, KaggleError
    from tradelab.kaggle import load_spec
    from tradelab.kaggle.tune_workers import WORKFLOW, read_storage_url, tune_on_kaggle

    good = tmp_path / "optuna_storage.url"
    good.write_text("postgresql://u:s3cret@db.example:5432/optuna\n")
    assert read_storage_url(str(good), None) == "postgresql://u:s3cret@db.example:5432/optuna"
    bad = tmp_path / "bad.url"
    bad.write_text("s3cret-without-scheme")
    with pytest.raises(ConfigError, match="does not hold a storage URL") as err:
        read_storage_url(str(bad), None)
    assert "s3cret" not in str(err.value)
    with pytest.raises(ConfigError, match="not a Kaggle kernel"):  # no kaggle_secrets outside Kaggle
        read_storage_url(None, "TRADELAB_OPTUNA_STORAGE")
    spec = load_spec(WORKFLOW)
    for storage in ("sqlite:///x.db", f"journal:{tmp_path / 'j.log'}"):
        with pytest.raises(KaggleError, match="cannot reach a file on this machine"):
            tune_on_kaggle(spec, storage, "s", 2, {})
    with pytest.raises(KaggleError, match="enable_internet must be true"):
        tune_on_kaggle(spec.replace(enable_internet=False, wheels=True), "postgresql://u:p@h/db", "s", 2, {})
