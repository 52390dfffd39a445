"""Drive the real ``kaggle`` CLI in a subprocess and turn its quirks into clear errors.

The CLI reads the credentials itself (``~/.kaggle/kaggle.json``, ``$KAGGLE_CONFIG_DIR``,
``KAGGLE_USERNAME``/``KAGGLE_KEY`` or ``KAGGLE_API_TOKEN``); tradelab never reads or writes the
key. Traps handled here: ``kernels push`` prints its error and exits 0, and prints invalid sources
before "successfully pushed" (the kernel runs: :class:`PushAnswer` keeps both); ``kernels status``
prints ``KernelWorkerStatus.COMPLETE``; with no credentials the CLI exits 1 before any request;
``kernels output`` saves error pages as files (:meth:`KaggleCLI.output_listing` re-reads the
listing with the HTTP status and size of each file).
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

__all__ = [
    "KaggleCLI", "KernelStatus", "PushAnswer", "DatasetState", "CREDENTIALS_HELP", "TERMINAL_STATES", "FAILED_STATES",
]

CREDENTIALS_HELP = (
    "Kaggle credentials not found: create an API token at kaggle.com → Settings → API "
    "(\"Create New Token\") and save the downloaded kaggle.json as ~/.kaggle/kaggle.json "
    "(chmod 600) or in the folder named by $KAGGLE_CONFIG_DIR; or set KAGGLE_USERNAME and "
    "KAGGLE_KEY, or KAGGLE_API_TOKEN, in the environment"
)
TERMINAL_STATES = ("COMPLETE", "ERROR", "CANCEL_REQUESTED", "CANCEL_ACKNOWLEDGED")
FAILED_STATES = ("ERROR", "CANCEL_REQUESTED", "CANCEL_ACKNOWLEDGED")
#: saved on Kaggle but no session started for it: nothing will ever run (kernels_enums.NEW_SCRIPT)
NOT_STARTED_STATES = ("NEW_SCRIPT",)
LIVE_STATES = ("QUEUED", "RUNNING")
_AUTH_MARKERS = ("Authentication required", "Could not find kaggle.json", "401 Client Error")
_STATUS_RE = re.compile(r'has status "(?:\w+\.)?(\w+)"', re.IGNORECASE)
# GetKernelSessionStatus + ListKernelSessionOutput (all pages) + a streamed GET per file (status, size)
_LISTING_SCRIPT = """
import json, sys
import requests
from kaggle import api
from kagglesdk.kernels.types.kernels_api_service import (
    ApiGetKernelSessionStatusRequest, ApiListKernelSessionOutputRequest)
owner, slug = sys.argv[1].split("/", 1)
rows, token = [], None
with api.build_kaggle_client() as kaggle:
    request = ApiGetKernelSessionStatusRequest()
    request.user_name, request.kernel_slug = owner, slug
    status = kaggle.kernels.kernels_api_client.get_kernel_session_status(request).status.name
    while True:
        request = ApiListKernelSessionOutputRequest()
        request.user_name, request.kernel_slug, request.page_size = owner, slug, 100
        if token:
            request.page_token = token
        response = kaggle.kernels.kernels_api_client.list_kernel_session_output(request)
        for item in response.files or []:
            with requests.get(item.url, stream=True, timeout=300) as answer:
                size = answer.headers.get("Content-Length")
                rows.append({"name": item.file_name, "http_status": answer.status_code,
                             "size": int(size) if size is not None else None})
        token = response.next_page_token
        if not token:
            break
print(json.dumps({"status": status, "files": rows}))
"""


@dataclass(frozen=True)
class KernelStatus:
    """One answer of ``kaggle kernels status``."""

    state: str
    """upper-case word: QUEUED, RUNNING, COMPLETE, ERROR, CANCEL_REQUESTED, CANCEL_ACKNOWLEDGED, NEW_SCRIPT"""
    failure_message: str = ""
    """Kaggle's failure message, when there is one"""

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def failed(self) -> bool:
        return self.state in FAILED_STATES

    @property
    def not_started(self) -> bool:
        """NEW_SCRIPT: the version is saved but no session runs it."""
        return self.state in NOT_STARTED_STATES

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES


@dataclass(frozen=True)
class PushAnswer:
    """What ``kernels push`` printed: the version Kaggle runs and any inputs it dropped."""

    version: int
    """kernel version number (0 when the CLI did not print one)"""
    warnings: tuple[str, ...] = ()
    """"The following are not valid ... sources" lines: the kernel runs without those inputs"""


