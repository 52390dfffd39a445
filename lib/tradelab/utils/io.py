"""Atomic file writes (temp name + rename) and content hashes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tradelab.errors import TradelabError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds, rename it onto ``path``.

    Any writer (h5py, torch.save, Keras' ``model.save``) writes to the yielded path: a reader never
    sees a half-written file, and a kill mid-write leaves the old file intact. ``suffix`` is for
    writers that infer the format from the extension.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: Names our writers give temp files: atomic_path's ``.NAME.XXXXXXXX.tmp`` (mkstemp) and the PPO eval log's.
_TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$|^\.evaluations\.\d+\.tmp\.npz$")


def remove_stale_temps(*folders: str | os.PathLike) -> list[Path]:
    """Delete temp files our writers left in ``folders`` (not recursive) when a process was killed.

    Call it only while holding the run folder's lock (:mod:`tradelab.utils.lock`): then no live
    writer owns them. Only names :func:`atomic_path` produces are touched. Returns the removed paths.
    """
    found = [p for f in map(Path, folders) if f.is_dir() for p in f.iterdir()
             if p.is_file() and _TEMP_NAME.match(p.name)]
    size = 0
    for p in found:
        size += p.stat().st_size
        p.unlink(missing_ok=True)
    if found:
        where = sorted({str(p.parent) for p in found})
        print(f"note: removed {len(found)} temp file(s) ({size / 1e6:.1f} MB) left by a killed run in {', '.join(where)}")
    return found


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomic UTF-8 text write (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def json_safe(obj: Any) -> Any:
    """``obj`` with NaN/inf floats (python or numpy, at any depth) replaced by None: strict JSON."""
    import math

    import numpy as np

    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    return obj


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomic strict JSON write: NaN/inf become ``null``; numpy scalars/arrays, paths, timestamps converted."""
    text = json.dumps(json_safe(obj), indent=2, default=_json_default, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Read JSON, turning a missing or corrupted file into one clear error naming it."""
    path = Path(path)
    if not path.is_file():
        raise TradelabError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TradelabError(f"{what} {path} is not valid JSON ({exc}); re-create it") from exc


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
