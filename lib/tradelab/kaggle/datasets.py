"""Dataset folders for a kernel (code, processed data, offline wheels), versioned by content hash.

Each folder ``outputs/kaggle/datasets/<slug>/`` holds ``dataset-metadata.json`` plus the files;
subfolders are uploaded as zips (``-r zip``). The content hash is written beside the folder
(``<slug>.hash.json``) and into the dataset's description; a dataset is created or versioned only
when the hash changed. Kaggle processes a new version asynchronously (NOT_YET_PERSISTED …
READY) and meanwhile serves the previous one, so after an upload tradelab waits until
``datasets status`` says ready *and* the version number went up, then checks the file list,
because the CLI skips a failed or stale upload silently. A version is never requested while
the previous one is still processed (Kaggle refuses it).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from tradelab.errors import KaggleError
from tradelab.kaggle.cli_driver import CREDENTIALS_HELP, DatasetState, KaggleCLI
from tradelab.utils import atomic_write_json, file_sha256

T = TypeVar("T")

__all__ = [
    "DatasetFolder",
    "build_code_dataset",
    "build_data_dataset",
    "build_wheels_dataset",
    "content_hash",
    "ensure_dataset",
]

METADATA = "dataset-metadata.json"
_SKIP = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache")


@dataclass(frozen=True)
class DatasetFolder:
    """A dataset folder ready for ``kaggle datasets create|version``."""

    ref: str
    """``owner/slug``"""
    path: Path
    """the folder (holds dataset-metadata.json)"""
    content_hash: str
    """sha256 over relative paths and file hashes"""

    @property
    def slug(self) -> str:
        return self.ref.split("/", 1)[1]

    @property
    def record_path(self) -> Path:
        return self.path.parent / f"{self.slug}.hash.json"

    def expected_names(self) -> list[str]:
        """Top-level names the uploaded dataset must hold (folders travel as ``NAME.zip``)."""
        return sorted(
            f"{p.name}.zip" if p.is_dir() else p.name for p in self.path.iterdir() if p.name != METADATA
        )


def content_hash(folder: Path) -> str:
    """sha256 over (relative path, file sha256) of every file but the metadata."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != METADATA):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + file_sha256(path).encode())
    return h.hexdigest()


