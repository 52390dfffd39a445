"""Drive the real ``kaggle`` CLI in a subprocess and turn its quirks into clear errors.

The CLI reads the credentials itself (``~/.kaggle/kaggle.json``, ``$KAGGLE_CONFIG_DIR``,
``KAGGLE_USERNAME``/``KAGGLE_KEY`` or ``KAGGLE_API_TOKEN``); tradelab never reads or writes the
key. Traps handled here: ``kernels push`` prints its error and exits 0; ``kernels status`` prints
``KernelWorkerStatus.COMPLETE``; with no credentials the CLI exits 1 before any request.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tradelab.errors import KaggleError

__all__ = ["KaggleCLI", "KernelStatus", "CREDENTIALS_HELP", "TERMINAL_STATES", "FAILED_STATES"]

CREDENTIALS_HELP = (
    "Kaggle credentials not found: create an API token at kaggle.com → Settings → API "
    "(\"Create New Token\") and save the downloaded kaggle.json as ~/.kaggle/kaggle.json "
    "(chmod 600) or in the folder named by $KAGGLE_CONFIG_DIR; or set KAGGLE_USERNAME and "
    "KAGGLE_KEY, or KAGGLE_API_TOKEN, in the environment"
)
TERMINAL_STATES = ("COMPLETE", "ERROR", "CANCEL_REQUESTED", "CANCEL_ACKNOWLEDGED")
FAILED_STATES = ("ERROR", "CANCEL_REQUESTED", "CANCEL_ACKNOWLEDGED")
_AUTH_MARKERS = ("Authentication required", "Could not find kaggle.json", "401 Client Error")
_STATUS_RE = re.compile(r'has status "(?:\w+\.)?(\w+)"', re.IGNORECASE)


@dataclass(frozen=True)
class KernelStatus:
    """One answer of ``kaggle kernels status``."""

    state: str
    """upper-case word: QUEUED, RUNNING, COMPLETE, ERROR, CANCEL_REQUESTED, CANCEL_ACKNOWLEDGED"""
    failure_message: str = ""
    """Kaggle's failure message, when there is one"""

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES


def kaggle_executable() -> str:
    """The ``kaggle`` script of this interpreter's environment (else the one on PATH)."""
    local = Path(sys.executable).parent / "kaggle"
    if local.is_file():
        return str(local)
    found = shutil.which("kaggle")
    if not found:
        raise KaggleError("the `kaggle` CLI is not installed: run `pip install kaggle` (see requirements.txt)")
    return found


