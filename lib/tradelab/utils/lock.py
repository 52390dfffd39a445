"""One process per run folder: a lock file held with ``flock``, plus the run's identity.

``run_lock(folder)`` takes ``folder/.tradelab.lock`` for the life of a run. A second process that
asks for the same folder gets :class:`RunLockedError` naming the holder's pid, host and start time.
The kernel releases ``flock`` when the holder dies (even by SIGKILL), so a stale lock left by a dead
process is simply taken over (and said so). The lock is re-entrant within one process.

``check_identity`` compares what a run *is* (workflow, asset(s), agent, data hash, config) with what
the folder or checkpoint says it is, and names every difference.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tradelab.errors import CheckpointError

__all__ = ["LOCK_NAME", "RunLockedError", "run_lock", "identity_diff", "check_identity", "IDENTITY_NAME"]

LOCK_NAME = ".tradelab.lock"
IDENTITY_NAME = "run_identity.json"
_HELD: dict[str, list[Any]] = {}  # resolved folder -> [fd, depth]


class RunLockedError(CheckpointError):
    """Another live process holds the run folder."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


@contextmanager
def run_lock(folder: str | Path, what: str = "run") -> Iterator[Path]:
    """Hold ``folder``'s lock for the block; :class:`RunLockedError` when another live process has it."""
    import fcntl

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise CheckpointError(f"output folder {folder} is a file, not a folder; pass another --output-dir") from exc
    key = str(folder.resolve())
    if key in _HELD:  # re-entrant: run_experiment -> train_ppo in one process
        _HELD[key][1] += 1
        try:
            yield folder / LOCK_NAME
        finally:
            _HELD[key][1] -= 1
        return
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        h = _read_holder(path)
        raise RunLockedError(
            f"{folder} is in use by another {h.get('what', 'run')}: pid {h.get('pid', '?')} on "
            f"{h.get('host', '?')}, started {h.get('started_utc', '?')} ({h.get('command', '')}). Wait for it "
            "to finish, stop it, or pass another --output-dir") from None
    old = _read_holder(path)
    if old.get("pid") and int(old["pid"]) != os.getpid():
        state = "dead" if not _pid_alive(int(old["pid"])) else "no longer holding it"
        print(f"note: taking over the stale lock of {folder} (pid {old['pid']}, started "
              f"{old.get('started_utc', '?')}, {state})")
    info = {"pid": os.getpid(), "host": socket.gethostname(), "what": what,
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv)[:300]}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    _HELD[key] = [fd, 1]
    try:
        yield path
    finally:
        del _HELD[key]
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing releases the flock


def identity_diff(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """``key: found -> expected`` for every key present in both whose values differ."""
    out = []
    for key in sorted(set(expected) & set(found)):
        a, b = found[key], expected[key]
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{key}.{d}" for d in identity_diff(b, a)]
        elif json.dumps(a, sort_keys=True, default=str) != json.dumps(b, sort_keys=True, default=str):
            out.append(f"{key}: {a!r} there, {b!r} in this run")
    return out


def check_identity(expected: dict[str, Any], found: dict[str, Any] | None, where: str | Path) -> None:
    """Refuse (CheckpointError) when ``found`` (a folder's or checkpoint's identity) differs from ``expected``."""
    if not found:
        return
    diff = identity_diff(expected, found)
    if diff:
        raise CheckpointError(
            f"{where} belongs to a different run: " + "; ".join(diff[:8])
            + ". Resume with the same settings, start over in that folder (its checkpoints are removed: "
            "--fresh; notebooks: fresh = True in 02_sac, overrides {'training.fresh': True} in 03_ppo), or use "
            "another --output-dir (notebooks: output_dir)")
