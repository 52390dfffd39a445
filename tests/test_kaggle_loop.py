"""The Kaggle loop end to end: the real ``kaggle`` CLI against the loopback emulator.

The emulator executes each pushed notebook with papermill in a sandbox laid out like
/kaggle/input + /kaggle/working, so these tests cover datasets → kernel → outputs → resume. It
also behaves like the real service where a naive server would not (token introspection, slow
dataset processing, stale session status, NEW_SCRIPT, accepted-with-warning pushes, error pages
as output files, a cp312 image without network): one test per behaviour below.
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
from tradelab.kaggle.datasets import build_data_dataset, ensure_dataset
from tradelab.results import RunResult
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
    emulator = KaggleEmulator(base / "emulator", processing_s=1.0)  # Kaggle processes each dataset version
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
def wheelhouse(tmp_path_factory):
    """The shared cp312 wheel cache (built once), exported for `push` to reuse."""
    from kaggle_emulator import wheelhouse as cache_dir

    from tradelab.kaggle.spec import KAGGLE_MISSING
    from tradelab.kaggle.wheels import download_wheels

    cache = cache_dir(REPO)
    try:
        download_wheels(list(KAGGLE_MISSING), tmp_path_factory.mktemp("wheels"), cache)
    except KaggleError as exc:
        pytest.skip(f"cannot build the cp312 wheelhouse {cache} once (package index unreachable?): {exc}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRADELAB_KAGGLE_WHEELHOUSE", str(cache))
        yield cache


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


def _token_only(monkeypatch, world, home: Path) -> str:
    """Log the CLI in with an API token only: no user name, key or kaggle.json anywhere."""
    token = world.emulator.add_token(OWNER)
    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KAGGLE_API_TOKEN", token)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))
    return token


def test_token_only_login_learns_user_name_by_introspection(world, monkeypatch, tmp_path):
    """Item 1: KAGGLE_API_TOKEN alone (what `kaggle auth login` users have) can push."""
    _token_only(monkeypatch, world, tmp_path)
    pushed = world.push(slug="tradelab-probe-token")
    assert pushed.kernel.ref == f"{OWNER}/tradelab-probe-token"
    assert "POST /api/v1/security.OAuthService/IntrospectToken" in world.emulator.requests
    assert wait(pushed.slug, out_root=world.out, poll_s=0.5, max_poll_s=1.0, timeout_s=120).state == "COMPLETE"
    monkeypatch.setenv("KAGGLE_API_TOKEN", "KGAT_revoked")  # an unknown token is not a login
    with pytest.raises(KaggleError, match="user name unknown"):
        world.push(slug="tradelab-probe-token")


def test_dry_run_needs_no_credentials(world, monkeypatch, tmp_path, capsys):
    """Item 1: `tradelab kaggle push WORKFLOW --dry-run` with no credentials at all."""
    from tradelab.cli import main

    for var in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "cfg"))
    spec_file = tmp_path / "probe.yaml"
    spec_file.write_text(json.dumps(world.spec().to_dict()))
    out = tmp_path / "kaggle"
    assert main(["kaggle", "push", str(spec_file), "--dry-run", "--out", str(out), "--root", str(world.root)]) == 0
    printed = capsys.readouterr().out
    assert "placeholder owner 'your-kaggle-username'" in printed
    meta = json.loads((out / "tradelab-kaggle-probe" / "push" / "kernel-metadata.json").read_text())
    assert meta["id"] == "your-kaggle-username/tradelab-kaggle-probe"


def test_kernel_mounts_the_new_data_version_not_the_one_being_processed(world):
    """Item 2: after `datasets version`, Kaggle serves the old version until processing ends."""
    data = world.work / "fresh_data"
    data.mkdir()
    spec = world.spec(data_dir=str(data), data_dataset="tradelab-data-fresh")
    (data / "probe.csv").write_text("timestamp,close\n2024-01-02,1.0\n")
    old = build_data_dataset(f"{OWNER}/tradelab-data-fresh", world.out / "datasets", data, ["*.csv"])
    assert ensure_dataset(KaggleCLI(), old) == "created"  # first version: `datasets files` 404s meanwhile
    (data / "probe.csv").write_text("timestamp,close\n2024-01-03,2.0\n")
    pushed = world.push(spec=spec, slug="tradelab-probe-fresh")
    assert pushed.actions["data"] == "versioned"
    wait(pushed.slug, out_root=world.out, poll_s=0.5, max_poll_s=1.0, timeout_s=120)
    metrics = json.loads((pull(pushed.slug, out_root=world.out) / "metrics.json").read_text())
    assert metrics["data_sha256"] == file_sha256(data / "probe.csv")  # the new version, not the old one
    assert len(world.emulator.datasets[f"{OWNER}/tradelab-data-fresh"]) == 2


def test_no_second_version_while_one_is_processed(world):
    """Item 2: Kaggle refuses a version while the previous one is processed; tradelab waits."""
    data = world.work / "busy_data"
    data.mkdir()
    (data / "probe.csv").write_text("a\n1\n")
    cli = KaggleCLI()
    first = build_data_dataset(f"{OWNER}/tradelab-data-busy", world.out / "busy", data, ["*.csv"])
    assert ensure_dataset(cli, first) == "created"
    (data / "probe.csv").write_text("a\n2\n")
    refused_mtime = (data / "probe.csv").stat().st_mtime
    second = build_data_dataset(f"{OWNER}/tradelab-data-busy", world.out / "busy", data, ["*.csv"])
    world.emulator.processing_s = 600.0  # until finish_processing below, whatever the machine's load
    try:
        cli.dataset_version(second.path, "pushed by someone else")  # now being processed ...
        with pytest.raises(KaggleError, match="still being processed"):  # ... refused (HTTP 403), like Kaggle
            cli.dataset_version(second.path, "too early")
        world.emulator.finish_processing(f"{OWNER}/tradelab-data-busy", in_s=3.0)
        world.emulator.processing_s = 1.0  # for the version tradelab pushes next
        (data / "probe.csv").write_text("a\n3\n")
        # same size and modification time as the refused upload: the CLI would resume that upload (its
        # saved state) and the new version would carry "a\n2\n"; tradelab clears that state first
        os.utime(data / "probe.csv", (refused_mtime, refused_mtime))
        third = build_data_dataset(f"{OWNER}/tradelab-data-busy", world.out / "busy", data, ["*.csv"])
        assert ensure_dataset(cli, third) == "versioned"  # waited for READY first
    finally:
        world.emulator.processing_s = 1.0
    versions = world.emulator.datasets[f"{OWNER}/tradelab-data-busy"]
    assert len(versions) == 3 and versions[-1]["files"]["probe.csv"] == b"a\n3\n"


def test_repush_of_same_slug_waits_for_the_new_session(world):
    """Item 5: right after a push `kernels status` still says the previous run's COMPLETE."""
    first = world.push(slug="tradelab-probe-repush")
    wait(first.slug, out_root=world.out, poll_s=0.5, max_poll_s=1.0, timeout_s=120)
    world.emulator.stale_s = 3.0
    try:
        # runs well past stale_s, so its RUNNING is seen (a run that ends inside the stale window is
        # accepted only after settle_s: slower but never the previous run's outputs)
        second = world.push(params={"smoke": False, "sleep_s": 6.0}, slug="tradelab-probe-repush")
        assert second.version == 2
        wait(second.slug, out_root=world.out, poll_s=0.5, max_poll_s=1.0, timeout_s=120)
        metrics = json.loads((pull(second.slug, out_root=world.out) / "metrics.json").read_text())
    finally:
        world.emulator.stale_s = 0.0
    assert metrics["smoke"] is False  # the second run's outputs, not the first's