class KaggleCLI:
    """Thin, typed wrapper over the ``kaggle`` executable (environment passed through)."""

    def __init__(self, executable: str | None = None, timeout_s: float = 1800.0) -> None:
        self.executable = executable or kaggle_executable()
        self.timeout_s = timeout_s

    def run(self, *args: str) -> str:
        """Run ``kaggle ARGS``; return stdout, raise :class:`KaggleError` on failure."""
        cmd = [self.executable, *map(str, args)]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env=dict(os.environ), timeout=self.timeout_s
            )
        except subprocess.TimeoutExpired as exc:
            raise KaggleError(f"`kaggle {' '.join(args)}` did not answer within {self.timeout_s:.0f} s") from exc
        text = f"{proc.stdout}\n{proc.stderr}"
        if proc.returncode != 0 and any(m in text for m in _AUTH_MARKERS):
            raise KaggleError(CREDENTIALS_HELP)
        if proc.returncode != 0:
            tail = "\n".join(text.strip().splitlines()[-8:])
            raise KaggleError(f"`kaggle {' '.join(args)}` failed (exit {proc.returncode}):\n{tail}")
        return proc.stdout

    # kernels -----------------------------------------------------------------------------
    def push_kernel(self, folder: Path) -> int:
        """``kernels push -p FOLDER``; the version number, or the error the CLI printed (exit 0)."""
        out = self.run("kernels", "push", "-p", str(folder))
        error = re.search(r"Kernel push error:\s*(.*)", out)
        if error:
            raise KaggleError(f"Kaggle rejected the kernel in {folder}: {error.group(1).strip()}")
        invalid = re.findall(r"are not valid (\w+ sources) and could not be added to the kernel: (.*)", out)
        if invalid:
            what = "; ".join(f"{kind}: {names}" for kind, names in invalid)
            raise KaggleError(
                f"Kaggle pushed {folder} without some inputs ({what}); check the slugs in kernel-metadata.json "
                "and that the datasets/kernels exist and are visible to you"
            )
        match = re.search(r"Kernel version (\d+) successfully pushed", out)
        if match:
            return int(match.group(1))
        if "successfully pushed" in out:
            return 0
        raise KaggleError(f"unexpected answer from `kaggle kernels push -p {folder}`:\n{out.strip()}")

    def kernel_status(self, ref: str) -> KernelStatus:
        """``kernels status REF`` parsed; the word is matched case-insensitively."""
        out = self.run("kernels", "status", ref)
        match = _STATUS_RE.search(out)
        if not match:
            raise KaggleError(f"cannot read the status of {ref} from: {out.strip()!r}")
        failure = re.search(r'Failure message: "(.*)"', out, re.DOTALL)
        return KernelStatus(match.group(1).upper(), failure.group(1).strip() if failure else "")

    def kernel_log(self, ref: str) -> list[str]:
        """The kernel's log as text lines (``kernels logs REF``; JSON events unpacked)."""
        out = self.run("kernels", "logs", ref).strip()
        try:
            events = json.loads(out)
        except json.JSONDecodeError:
            return out.splitlines()
        lines: list[str] = []
        for event in events if isinstance(events, list) else [events]:
            data = event.get("data", "") if isinstance(event, dict) else str(event)
            lines.extend(str(data).rstrip("\n").splitlines())
        return lines

    def kernel_output(self, ref: str, dest: Path) -> None:
        """``kernels output REF -p DEST --force`` (without --force newer local files are kept)."""
        dest.mkdir(parents=True, exist_ok=True)
        self.run("kernels", "output", ref, "-p", str(dest), "--force", "--quiet")

    # datasets ----------------------------------------------------------------------------
    def dataset_status(self, ref: str) -> str | None:
        """``datasets status REF`` (e.g. ``ready``), or None when the dataset does not exist."""
        try:
            out = self.run("datasets", "status", ref)
        except KaggleError as exc:
            if str(exc) == CREDENTIALS_HELP:
                raise
            return None
        return out.strip().lower() or "unknown"

    def dataset_create(self, folder: Path) -> None:
        """``datasets create -p FOLDER -r zip`` (subfolders are zipped, never skipped)."""
        out = self.run("datasets", "create", "-p", str(folder), "-r", "zip", "-q")
        self._dataset_answer(out, folder, "creation")

    def dataset_version(self, folder: Path, message: str) -> None:
        """``datasets version -p FOLDER -m MESSAGE -r zip``."""
        out = self.run("datasets", "version", "-p", str(folder), "-m", message, "-r", "zip", "-q")
        self._dataset_answer(out, folder, "version")

    @staticmethod
    def _dataset_answer(out: str, folder: Path, what: str) -> None:
        error = re.search(r"Dataset (?:version )?creation error:\s*(.*)", out)
        if error:
            raise KaggleError(f"Kaggle refused the dataset {what} from {folder}: {error.group(1).strip()}")

    def dataset_files(self, ref: str) -> dict[str, int]:
        """Name → size of the files the dataset holds (``datasets files REF --csv``)."""
        out = self.run("datasets", "files", ref, "--csv", "--page-size", "200")
        lines = [ln for ln in out.splitlines() if ln and not ln.startswith("Next Page Token")]
        rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
        return {r["name"]: int(float(r.get("size") or 0)) for r in rows if r.get("name")}
