"""The Kaggle loop: push (datasets + kernel), wait, pull, run, resume.

State of each pushed kernel is kept in ``outputs/kaggle/<slug>/state.json`` (ref, version,
spec, parameters, datasets), so ``wait``/``pull``/``resume`` need only the slug. It is written as
soon as Kaggle accepted the kernel, before any warning is reported, so a running kernel is never
orphaned. Right after a push ``kernels status`` may still describe the previous session: ``wait``
accepts a finished state only once the new session was seen QUEUED/RUNNING (or ``settle_s``
after the push).
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tradelab.errors import KaggleError
from tradelab.kaggle.cli_driver import CREDENTIALS_HELP, KaggleCLI, KernelStatus
from tradelab.kaggle.datasets import (
    DatasetFolder,
    build_code_dataset,
    build_data_dataset,
    build_wheels_dataset,
    ensure_dataset,
)
from tradelab.kaggle.kernel import KernelFolder, build_kernel_folder
from tradelab.kaggle.spec import PLACEHOLDER_OWNER, KaggleSpec, resolve_owner
from tradelab.utils import atomic_write_json, file_sha256, read_json

__all__ = [
    "KernelFailed", "PushResult", "kernel_ref", "prepare", "push", "wait", "pull", "run", "resume", "load_state",
    "DEFAULT_OUT",
]

DEFAULT_OUT = Path("outputs/kaggle")
#: folder of downloaded cp312 wheels reused between pushes (default: OUT/wheelhouse-cp312)
WHEELHOUSE_ENV = "TRADELAB_KAGGLE_WHEELHOUSE"


class KernelFailed(KaggleError):
    """The kernel ended in ERROR or was cancelled (its outputs may still be pulled)."""


@dataclass(frozen=True)
class PushResult:
    """What one push produced (or, with ``dry_run``, would send)."""

    kernel: KernelFolder
    """the kernel folder"""
    datasets: dict[str, DatasetFolder]
    """role (code, data, wheels) → dataset folder"""
    version: int | None = None
    """kernel version Kaggle assigned; None on a dry run"""
    actions: dict[str, str] = field(default_factory=dict)
    """role → created|versioned|unchanged"""
    notes: tuple[str, ...] = ()
    """things the user should know (e.g. a placeholder owner on a dry run without credentials)"""

    @property
    def slug(self) -> str:
        return self.kernel.ref.split("/", 1)[1]


def _state_path(slug: str, out_root: Path) -> Path:
    return out_root / slug / "state.json"


def load_state(slug: str, out_root: Path = DEFAULT_OUT) -> dict[str, Any]:
    """The state written by the last push of ``slug`` (KaggleError when there is none)."""
    slug = slug.split("/", 1)[-1]
    path = _state_path(slug, out_root)
    if not path.is_file():
        raise KaggleError(f"no push of {slug!r} recorded in {path}: push it first with `tradelab kaggle push`")
    return read_json(path, "kaggle state")


def prepare(
    spec: KaggleSpec,
    parameters: dict[str, Any] | None = None,
    *,
    owner: str | None = None,
    out_root: Path = DEFAULT_OUT,
    root: Path | None = None,
    slug: str | None = None,
    kernel_sources: tuple[str, ...] = (),
    resume_slug: str | None = None,
    placeholder_owner: bool = False,
    extra_datasets: dict[str, str] | None = None,
) -> PushResult:
    """Build the dataset folders and the kernel folder without talking to Kaggle (except to learn
    the user name of a token login); ``placeholder_owner`` allows a stand-in name.
    ``extra_datasets`` (role → ``owner/slug``) attaches datasets pushed by the caller (e.g. the
    private storage dataset of `tradelab kaggle tune`); path parameters may name their roles."""
    spec.validate()
    notes: list[str] = []
    try:
        owner = resolve_owner(owner)
    except KaggleError:
        if not placeholder_owner:
            raise
        owner = PLACEHOLDER_OWNER
        notes.append(f"no Kaggle credentials found: the folders use the placeholder owner {owner!r}; "
                     "a real push uses your user name (set up kaggle/README.md's credentials first)")
    root = Path(root or Path.cwd())
    ds_root = out_root / "datasets"
    datasets = {"code": build_code_dataset(f"{owner}/{spec.code_dataset}", ds_root, root)}
    if spec.data_dataset:
        data_dir = Path(spec.data_dir) if Path(spec.data_dir).is_absolute() else root / spec.data_dir
        datasets["data"] = build_data_dataset(f"{owner}/{spec.data_dataset}", ds_root, data_dir, spec.data_files)
    requirements = list(spec.requirements)
    if spec.wheels:
        from tradelab.kaggle.wheels import check_wheels

        cache = Path(os.environ.get(WHEELHOUSE_ENV) or out_root / "wheelhouse-cp312")
        datasets["wheels"] = build_wheels_dataset(f"{owner}/{spec.wheels_dataset}", ds_root, requirements, cache)
        requirements = check_wheels(datasets["wheels"].path, requirements)  # in install order
    slug = slug or spec.kernel_slug
    kernel = build_kernel_folder(
        spec, owner, dict(parameters or {}), out_root / slug / "push",
        dataset_refs={**{role: ds.ref for role, ds in datasets.items()}, **(extra_datasets or {})},
        slug=slug, kernel_sources=kernel_sources, resume_slug=resume_slug, root=root, requirements=requirements,
    )
    return PushResult(kernel, datasets, notes=tuple(notes))


def push(
    spec: KaggleSpec,
    parameters: dict[str, Any] | None = None,
    *,
    cli: KaggleCLI | None = None,
    dry_run: bool = False,
    out_root: Path = DEFAULT_OUT,
    **kwargs: Any,
) -> PushResult:
    """Ensure the datasets (versioned when their hash changed, and processed by Kaggle), then
    ``kaggle kernels push``. A dry run needs no credentials (placeholder owner)."""
    prepared = prepare(spec, parameters, out_root=out_root, placeholder_owner=dry_run, **kwargs)
    if dry_run:
        return prepared
    cli = cli or KaggleCLI()
    actions = {role: ensure_dataset(cli, ds) for role, ds in prepared.datasets.items()}
    answer = cli.push_kernel(prepared.kernel.path)
    version = answer.version
    result = PushResult(prepared.kernel, prepared.datasets, version, actions)
    atomic_write_json(_state_path(result.slug, out_root), {
        "ref": prepared.kernel.ref,
        "version": version,
        "pushed_epoch": time.time(),
        "seen_live": False,
        "warnings": list(answer.warnings),
        "workflow": spec.workflow,
        "spec": spec.to_dict(),
        "parameters": prepared.kernel.parameters,
        "kernel_sources": prepared.kernel.metadata["kernel_sources"],
        "resume_of": kwargs.get("resume_slug"),
        "datasets": {r: {"ref": d.ref, "content_hash": d.content_hash, "action": actions[r]}
                     for r, d in prepared.datasets.items()},
        "pushed_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    if answer.warnings:  # Kaggle runs it anyway: the state above tracks it
        raise KaggleError(
            f"Kaggle accepted {prepared.kernel.ref} version {version} but dropped inputs ({'; '.join(answer.warnings)}); "
            f"it is running without them. Check the slugs in {prepared.kernel.path / 'kernel-metadata.json'} and that "
            f"those datasets/kernels exist and are visible to you; the run is tracked: `tradelab kaggle wait "
            f"{result.slug}` / `pull`, or fix and push again"
        )
    return result


def kernel_ref(slug: str, out_root: Path) -> str:
    if "/" in slug:
        return slug
    path = _state_path(slug, out_root)
    return read_json(path, "kaggle state")["ref"] if path.is_file() else f"{resolve_owner()}/{slug}"


def _failure(cli: KaggleCLI, ref: str, status: KernelStatus, n_lines: int = 20) -> KaggleError:
    try:
        log = cli.kernel_log(ref)[-n_lines:]
    except KaggleError as exc:
        log = [f"(log unavailable: {exc})"]
    return KernelFailed(
        f"kernel {ref} ended with status {status.state}: {status.failure_message or 'no failure message'}\n"
        f"last {len(log)} log lines:\n" + "\n".join(log)
    )


def _poll(cli: KaggleCLI, ref: str, last: str, errors: int) -> tuple[KernelStatus, int]:
    """One status call; up to two transient failures in a row keep the last known state."""
    try:
        return cli.kernel_status(ref), 0
    except KaggleError as exc:
        if errors >= 2 or str(exc) == CREDENTIALS_HELP:
            raise
        return KernelStatus(last), errors + 1


def wait(
    slug: str,
    *,
    cli: KaggleCLI | None = None,
    out_root: Path = DEFAULT_OUT,
    timeout_s: float = 43_200.0,
    poll_s: float = 30.0,
    max_poll_s: float = 300.0,
    stream: TextIO | None = None,
    settle_s: float | None = None,
) -> KernelStatus:
    """Poll the status with back-off until COMPLETE; ERROR/CANCEL raise with the log's tail,
    NEW_SCRIPT (saved, never started) at once.

    After a push, a finished state counts only once the new session was seen QUEUED/RUNNING or
    ``settle_s`` (default: the spec's) after the push: until then it may be the previous run's.
    Ctrl-C stops waiting only: the kernel keeps running and the message says how to wait again.
    """
    cli, stream = cli or KaggleCLI(), stream or sys.stderr
    ref = kernel_ref(slug, out_root)
    name = slug.split("/", 1)[-1]
    state_path = _state_path(name, out_root)
    state = read_json(state_path, "kaggle state") if state_path.is_file() else {}
    state = state if state.get("ref") == ref else {}
    if settle_s is None:
        settle_s = float(state.get("spec", {}).get("settle_s", 180.0))
    start, delay, history, errors = time.monotonic(), poll_s, [], 0
    try:
        while True:
            status, errors = _poll(cli, ref, history[-1] if history else "UNKNOWN", errors)
            if status.live and state and not state.get("seen_live"):
                state["seen_live"] = True
                atomic_write_json(state_path, state)
            stale = (status.done and state and not state.get("seen_live")
                     and int(state.get("version") or 0) != 1  # version 1 has no previous session
                     and time.time() - float(state.get("pushed_epoch", 0)) < settle_s)
            word = f"{status.state} (previous session?)" if stale else status.state
            if not history or history[-1] != word:
                history.append(word)
            elapsed = time.monotonic() - start
            stream.write(f"\r{ref}: {' → '.join(history)}  {elapsed:6.0f}s  ")
            stream.flush()
            if status.not_started:
                stream.write("\n")
                raise KaggleError(
                    f"kernel {ref} has status NEW_SCRIPT: Kaggle saved the version but is not running it, so "
                    "waiting cannot help. Push again (`tradelab kaggle push ...`) or start it from its page on kaggle.com"
                )
            if status.done and not stale:
                stream.write("\n")
                if status.failed:
                    raise _failure(cli, ref, status)
                return status
            if elapsed > timeout_s:
                raise KaggleError(
                    f"kernel {ref} still {status.state} after {timeout_s:.0f} s; it keeps running on Kaggle: "
                    f"wait again with `tradelab kaggle wait {ref.split('/')[1]}`"
                )
            time.sleep(min(delay, max(timeout_s - elapsed, 0.1)))
            delay = min(delay * 1.5, max_poll_s)
    except KeyboardInterrupt:
        stream.write(
            f"\nstopped waiting; kernel {ref} keeps running on Kaggle. Wait again with "
            f"`tradelab kaggle wait {ref.split('/')[1]}` (or check `tradelab kaggle status {ref.split('/')[1]}`)\n"
        )
        raise


def _check_downloads(cli: KaggleCLI, ref: str, dest: Path) -> KernelStatus:
    """Every listed output arrived with HTTP 2xx and its listed size (error pages are removed);
    returns the session's status."""
    bad = []
    status, listing = cli.output_listing(ref)
    for row in listing:
        path = dest / str(row["name"])
        code, size = int(row["http_status"]), row["size"]
        if code >= 400:
            bad.append(f"{row['name']} (HTTP {code})")
        elif not path.is_file():
            bad.append(f"{row['name']} (not written)")
        elif size is not None and path.stat().st_size != int(size):
            bad.append(f"{row['name']} ({path.stat().st_size} bytes, listed {size})")
        else:
            continue
        path.unlink(missing_ok=True)  # the CLI saved an error page or a truncated body under the name
    if bad:
        raise KaggleError(
            f"outputs of {ref} did not download correctly: {', '.join(bad)}; the kaggle CLI saves whatever the "
            f"server answers, so those files were removed from {dest}. Pull again: "
            f"`tradelab kaggle pull {ref.split('/', 1)[1]}`"
        )
    return status


def pull(
    slug: str,
    *,
    version: int | None = None,
    cli: KaggleCLI | None = None,
    out_root: Path = DEFAULT_OUT,
    expected: list[str] | None = None,
) -> Path:
    """Download the outputs into ``out_root/<slug>/v<N>/`` (``--force``), check each file's HTTP
    status and size and the expected files, write a manifest. After ERROR/CANCEL it recovers
    whatever the kernel wrote (expected files are not required; the manifest says what is missing)."""
    cli = cli or KaggleCLI()
    ref = kernel_ref(slug, out_root)  # keeps an explicit owner/slug as given
    slug = slug.split("/", 1)[-1]
    state = load_state(slug, out_root) if _state_path(slug, out_root).is_file() else {}
    version = version if version is not None else state.get("version")
    if expected is None:
        expected = list(state.get("spec", {}).get("expected_outputs", []))
    dest = out_root / slug / (f"v{version}" if version is not None else "latest")
    cli.kernel_output(ref, dest)
    status = _check_downloads(cli, ref, dest)
    files = sorted(p for p in dest.rglob("*") if p.is_file() and p.name != "manifest.json")
    missing = [pat for pat in expected if not any(dest.glob(pat))]
    if missing and not status.failed:
        names = [p.relative_to(dest).as_posix() for p in files]
        raise KaggleError(
            f"outputs of {ref} in {dest} lack {missing} (arrived: {names}); "
            f"the kernel log is {dest / (slug + '.log')}"
        )
    atomic_write_json(dest / "manifest.json", {
        "ref": ref,
        "version": version,
        "status": status.state,
        "missing": missing,
        "pulled_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": {p.relative_to(dest).as_posix(): {"size": p.stat().st_size, "sha256": file_sha256(p)}
                  for p in files},
    })
    return dest


def run(
    spec: KaggleSpec,
    parameters: dict[str, Any] | None = None,
    *,
    cli: KaggleCLI | None = None,
    out_root: Path = DEFAULT_OUT,
    stream: TextIO | None = None,
    **kwargs: Any,
) -> tuple[PushResult, Path]:
    """push + wait + pull; returns the push result and the folder the outputs landed in. When the
    kernel fails, what it wrote is pulled first and the error says where it is."""
    cli = cli or KaggleCLI()
    result = push(spec, parameters, cli=cli, out_root=out_root, **kwargs)
    try:
        wait(result.slug, cli=cli, out_root=out_root, timeout_s=spec.timeout_s,
             poll_s=spec.poll_s, max_poll_s=spec.max_poll_s, stream=stream, settle_s=spec.settle_s)
    except KernelFailed as failure:
        try:
            dest = pull(result.slug, cli=cli, out_root=out_root)
            names = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
            recovered = f"recovered its outputs in {dest}: {names}"
        except KaggleError as exc:
            recovered = f"pulling its outputs failed too: {exc}"
        raise KernelFailed(f"{failure}\n{recovered}") from failure
    return result, pull(result.slug, cli=cli, out_root=out_root)


def _next_slug(slug: str) -> str:
    match = re.fullmatch(r"(.*)-r(\d+)", slug)
    base, n = (match.group(1), int(match.group(2))) if match else (slug, 1)
    return f"{base}-r{n + 1}"


def resume(
    slug: str,
    parameters: dict[str, Any] | None = None,
    *,
    cli: KaggleCLI | None = None,
    out_root: Path = DEFAULT_OUT,
    dry_run: bool = False,
    **kwargs: Any,
) -> PushResult:
    """Push a continuation kernel that attaches ``slug``'s outputs and resumes from its checkpoint."""
    state = load_state(slug, out_root)
    spec = KaggleSpec.from_dict(state["spec"], f"state of {slug}")
    prev_ref = state["ref"]
    prev_slug = prev_ref.split("/", 1)[1]
    params = {**state.get("parameters", {}), **(parameters or {})}
    params.pop(spec.resume_parameter, None)
    return push(
        spec, params, cli=cli, out_root=out_root, dry_run=dry_run, owner=prev_ref.split("/", 1)[0],
        slug=_next_slug(prev_slug), kernel_sources=(prev_ref,), resume_slug=prev_slug, **kwargs,
    )