def test_new_script_status_fails_fast(world):
    """Item 8: NEW_SCRIPT (saved, never started) is not waited on until the timeout."""
    world.emulator.start_sessions = False
    try:
        pushed = world.push(slug="tradelab-probe-unstarted")
    finally:
        world.emulator.start_sessions = True
    start = time.monotonic()
    with pytest.raises(KaggleError, match="NEW_SCRIPT.*not running"):
        wait(pushed.slug, out_root=world.out, poll_s=0.5, max_poll_s=1.0, timeout_s=30)
    assert time.monotonic() - start < 15


def test_push_accepted_with_a_warning_is_tracked(world):
    """Item 7: Kaggle runs a kernel whose inputs it dropped; its state is written before the error."""
    with pytest.raises(KaggleError, match="kernel sources.*tradelab kaggle wait tradelab-probe-warned"):
        world.push(slug="tradelab-probe-warned", kernel_sources=(f"{OWNER}/no-such-kernel",))
    state = load_state("tradelab-probe-warned", world.out)
    assert state["version"] == 1 and "no-such-kernel" in state["warnings"][0]
    assert len(world.emulator.kernels[state["ref"]]) == 1  # and it runs on Kaggle


def test_error_page_saved_as_output_is_detected(world, first_run):
    """Also: 2.2.4's `kernels output` writes an error page under the file's name."""
    world.emulator.error_outputs = {"metrics.json": 403}
    try:
        with pytest.raises(KaggleError, match=r"metrics.json \(HTTP 403\)"):
            pull(first_run[0].slug, out_root=world.out)
        assert not (first_run[1] / "metrics.json").exists()  # the error page was not left behind
    finally:
        world.emulator.error_outputs = {}
    assert json.loads((pull(first_run[0].slug, out_root=world.out) / "metrics.json").read_text())["step"] == 1


def test_failed_kernel_outputs_are_pulled_and_reported(world, capsys):
    """Item 4 (CLI side): `run` pulls what an ERROR'd kernel wrote; `pull` works after ERROR."""
    from tradelab.cli import main

    with pytest.raises(KaggleError, match=r"status ERROR(.|\n)*recovered its outputs.*progress.json"):
        run(world.spec(), {"fail": True}, root=world.root, out_root=world.out, slug="tradelab-probe-recover")
    assert main(["kaggle", "pull", "tradelab-probe-recover", "--out", str(world.out)]) == 0
    printed = capsys.readouterr().out
    assert "progress.json" in printed and "status ERROR" in printed and "missing" in printed
    dest = world.out / "tradelab-probe-recover" / "v1"
    assert json.loads((dest / "progress.json").read_text())["step"] == 1