def _fresh(folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _finish(folder: Path, ref: str, what: str) -> DatasetFolder:
    digest = content_hash(folder)
    slug = ref.split("/", 1)[1]
    meta = {
        "title": slug.replace("-", " ")[:50],
        "id": ref,
        "licenses": [{"name": "CC0-1.0"}],
        "description": f"{what} for tradelab Kaggle kernels. content sha256: {digest}",
    }
    atomic_write_json(folder / METADATA, meta)
    return DatasetFolder(ref, folder, digest)


def build_code_dataset(ref: str, out_root: Path, repo_root: Path) -> DatasetFolder:
    """``lib/tradelab`` and ``configs`` of ``repo_root`` (no caches) in ``out_root/<slug>/``."""
    package = repo_root / "lib" / "tradelab"
    if not (package / "__init__.py").is_file():
        raise KaggleError(f"tradelab source not found at {package}; run from the repository root or pass --root")
    folder = _fresh(out_root / ref.split("/", 1)[1])
    ignore = shutil.ignore_patterns(*_SKIP, "*.pyc")
    shutil.copytree(package, folder / "lib" / "tradelab", ignore=ignore)
    if (repo_root / "configs").is_dir():
        shutil.copytree(repo_root / "configs", folder / "configs", ignore=ignore)
    return _finish(folder, ref, "tradelab source tree (lib/tradelab, configs)")


def build_data_dataset(ref: str, out_root: Path, data_dir: Path, patterns: list[str]) -> DatasetFolder:
    """The files of ``data_dir`` matching ``patterns`` in ``out_root/<slug>/``."""
    files = sorted({p for pat in patterns for p in data_dir.glob(pat) if p.is_file()})
    if not files:
        raise KaggleError(
            f"no data files matching {patterns} in {data_dir}: build them with `tradelab data build` "
            "or set data_dir / data_files in the workflow's kaggle spec"
        )
    folder = _fresh(out_root / ref.split("/", 1)[1])
    for path in files:
        shutil.copy2(path, folder / path.name)
    return _finish(folder, ref, f"processed data from {data_dir.name}")


def build_wheels_dataset(ref: str, out_root: Path, packages: list[str], cache: Path) -> DatasetFolder:
    """Wheels of ``packages`` for Kaggle's CPython 3.12 manylinux x86_64, checked to install offline
    with ``--no-deps`` (:mod:`tradelab.kaggle.wheels`); ``cache`` keeps downloads between pushes."""
    from tradelab.kaggle.wheels import check_wheels, download_wheels

    folder = _fresh(out_root / ref.split("/", 1)[1])
    download_wheels(packages, folder, cache)
    check_wheels(folder, packages)
    return _finish(folder, ref, f"offline wheels (cp312 manylinux x86_64): {', '.join(packages)}")


def _missing(ds: DatasetFolder, held: dict[str, int]) -> list[str]:
    missing = []
    for name in ds.expected_names():
        stem = name[:-4] if name.endswith(".zip") else name
        if not any(h == name or h == stem or h.startswith(f"{stem}/") for h in held):
            missing.append(name)
    return missing


def _retry(call: Callable[[], T], what: str, deadline: float, delay: float = 2.0) -> T:
    """``call()``, retrying transient CLI failures with back-off until ``deadline``."""
    while True:
        try:
            return call()
        except KaggleError as exc:
            if str(exc) == CREDENTIALS_HELP or time.monotonic() + delay > deadline:
                raise KaggleError(f"{what} kept failing: {exc}") from exc
        time.sleep(delay)
        delay = min(delay * 1.5, 30.0)


def _settled(cli: KaggleCLI, ref: str, timeout_s: float) -> DatasetState | None:
    """Wait until no version of ``ref`` is being processed; its state (None: no such dataset)."""
    deadline, delay = time.monotonic() + timeout_s, 1.0
    while True:
        state = _retry(lambda: cli.dataset_state(ref), f"`kaggle datasets status {ref}`", deadline)
        if state is None or state.ready or state.status == "failed":
            return state
        if time.monotonic() + delay > deadline:
            raise KaggleError(
                f"dataset {ref} is still {state.status} after {timeout_s:.0f} s (a version pushed earlier is "
                "being processed and Kaggle refuses another meanwhile): push again when `kaggle datasets "
                f"status {ref}` says ready"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 30.0)


def _verify(cli: KaggleCLI, ds: DatasetFolder, before: int, timeout_s: float = 1800.0) -> int:
    """Wait until Kaggle processed the new version (ready, version > ``before``); then check that
    it lists every expected file. Returns the new version number."""
    deadline, delay = time.monotonic() + timeout_s, 1.0
    while True:
        state = _retry(lambda: cli.dataset_state(ds.ref), f"`kaggle datasets status {ds.ref}`", deadline)
        if state is not None and state.status == "failed":
            raise KaggleError(f"Kaggle failed to process dataset {ds.ref}: see its page on kaggle.com and push again")
        if state is not None and state.ready and state.version > before:
            break
        if time.monotonic() + delay > deadline:
            seen = f"{state.status}, version {state.version}" if state else "not found"
            raise KaggleError(
                f"dataset {ds.ref} not ready after {timeout_s:.0f} s ({seen}; waiting for a version above {before}): "
                "a kernel pushed now would mount the old version; push again once `kaggle datasets status "
                f"{ds.ref}` says ready"
            )
        time.sleep(delay)  # Kaggle still processes the upload and serves the previous version
        delay = min(delay * 1.5, 30.0)
    held = _retry(lambda: cli.dataset_files(ds.ref), f"`kaggle datasets files {ds.ref}`", deadline)
    missing = _missing(ds, held)
    if missing:
        raise KaggleError(
            f"dataset {ds.ref} was saved without {missing} (it holds {sorted(held)}, version {state.version}): "
            "the kaggle CLI skips a failed or stale upload silently; remove $TMPDIR/.kaggle/uploads "
            "and push again"
        )
    return state.version


def ensure_dataset(cli: KaggleCLI, ds: DatasetFolder, force: bool = False, timeout_s: float = 1800.0) -> str:
    """Create or version ``ds`` unless the hash recorded at its last push matches, and wait until
    Kaggle serves the new version; returns created|versioned|unchanged. ``force`` uploads even
    when the hash matches."""
    record = {}
    if ds.record_path.is_file():
        record = json.loads(ds.record_path.read_text(encoding="utf-8"))
    known = record.get("ref") == ds.ref
    if known and not force and record.get("content_hash") == ds.content_hash:
        return "unchanged"
    message = f"tradelab content sha256 {ds.content_hash[:16]}"
    state = _settled(cli, ds.ref, timeout_s)  # what Kaggle holds, once nothing is being processed
    before = state.version if state else 0
    if state is None:
        cli.dataset_create(ds.path)
        action = "created"
    else:
        cli.dataset_version(ds.path, message)
        action = "versioned"
    version = _verify(cli, ds, before, timeout_s)
    atomic_write_json(ds.record_path, {"ref": ds.ref, "content_hash": ds.content_hash, "action": action,
                                       "version": version, "files": ds.expected_names()})
    return action
