"""Dataset folders for a kernel (code, processed data, offline wheels), versioned by content hash.

Each folder ``outputs/kaggle/datasets/<slug>/`` holds ``dataset-metadata.json`` plus the files;
subfolders are uploaded as zips (``-r zip``). The content hash is written beside the folder
(``<slug>.hash.json``) and into the dataset's description; a dataset is created or versioned only
when the hash changed, and afterwards its file list is checked, because the CLI skips a failed
or stale upload silently.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tradelab.errors import KaggleError
from tradelab.kaggle.cli_driver import KaggleCLI
from tradelab.utils import atomic_write_json, file_sha256

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


def build_wheels_dataset(ref: str, out_root: Path, packages: list[str]) -> DatasetFolder:
    """Wheels of ``packages`` (``pip wheel --no-deps``) for kernels with internet off."""
    folder = _fresh(out_root / ref.split("/", 1)[1])
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder), *packages]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise KaggleError(
            f"`pip wheel` of {packages} failed (needs PyPI access): {proc.stderr.strip()[-500:]}; "
            "or set wheels: false and enable_internet: true in the kaggle spec"
        )
    return _finish(folder, ref, f"offline wheels: {', '.join(packages)}")


def _missing(ds: DatasetFolder, held: dict[str, int]) -> list[str]:
    missing = []
    for name in ds.expected_names():
        stem = name[:-4] if name.endswith(".zip") else name
        if not any(h == name or h == stem or h.startswith(f"{stem}/") for h in held):
            missing.append(name)
    return missing


def _verify(cli: KaggleCLI, ds: DatasetFolder, timeout_s: float = 900.0) -> None:
    """Wait until the dataset lists every expected file; raise when it is ready without some."""
    deadline, delay = time.monotonic() + timeout_s, 2.0
    while True:
        held = cli.dataset_files(ds.ref)
        missing = _missing(ds, held)
        if not missing:
            return
        state = cli.dataset_status(ds.ref)
        if state in ("ready", "failed", None) or time.monotonic() > deadline:
            raise KaggleError(
                f"dataset {ds.ref} was saved without {missing} (it holds {sorted(held)}, status {state}): "
                "the kaggle CLI skips a failed or stale upload silently; remove $TMPDIR/.kaggle/uploads "
                "and push again"
            )
        time.sleep(delay)  # still processing on Kaggle's side
        delay = min(delay * 1.5, 30.0)


def ensure_dataset(cli: KaggleCLI, ds: DatasetFolder, force: bool = False) -> str:
    """Create or version ``ds`` unless the hash recorded at its last push matches; returns
    created|versioned|unchanged. ``force`` uploads even when the hash matches."""
    record = {}
    if ds.record_path.is_file():
        record = json.loads(ds.record_path.read_text(encoding="utf-8"))
    known = record.get("ref") == ds.ref
    if known and not force and record.get("content_hash") == ds.content_hash:
        return "unchanged"
    message = f"tradelab content sha256 {ds.content_hash[:16]}"
    action = "versioned" if known else "created"
    try:
        cli.dataset_version(ds.path, message) if known else cli.dataset_create(ds.path)
    except KaggleError as exc:  # the local record is stale: the dataset exists, or no longer does
        if "already in use" in str(exc):
            cli.dataset_version(ds.path, message)
            action = "versioned"
        elif "does not exist" in str(exc) or "not found" in str(exc).lower():
            cli.dataset_create(ds.path)
            action = "created"
        else:
            raise
    _verify(cli, ds)
    atomic_write_json(ds.record_path, {"ref": ds.ref, "content_hash": ds.content_hash, "action": action})
    return action