def test_offline_kernel_installs_the_cp312_wheels_without_network(world, wheelhouse):
    """Item 3: the bootstrap's `pip install --no-index --find-links … --no-deps` in a kernel that
    pip sees as CPython 3.12 manylinux x86_64, with the network disabled."""
    from tradelab.kaggle.spec import KAGGLE_MISSING

    spec = world.spec(wheels=True, enable_internet=False, requirements=list(KAGGLE_MISSING))
    result, dest = run(spec, {}, root=world.root, out_root=world.out, slug="tradelab-probe-offline")
    assert result.actions["wheels"] == "created"
    site = world.emulator.kernels[result.kernel.ref][-1].sandbox / "image-site"
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert installed == {"farama_notifications", "gymnasium", "stable_baselines3", "ta", "hmmlearn",
                         "backtesting", "arch"}
    assert not list(site.glob("torch*")) and not list(site.glob("tensorflow*"))
    assert json.loads((dest / "metrics.json").read_text())["step"] == 1


@pytest.mark.slow
def test_sac_workflow_on_emulator_then_local_inference(world, wheelhouse, monkeypatch, tmp_path, capsys):
    """`tradelab kaggle run 02_sac` with a tiny budget → agent_1_best.pt pulled → `tradelab infer` on it.

    As on real Kaggle: token-only login, dataset versions processed with a delay, an offline
    kernel installing the cp312 wheels dataset with no network, and a re-push of the same slug."""
    from tradelab.cli import main
    from tradelab.data.build import build_processed

    data = world.work / "sac_data"
    build_processed(["GOOG"], out_dir=data)  # the real embedded GOOG bars
    base = KaggleSpec.from_yaml(REPO / "kaggle" / "specs" / "02_sac.yaml")  # the shipped spec, adapted:
    fields = {**base.to_dict(), "data_dir": str(data), "enable_gpu": False, "enable_internet": False,
              "wheels": True, "poll_s": 1.0, "max_poll_s": 2.5, "timeout_s": 300.0,
              "notebook": str(REPO / "notebooks" / "02_sac.ipynb")}
    (tmp_path / "02_sac.yaml").write_text(json.dumps(fields))  # JSON is valid YAML
    params = ["-p", "asset", "GOOG", "-p", "smoke", "true", "-p", "num_episodes", "1", "-p", "eval_frequency", "1",
              "-p", "checkpoint_frequency", "1", "-p", "episode_length", "48", "-p", "warmup_steps", "32",
              "-p", "device", "cpu"]
    argv = ["kaggle", "run", "02_sac", "--spec-dir", str(tmp_path), "--out", str(world.out), "--root", str(world.root)]
    _token_only(monkeypatch, world, tmp_path / "home")
    assert main([*argv, *params]) == 0
    world.emulator.stale_s = 3.0  # the re-push: status still says v1's COMPLETE for a while
    try:
        assert main([*argv, *params, "-p", "seed", "7"]) == 0
    finally:
        world.emulator.stale_s = 0.0
    printed = capsys.readouterr().out
    assert "pulled" in printed and "agent_1_best.pt" in printed  # `run` says what it pulled
    runs = world.emulator.kernels[f"{OWNER}/tradelab-02-sac"]
    assert [r.status for r in runs] == ["COMPLETE", "COMPLETE"]
    assert (runs[-1].sandbox / "image-site" / "stable_baselines3").is_dir()  # installed offline from the wheels
    assert "seed = 7" in runs[-1].text
    dest = world.out / "tradelab-02-sac" / "v2"
    assert (dest / "agent_1_best.pt").is_file()
    assert list(dest.glob(base.resume_glob)), "no periodic checkpoint for `kaggle resume` to start from"
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["files"]["agent_1_best.pt"]["sha256"] == file_sha256(dest / "agent_1_best.pt")
    out = tmp_path / "inference"
    assert main(["infer", "--checkpoint", str(dest / "agent_1_best.pt"), "--h5-path", str(data / "processed_data.h5"),
                 "--output-dir", str(out), "--max-bars", "120"]) == 0
    result = RunResult.read(out)
    assert "buy_and_hold" in result.strategies and result.focus.startswith("sac") and result.workflow == "inference"
    trained = RunResult.read(dest)  # the kernel's SAC result, pulled home
    assert trained.workflow == "sac" and trained.meta["training"]["episodes"] >= 1


def test_credentials_never_written_anywhere(world, first_run):
    """Last in the module: greps everything the tests above produced, kernels included."""
    roots = [world.work, world.emulator.root]
    offenders = [p for r in roots for p in r.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert not offenders
    assert sum(1 for r in roots for p in r.rglob("*") if p.is_file()) > 10  # the grep saw real files
