"""The Kaggle loop: push (datasets + kernel), wait, pull, run, resume.

State of each pushed kernel is kept in ``outputs/kaggle/<slug>/state.json`` (ref, version,
spec, parameters, datasets), so ``wait``/``pull``/``resume`` need only the slug.
"""

from __future__ import annotations

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
from tradelab.kaggle.spec import KaggleSpec, resolve_owner
from tradelab.utils import atomic_write_json, file_sha256, read_json

__all__ = ["PushResult", "kernel_ref", "prepare", "push", "wait", "pull", "run", "resume", "load_state", "DEFAULT_OUT"]

DEFAULT_OUT = Path("outputs/kaggle")


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
) -> PushResult:
    """Build the dataset folders and the kernel folder without talking to Kaggle."""
    spec.validate()
    owner = resolve_owner(owner)
    root = Path(root or Path.cwd())
    ds_root = out_root / "datasets"
    datasets = {"code": build_code_dataset(f"{owner}/{spec.code_dataset}", ds_root, root)}
    if spec.data_dataset:
        data_dir = Path(spec.data_dir) if Path(spec.data_dir).is_absolute() else root / spec.data_dir
        datasets["data"] = build_data_dataset(f"{owner}/{spec.data_dataset}", ds_root, data_dir, spec.data_files)
    if spec.wheels:
        datasets["wheels"] = build_wheels_dataset(f"{owner}/{spec.wheels_dataset}", ds_root, spec.requirements)
    slug = slug or spec.kernel_slug
    kernel = build_kernel_folder(
        spec, owner, dict(parameters or {}), out_root / slug / "push",
        dataset_refs={role: ds.ref for role, ds in datasets.items()},
        slug=slug, kernel_sources=kernel_sources, resume_slug=resume_slug, root=root,
    )
    return PushResult(kernel, datasets)


def push(
    spec: KaggleSpec,
    parameters: dict[str, Any] | None = None,
    *,
    cli: KaggleCLI | None = None,
    dry_run: bool = False,
    out_root: Path = DEFAULT_OUT,
    **kwargs: Any,
) -> PushResult:
    """Ensure the datasets (versioned when their hash changed), then ``kaggle kernels push``."""
    prepared = prepare(spec, parameters, out_root=out_root, **kwargs)
    if dry_run:
        return prepared
    cli = cli or KaggleCLI()
    actions = {role: ensure_dataset(cli, ds) for role, ds in prepared.datasets.items()}
    version = cli.push_kernel(prepared.kernel.path)
    result = PushResult(prepared.kernel, prepared.datasets, version, actions)
    atomic_write_json(_state_path(result.slug, out_root), {
        "ref": prepared.kernel.ref,
        "version": version,
        "workflow": spec.workflow,
        "spec": spec.to_dict(),
        "parameters": prepared.kernel.parameters,
        "kernel_sources": prepared.kernel.metadata["kernel_sources"],
        "resume_of": kwargs.get("resume_slug"),
        "datasets": {r: {"ref": d.ref, "content_hash": d.content_hash, "action": actions[r]}
                     for r, d in prepared.datasets.items()},
        "pushed_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    })
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
    return KaggleError(
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
) -> KernelStatus:
    """Poll the status with back-off until COMPLETE; ERROR/CANCEL raise with the log's tail.

    Ctrl-C stops waiting only: the kernel keeps running and the message says how to wait again.
    """
    cli, stream = cli or KaggleCLI(), stream or sys.stderr
    ref = kernel_ref(slug, out_root)
    start, delay, history, errors = time.monotonic(), poll_s, [], 0
    try:
        while True:
            status, errors = _poll(cli, ref, history[-1] if history else "UNKNOWN", errors)
            if not history or history[-1] != status.state:
                history.append(status.state)
            elapsed = time.monotonic() - start
            stream.write(f"\r{ref}: {' → '.join(history)}  {elapsed:6.0f}s  ")
            stream.flush()
            if status.done:
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


def pull(
    slug: str,
    *,
    version: int | None = None,
    cli: KaggleCLI | None = None,
    out_root: Path = DEFAULT_OUT,
    expected: list[str] | None = None,
) -> Path:
    """Download the outputs into ``out_root/<slug>/v<N>/`` (``--force``), check them, write a manifest."""
    cli = cli or KaggleCLI()
    ref = kernel_ref(slug, out_root)  # keeps an explicit owner/slug as given
    slug = slug.split("/", 1)[-1]
    state = load_state(slug, out_root) if _state_path(slug, out_root).is_file() else {}
    version = version if version is not None else state.get("version")
    if expected is None:
        expected = list(state.get("spec", {}).get("expected_outputs", []))
    dest = out_root / slug / (f"v{version}" if version is not None else "latest")
    cli.kernel_output(ref, dest)
    files = sorted(p for p in dest.rglob("*") if p.is_file() and p.name != "manifest.json")
    missing = [pat for pat in expected if not any(dest.glob(pat))]
    if missing:
        names = [p.relative_to(dest).as_posix() for p in files]
        raise KaggleError(
            f"outputs of {ref} in {dest} lack {missing} (arrived: {names}); "
            f"the kernel log is {dest / (slug + '.log')}"
        )
    atomic_write_json(dest / "manifest.json", {
        "ref": ref,
        "version": version,
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
    """push + wait + pull; returns the push result and the folder the outputs landed in."""
    cli = cli or KaggleCLI()
    result = push(spec, parameters, cli=cli, out_root=out_root, **kwargs)
    wait(result.slug, cli=cli, out_root=out_root, timeout_s=spec.timeout_s,
         poll_s=spec.poll_s, max_poll_s=spec.max_poll_s, stream=stream)
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