@dataclass(frozen=True)
class DatasetState:
    """``datasets status REF --format json``: processing status and current version number."""

    status: str
    """lower-case DatabundleVersionStatus: not_yet_persisted, blobs_received, ..., ready, failed"""
    version: int
    """current version number (0 while the first version is processed)"""

    @property
    def ready(self) -> bool:
        return self.status == "ready"


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
    def push_kernel(self, folder: Path) -> PushAnswer:
        """``kernels push -p FOLDER``: the version and the warnings, or the error the CLI printed
        (exit 0). A push "accepted with warnings" runs, so it is returned, not raised."""
        out = self.run("kernels", "push", "-p", str(folder))
        error = re.search(r"Kernel push error:\s*(.*)", out)
        if error:
            raise KaggleError(f"Kaggle rejected the kernel in {folder}: {error.group(1).strip()}")
        invalid = re.findall(r"are not valid (\w+ sources) and could not be added to the kernel: (.*)", out)
        warnings = tuple(f"{kind}: {names.strip()}" for kind, names in invalid)
        match = re.search(r"Kernel version (\d+) successfully pushed", out)
        if match:
            return PushAnswer(int(match.group(1)), warnings)
        if "successfully pushed" in out:
            return PushAnswer(0, warnings)
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
    def dataset_state(self, ref: str) -> DatasetState | None:
        """``datasets status REF --format json``; None when the dataset does not exist (HTTP 404,
        printed as "Not found").
        Other failures raise :class:`KaggleError` (the caller decides whether to retry)."""
        try:
            out = self.run("datasets", "status", ref, "--format", "json")
        except KaggleError as exc:
            if re.search(r"\b404\b|not found|does not exist", str(exc), re.IGNORECASE):
                return None
            raise
        try:
            data = json.loads(out.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError) as exc:
            raise KaggleError(f"cannot read `kaggle datasets status {ref} --format json`: {out.strip()!r}") from exc
        return DatasetState(str(data.get("status", "")).lower(), int(data.get("current_version_number") or 0))

    @staticmethod
    def _forget_resumable_uploads(folder: Path) -> None:
        """Remove the CLI's saved resumable-upload state for the files in ``folder``.

        kaggle 2.x keeps ``$TMP/.kaggle/uploads/<path>.json`` after a failed push and *resumes* that upload when
        the next file at the same path has the same size and modification second: its blob token then
        carries the earlier bytes, and the new version silently holds stale data (a rebuilt file of
        equal size, pushed right after a refused version). tradelab always uploads the current bytes.
        """
        import tempfile

        # the CLI subprocess's temp dir (tempfile caches ours at first use; the env may have changed since)
        tmp = next((os.environ[k] for k in ("TMPDIR", "TEMP", "TMP") if os.environ.get(k)), None)
        uploads = Path(tmp or tempfile.gettempdir()) / ".kaggle" / "uploads"
        if not uploads.is_dir():
            return
        for f in Path(folder).iterdir():
            for form in {str(folder / f.name), str(f.resolve())}:
                (uploads / (form.replace(os.path.sep, "_").replace(":", "_") + ".json")).unlink(missing_ok=True)

    def dataset_create(self, folder: Path) -> None:
        """``datasets create -p FOLDER -r zip`` (subfolders are zipped, never skipped)."""
        self._forget_resumable_uploads(folder)
        out = self.run("datasets", "create", "-p", str(folder), "-r", "zip", "-q")
        self._dataset_answer(out, folder, "creation")

    def dataset_version(self, folder: Path, message: str) -> None:
        """``datasets version -p FOLDER -m MESSAGE -r zip``."""
        self._forget_resumable_uploads(folder)
        out = self.run("datasets", "version", "-p", str(folder), "-m", message, "-r", "zip", "-q")
        self._dataset_answer(out, folder, "version")

    @staticmethod
    def _dataset_answer(out: str, folder: Path, what: str) -> None:
        error = re.search(r"Dataset (?:version )?creation error:\s*(.*)", out)
        if error:
            raise KaggleError(f"Kaggle refused the dataset {what} from {folder}: {error.group(1).strip()}")

    def username(self) -> str | None:
        """The user name the CLI authenticated as (``kaggle config view``): with an API token it
        learns it by token introspection; None when the CLI cannot say."""
        out = self.run("config", "view")
        match = re.search(r"^- username: (.+)$", out, re.MULTILINE)
        name = match.group(1).strip() if match else ""
        return name if name and name != "None" else None

    def output_listing(self, ref: str) -> tuple[KernelStatus, list[dict[str, object]]]:
        """The session's status and its output listing with each file's HTTP status and size.

        2.2.4's ``kernels output`` writes whatever body a download URL answers (an error page
        too) without looking at the status; this asks the same API through the ``kaggle``
        package, in a subprocess like every other call (importing it authenticates)."""
        cmd = [str(Path(self.executable).parent / "python"), "-c", _LISTING_SCRIPT, ref]
        if not Path(cmd[0]).is_file():
            cmd[0] = sys.executable
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ), timeout=self.timeout_s)
        except subprocess.TimeoutExpired as exc:
            raise KaggleError(f"listing the outputs of {ref} did not answer within {self.timeout_s:.0f} s") from exc
        if proc.returncode != 0:
            tail = "\n".join(f"{proc.stdout}\n{proc.stderr}".strip().splitlines()[-6:])
            raise KaggleError(f"cannot list the outputs of {ref} (exit {proc.returncode}):\n{tail}")
        answer = json.loads(proc.stdout.strip().splitlines()[-1])
        return KernelStatus(str(answer["status"]).upper()), answer["files"]

    def dataset_files(self, ref: str) -> dict[str, int]:
        """Name → size of the files the dataset holds (``datasets files REF --csv``)."""
        out = self.run("datasets", "files", ref, "--csv", "--page-size", "200")
        lines = [ln for ln in out.splitlines() if ln and not ln.startswith("Next Page Token")]
        rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
        return {r["name"]: int(float(r.get("size") or 0)) for r in rows if r.get("name")}
