"""The Kaggle loop end to end: the real ``kaggle`` CLI against the loopback emulator.

The emulator executes each pushed notebook with papermill in a sandbox laid out like
/kaggle/input + /kaggle/working, so these tests cover datasets → kernel → outputs → resume.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from kaggle_emulator import KaggleEmulator

from tradelab.errors import KaggleError
from tradelab.kaggle import CREDENTIALS_HELP, KaggleCLI, KaggleSpec, load_state, pull, push, resume, run, wait
from tradelab.utils import file_sha256

pytestmark = pytest.mark.kaggle

REPO = Path(__file__).resolve().parents[1]
PROBE = REPO / "tests" / "data" / "kaggle_probe.ipynb"
OWNER = "tradelab-tester"
KEY = f"tlkey{uuid.uuid4().hex}"


@dataclass
class World:
    emulator: KaggleEmulator
    work: Path
    out: Path
    base: Path

    def spec(self, **kw) -> KaggleSpec:
        fields = dict(
            workflow="kaggle_probe", notebook=str(PROBE), data_dir=str(self.work / "data"),
            data_files=["probe.csv"], path_parameters={"data_path": "data:probe.csv"},
            expected_outputs=["metrics.json", "ckpt/last.ckpt"], resume_glob="**/*.ckpt",
            enable_gpu=False, requirements=[], poll_s=1.0, max_poll_s=2.5, timeout_s=120.0,
        )
        return KaggleSpec.from_dict({**fields, **kw})

    def push(self, **kw):
        return push(kw.pop("spec", None) or self.spec(), kw.pop("params", {}), root=self.root, out_root=self.out, **kw)

    @property
    def root(self) -> Path:
        return self.work / "repo"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("kaggle")
    emulator = KaggleEmulator(base / "emulator")
    emulator.start()
    work = base / "work"
    for sub in ("lib/tradelab", "configs"):  # a snapshot: others may edit the checkout meanwhile
        shutil.copytree(REPO / sub, work / "repo" / sub, ignore=shutil.ignore_patterns("__pycache__"))
    (work / "data").mkdir(parents=True)
    (work / "data" / "probe.csv").write_text("timestamp,close\n2024-01-02,100.5\n")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in emulator.client_env(base / "client", OWNER, KEY).items():
            mp.setenv(key, value)
        mp.delenv("KAGGLE_API_TOKEN", raising=False)
        yield World(emulator, work, work / "outputs" / "kaggle", base)
    emulator.stop()


@pytest.fixture(scope="module")
def first_run(world):
    result, dest = run(world.spec(), {"smoke": True}, root=world.root, out_root=world.out)
    return result, dest


def test_run_pushes_datasets_executes_kernel_and_pulls_outputs(world, first_run):
    result, dest = first_run
    assert result.actions == {"code": "created", "data": "created"}
    assert dest == world.out / "tradelab-kaggle-probe" / f"v{result.version}"
    metrics = json.loads((dest / "metrics.json").read_text())
    assert metrics["step"] == 1 and metrics["smoke"] is True
    assert metrics["data_sha256"] == file_sha256(world.work / "data" / "probe.csv")
    # tradelab was imported from the code dataset inside the sandbox, not from this checkout
    assert metrics["tradelab_file"].startswith(str(world.emulator.root)), metrics["tradelab_file"]
    # subfolders were uploaded (zipped), not skipped
    assert {"lib.zip", "configs.zip"} <= set(world.emulator.dataset_files(f"{OWNER}/tradelab-code"))
    manifest = json.loads((dest / "manifest.json").read_text())
    for rel, info in manifest["files"].items():
        assert info["sha256"] == file_sha256(dest / rel) and info["size"] == (dest / rel).stat().st_size
    assert {"metrics.json", "ckpt/last.ckpt"} <= set(manifest["files"])
    assert load_state("tradelab-kaggle-probe", world.out)["version"] == result.version


def test_status_text_with_enum_prefix_is_parsed(world, first_run, capsys):
    from tradelab.cli import main

    ref = first_run[0].kernel.ref
    raw = KaggleCLI().run("kernels", "status", ref)
    assert "KernelWorkerStatus.COMPLETE" in raw  # the CLI's odd wording ...
    assert main(["kaggle", "status", first_run[0].slug, "--out", str(world.out)]) == 0
    assert capsys.readouterr().out.strip() == "COMPLETE"  # ... read as the word


def test_stale_local_output_is_replaced(world, first_run):
    result, dest = first_run
    stale = dest / "metrics.json"
    stale.write_text(json.dumps({"stale": True, "pad": "x" * 2000}))  # not smaller than the remote file
    future = time.time() + 3600
    os.utime(stale, (future, future))
    KaggleCLI().run("kernels", "output", result.kernel.ref, "-p", str(dest))  # the trap: no --force
    assert json.loads(stale.read_text())["stale"] is True
    from tradelab.cli import main

    assert main(["kaggle", "pull", result.slug, "--out", str(world.out)]) == 0  # always --force
    assert json.loads(stale.read_text())["step"] == 1


def test_pull_checks_expected_files(world, first_run):
    with pytest.raises(KaggleError, match=r"lack \['agent_1_best.pt'\]"):
        pull(first_run[0].slug, out_root=world.out, expected=["agent_1_best.pt"])


def test_resume_chain_starts_from_previous_checkpoint(world, first_run):
    world.emulator.layout = "new"  # /kaggle/input/<kind>/<owner>/<slug>/ this time
    try:
        second = resume(first_run[0].slug, root=world.root, out_root=world.out)
        assert second.slug == "tradelab-kaggle-probe-r2"
        assert second.kernel.metadata["kernel_sources"] == [first_run[0].kernel.ref]
        assert second.actions == {"code": "unchanged", "data": "unchanged"}
        wait(second.slug, out_root=world.out, poll_s=1.0, max_poll_s=2.5, timeout_s=120)
        metrics = json.loads((pull(second.slug, out_root=world.out) / "metrics.json").read_text())
    finally:
        world.emulator.layout = "old"
    assert metrics["step"] == 2
    assert "tradelab-kaggle-probe" in metrics["resumed_from"] and metrics["resumed_from"].endswith("last.ckpt")


def test_rejected_push_raises_although_cli_exits_zero(world):
    world.emulator.reject_push = "Notebook exceeds the maximum number of GPU sessions"
    try:
        with pytest.raises(KaggleError, match="maximum number of GPU sessions"):
            world.push(slug="tradelab-probe-rejected")
    finally:
        world.emulator.reject_push = None
    with pytest.raises(KaggleError, match="kernel sources"):  # pushed, but without an input
        world.push(slug="tradelab-probe-orphan", kernel_sources=(f"{OWNER}/no-such-kernel",))


def test_silently_skipped_upload_is_detected(world):
    world.emulator.fail_uploads = {"probe.csv"}
    try:
        with pytest.raises(KaggleError, match=r"saved without \['probe.csv'\]"):
            world.push(spec=world.spec(data_dataset="tradelab-data-skipped"), slug="tradelab-probe-skipped")
    finally:
        world.emulator.fail_uploads = set()
    # the CLI really did create the dataset without the file and exited 0
    assert world.emulator.dataset_files(f"{OWNER}/tradelab-data-skipped") == {}


def test_missing_credentials_is_one_clear_error(world, monkeypatch, tmp_path):
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "cfg"))
    before = len(world.emulator.requests)
    with pytest.raises(KaggleError) as info:
        KaggleCLI().kernel_status(f"{OWNER}/tradelab-kaggle-probe")
    assert str(info.value) == CREDENTIALS_HELP
    assert "~/.kaggle/kaggle.json" in CREDENTIALS_HELP and "KAGGLE_USERNAME" in CREDENTIALS_HELP
    assert len(world.emulator.requests) == before  # the CLI gave up before any request


def test_ctrl_c_leaves_kernel_running_then_error_carries_failure_and_log(world):
    pushed = world.push(params={"sleep_s": 4.0, "fail": True}, slug="tradelab-probe-fails")
    cmd = [str(Path(sys.executable).parent / "tradelab"), "kaggle", "wait", pushed.slug,
           "--out", str(world.out), "--poll", "1.0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen, deadline = b"", time.monotonic() + 60
    while pushed.kernel.ref.encode() not in seen and time.monotonic() < deadline:  # first progress line
        seen += os.read(proc.stderr.fileno(), 4096)
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=30)
    err = (seen + rest).decode()
    assert proc.returncode == 130, (out, err)
    assert "keeps running on Kaggle" in err and f"tradelab kaggle wait {pushed.slug}" in err
    assert world.emulator.kernels[pushed.kernel.ref][-1].status in ("QUEUED", "RUNNING")
    with pytest.raises(KaggleError, match="keeps running on Kaggle"):  # a timeout leaves it running too
        wait(pushed.slug, out_root=world.out, poll_s=0.1, max_poll_s=0.1, timeout_s=0.05)
    with pytest.raises(KaggleError) as info:  # waiting again: the kernel raised
        wait(pushed.slug, out_root=world.out, poll_s=1.0, max_poll_s=2.5, timeout_s=120)
    text = str(info.value)
    assert "status ERROR" in text and "probe failure requested at step 1" in text
    assert "log lines" in text


def test_cli_push_dry_run_writes_folders_and_prints_paths(world, capsys, tmp_path):
    from tradelab.cli import main

    spec_file = tmp_path / "probe.yaml"
    spec_file.write_text(json.dumps(world.spec().to_dict()))  # JSON is valid YAML
    out = tmp_path / "kaggle"
    assert main(["kaggle", "push", str(spec_file), "--dry-run", "--out", str(out), "--root", str(world.root)]) == 0
    printed = capsys.readouterr().out
    kernel_dir = out / "tradelab-kaggle-probe" / "push"
    assert str(kernel_dir) in printed and (kernel_dir / "kernel-metadata.json").is_file()
    for slug in ("tradelab-code", "tradelab-data"):
        assert str(out / "datasets" / slug) in printed
        assert (out / "datasets" / slug / "dataset-metadata.json").is_file()
    for action in ("push", "wait", "pull", "run", "status", "resume"):
        with pytest.raises(SystemExit) as exit_info:
            main(["kaggle", action, "--help"])
        assert exit_info.value.code == 0


@pytest.mark.slow
def test_sac_workflow_on_emulator_then_local_inference(world, tmp_path):
    """`tradelab kaggle run 02_sac` with a tiny budget → agent_1_best.pt pulled → `tradelab infer` on it."""
    from tradelab.cli import main
    from tradelab.data.build import build_processed

    data = world.work / "sac_data"
    build_processed(["GOOG"], out_dir=data)  # the real embedded GOOG bars
    base = KaggleSpec.from_yaml(REPO / "kaggle" / "specs" / "02_sac.yaml")  # the shipped spec, adapted:
    fields = {**base.to_dict(), "data_dir": str(data), "requirements": [], "enable_gpu": False,
              "poll_s": 1.0, "max_poll_s": 2.5, "timeout_s": 300.0, "data_dataset": "tradelab-data-sac",
              "notebook": str(REPO / "notebooks" / "02_sac.ipynb")}
    (tmp_path / "02_sac.yaml").write_text(json.dumps(fields))  # JSON is valid YAML
    params = ["-p", "asset", "GOOG", "-p", "smoke", "true", "-p", "num_episodes", "1", "-p", "eval_frequency", "1",
              "-p", "checkpoint_frequency", "1", "-p", "episode_length", "48", "-p", "warmup_steps", "32",
              "-p", "device", "cpu"]
    argv = ["kaggle", "run", "02_sac", "--spec-dir", str(tmp_path), "--out", str(world.out), "--root", str(world.root)]
    assert main([*argv, *params]) == 0
    dest = world.out / "tradelab-02-sac" / "v1"
    assert (dest / "agent_1_best.pt").is_file()
    assert list(dest.glob(base.resume_glob)), "no periodic checkpoint for `kaggle resume` to start from"
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["files"]["agent_1_best.pt"]["sha256"] == file_sha256(dest / "agent_1_best.pt")
    out = tmp_path / "inference"
    assert main(["infer", "--checkpoint", str(dest / "agent_1_best.pt"), "--h5-path", str(data / "processed_data.h5"),
                 "--output-dir", str(out), "--max-bars", "120"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert "buy_and_hold" in metrics and any(k.startswith("sac") for k in metrics)


def test_credentials_never_written_anywhere(world, first_run):
    """Last in the module: greps everything the tests above produced, kernels included."""
    roots = [world.work, world.emulator.root]
    offenders = [p for r in roots for p in r.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not offenders
    assert sum(1 for r in roots for p in r.rglob("*") if p.is_file()) > 10  # the grep saw real files
