"""A loopback Kaggle API emulator for tests: the real ``kaggle`` CLI talks to it on 127.0.0.1.

It speaks the RPCs the CLI 2.x uses (see shared/KAGGLE_PROTOCOL.md): dataset create/version with
StartBlobUpload + PUT, GetDatasetStatus (failing for unknown datasets), ListDatasetFiles,
SaveKernel, GetKernelSessionStatus, ListKernelSessionOutput + GET of file urls, GetKernel and
the logs stream. On SaveKernel it EXECUTES the pushed notebook with papermill in a sandbox laid
out like Kaggle (``input/<slug>/`` with datasets unzipped and kernel outputs, ``working/``),
whose root reaches the kernel as ``TRADELAB_KAGGLE_ROOT``. Faults can be injected
(``fail_uploads``, ``reject_push``, ``error_outputs``) to exercise the CLI's traps.

Where the real service differs from a naive server, the emulator does what Kaggle does
(shared/KAGGLE_PROTOCOL.md, "What the real service does"):

- tokens: ``add_token(user)`` registers an API token; a Bearer request must carry a registered
  token and ``security.OAuthService/IntrospectToken`` tells the CLI whose it is;
- datasets are processed for ``processing_s`` after each create/version (NOT_YET_PERSISTED …
  READY); meanwhile kernels mount, and ``datasets files``/``GetDataset`` describe, the previous
  READY version, and a further version is refused with HTTP 403;
- for ``stale_s`` after a push the status and outputs still describe the previous session;
- ``start_sessions = False`` saves a version without starting it (status NEW_SCRIPT);
- a push with unknown sources is accepted with a warning and runs without them;
- the kernel runs in an image that is "CPython 3.12, manylinux x86_64" for pip (PIP_PYTHON_VERSION
  etc., installing into ``<sandbox>/image-site``) and, with ``enableInternet`` false, has no network.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

DATASET_STAGES = (
    "NOT_YET_PERSISTED", "BLOBS_RECEIVED", "BLOBS_DECOMPRESSED", "BLOBS_COPIED_TO_SDS",
    "INDIVIDUAL_BLOBS_COMPRESSED", "READY",
)
#: how pip sees the kernel's image: Kaggle's Python 3.12 on manylinux x86_64
IMAGE_PIP = {"PIP_PYTHON_VERSION": "3.12", "PIP_PLATFORM": "manylinux2014_x86_64", "PIP_IMPLEMENTATION": "cp",
             "PIP_ONLY_BINARY": ":all:"}
NO_NETWORK = "http://127.0.0.1:9"  # discard port: every connection is refused
ERROR_PAGE = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code></Error>"

SITECUSTOMIZE = '''import os
_url = os.environ.get("TRADELAB_KAGGLE_EMULATOR")
if _url and os.environ.get("KAGGLE_API_ENVIRONMENT") == "LOCALHOST":
    from kagglesdk import kaggle_env as _kaggle_env
    _kaggle_env._env_to_endpoint[_kaggle_env.KaggleEnv.LOCAL] = _url
'''


@dataclass
class Run:
    """One kernel version executing (or executed) in its sandbox."""

    version: int
    sandbox: Path
    text: str
    request: dict[str, Any]
    status: str = "QUEUED"
    failure: str = ""
    log: list[dict[str, Any]] = field(default_factory=list)
    visible_at: float = 0.0
    """monotonic time from which status/output calls describe this session"""

    @property
    def working(self) -> Path:
        return self.sandbox / "working"


class KaggleEmulator:
    """State + HTTP server; ``start()`` returns the base URL."""

    def __init__(
        self, root: Path, layout: str = "old", queue_s: float = 0.2, processing_s: float = 0.0, stale_s: float = 0.0
    ) -> None:
        self.root = Path(root)
        self.layout = layout  # "old": input/<slug>/, "new": input/datasets/<owner>/<slug>/
        self.queue_s = queue_s
        self.processing_s = processing_s  # dataset version processing time
        self.stale_s = stale_s  # previous session still reported after a push
        self.start_sessions = True  # False: SaveKernel only saves (status NEW_SCRIPT)
        self.tokens: dict[str, str] = {}  # API token -> user name
        self.error_outputs: dict[str, int] = {}  # output file -> HTTP status served instead
        self.blobs: dict[str, dict[str, Any]] = {}
        self.datasets: dict[str, list[dict[str, Any]]] = {}  # ref -> versions
        self.kernels: dict[str, list[Run]] = {}  # ref -> runs
        self.requests: list[str] = []
        self.fail_uploads: set[str] = set()
        self.reject_push: str | None = None
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.base = ""

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"emulator": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.base

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for runs in self.kernels.values():
            for run in runs:
                proc = run.request.get("_proc")
                if proc is not None and proc.poll() is None:
                    proc.kill()

    def add_token(self, username: str) -> str:
        """Register a new API token of ``username`` (what `kaggle auth login` would store)."""
        token = f"KGAT_{uuid.uuid4().hex}"
        self.tokens[token] = username
        return token

    def client_env(self, home: Path, username: str | None, key: str | None, token: str | None = None) -> dict[str, str]:
        """Environment that points the real CLI here, isolated in ``home``; with ``token`` and no
        ``username``/``key`` the CLI logs in with the token only (``KAGGLE_API_TOKEN``)."""
        site = home / "site"
        site.mkdir(parents=True, exist_ok=True)
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
        for sub in ("home/.kaggle", "tmp"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        return {
            "KAGGLE_API_ENVIRONMENT": "LOCALHOST",
            "TRADELAB_KAGGLE_EMULATOR": self.base,
            "PYTHONPATH": str(site),
            "HOME": str(home / "home"),
            "KAGGLE_CONFIG_DIR": str(home / "home" / ".kaggle"),
            "TMPDIR": str(home / "tmp"),
            **({"KAGGLE_USERNAME": username, "KAGGLE_KEY": key} if username and key else {}),
            **({"KAGGLE_API_TOKEN": token} if token else {}),
        }

    def wait_idle(self, timeout_s: float = 120.0) -> None:
        """Block until no kernel is queued or running."""
        deadline = time.monotonic() + timeout_s
        while any(r.status in ("QUEUED", "RUNNING") for rs in self.kernels.values() for r in rs):
            if time.monotonic() > deadline:
                raise TimeoutError("emulated kernels still running")
            time.sleep(0.1)

    # -- datasets ----------------------------------------------------------------------------
    def dataset_stage(self, version: dict[str, Any]) -> str:
        """Processing stage of one dataset version (READY after ``processing_s``)."""
        if version["processing_s"] <= 0:
            return "READY"
        frac = (time.monotonic() - version["created"]) / version["processing_s"]
        return DATASET_STAGES[min(max(int(frac * (len(DATASET_STAGES) - 1)), 0), len(DATASET_STAGES) - 1)]

    def finish_processing(self, ref: str, in_s: float) -> None:
        """Let the newest version of ``ref`` become READY ``in_s`` seconds from now."""
        version = self.datasets[ref][-1]
        version["processing_s"] = time.monotonic() - version["created"] + in_s

    def _ready(self, ref: str) -> list[dict[str, Any]]:
        return [v for v in self.datasets.get(ref, []) if self.dataset_stage(v) == "READY"]

    def dataset_files(self, ref: str) -> dict[str, bytes]:
        """Files of the newest version (processed or not)."""
        return self.datasets[ref][-1]["files"]

    def _dataset_version(self, ref: str, body: dict[str, Any], description: str | None) -> dict[str, Any]:
        files = {}
        for item in body.get("files", []):
            blob = self.blobs.get(item.get("token", ""))
            if blob is None or blob.get("data") is None:
                return {"status": "error", "error": f"upload token {item.get('token')!r} unknown or incomplete"}
            files[blob["name"]] = blob["data"]
        self.datasets.setdefault(ref, []).append(
            {"files": files, "description": description or "", "created": time.monotonic(),
             "processing_s": self.processing_s}
        )
        return {"status": "ok", "url": f"{self.base}/datasets/{ref}", "ref": ref}

    def rpc_GetDatasetStatus(self, body: dict[str, Any]) -> dict[str, Any] | None:
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        return {"status": self.dataset_stage(self.datasets[ref][-1])} if ref in self.datasets else None

    def rpc_GetDataset(self, body: dict[str, Any]) -> dict[str, Any] | None:
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        if ref not in self.datasets:
            return None
        return {"ref": ref, "currentVersionNumber": len(self._ready(ref))}

    def rpc_StartBlobUpload(self, body: dict[str, Any]) -> dict[str, Any]:
        token = uuid.uuid4().hex
        self.blobs[token] = {"name": body.get("name", ""), "size": int(body.get("contentLength", 0))}
        return {"token": token, "createUrl": f"{self.base}/upload/{token}"}

    def rpc_CreateDataset(self, body: dict[str, Any]) -> dict[str, Any]:
        ref = f"{body.get('ownerSlug')}/{body.get('slug')}"
        if ref in self.datasets:
            return {"status": "error", "error": f"dataset {ref} already exists"}
        if not body.get("licenseName"):
            return {"status": "error", "error": "a license is required"}
        return self._dataset_version(ref, body, body.get("description"))

    def rpc_CreateDatasetVersion(self, body: dict[str, Any]) -> dict[str, Any] | tuple[int, dict[str, Any]]:
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        if ref not in self.datasets:
            return {"status": "error", "error": f"dataset {ref} does not exist"}
        if self.dataset_stage(self.datasets[ref][-1]) != "READY":
            return 403, {"code": 403, "message": f"a version of {ref} is still being processed"}
        inner = body.get("body", {})
        return self._dataset_version(ref, inner, inner.get("description"))

    def rpc_ListDatasetFiles(self, body: dict[str, Any]) -> dict[str, Any] | None:
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        ready = self._ready(ref)
        if not ready:  # unknown, or its first version is still being processed
            return None
        now = datetime.now(UTC).isoformat(timespec="seconds")
        files = [{"name": n, "totalBytes": len(d), "creationDate": now} for n, d in ready[-1]["files"].items()]
        return {"datasetFiles": files}

    # -- kernels -----------------------------------------------------------------------------
    def _mount(self, run: Run, ref: str, kind: str) -> Path:
        owner, slug = ref.split("/", 1)
        if self.layout == "new":
            return run.sandbox / "input" / kind / owner / slug
        return run.sandbox / "input" / slug

    def _populate(self, run: Run, body: dict[str, Any]) -> list[str]:
        invalid = []
        for ref in body.get("datasetDataSources", []):
            ready = self._ready(ref)
            if not ready:
                invalid.append(ref)
                continue
            dest = self._mount(run, ref, "datasets")
            dest.mkdir(parents=True, exist_ok=True)
            for name, data in ready[-1]["files"].items():  # the newest PROCESSED version
                (dest / name).write_bytes(data)
                if name.endswith(".zip"):  # Kaggle unpacks uploaded archives
                    with zipfile.ZipFile(dest / name) as zf:
                        zf.extractall(dest / name[:-4])
                    (dest / name).unlink()
        return invalid

    def _attach_kernels(self, run: Run, body: dict[str, Any]) -> list[str]:
        invalid = []
        for ref in body.get("kernelDataSources", []):
            done = [r for r in self.kernels.get(ref, []) if r.status == "COMPLETE"]
            if not done:
                invalid.append(ref)
                continue
            shutil.copytree(done[-1].working, self._mount(run, ref, "notebooks"))
        return invalid

    def rpc_SaveKernel(self, body: dict[str, Any]) -> dict[str, Any]:
        if self.reject_push:
            return {"error": self.reject_push}
        ref = body.get("slug", "")
        if "/" not in ref or not body.get("text"):
            return {"error": "slug owner/name and text are required"}
        runs = self.kernels.setdefault(ref, [])
        version = len(runs) + 1
        sandbox = self.root / "kernels" / ref.replace("/", "__") / f"v{version}"
        run = Run(version, sandbox, body["text"], body, visible_at=time.monotonic() + (self.stale_s if runs else 0))
        run.working.mkdir(parents=True)
        (sandbox / "input").mkdir()
        invalid_ds, invalid_k = self._populate(run, body), self._attach_kernels(run, body)
        runs.append(run)  # like Kaggle: accepted (with a warning) and run without the missing inputs
        if self.start_sessions:
            threading.Thread(target=self._execute, args=(run,), daemon=True).start()
        else:
            run.status = "NEW_SCRIPT"
        warnings = {k: v for k, v in (("invalidDatasetSources", invalid_ds), ("invalidKernelSources", invalid_k)) if v}
        return {"ref": ref, "url": f"{self.base}/code/{ref}", "versionNumber": version, **warnings}

    def _execute(self, run: Run) -> None:
        time.sleep(self.queue_s)
        notebook = run.sandbox / "__notebook__.ipynb"
        notebook.write_text(run.text)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAGGLE_", "PIP_"))}
        env.pop("PYTHONPATH", None)
        (run.sandbox / "tmp").mkdir()
        env.update(TRADELAB_KAGGLE_ROOT=str(run.sandbox), HOME=str(run.sandbox / "home"), TMPDIR=str(run.sandbox / "tmp"))
        # pip sees Kaggle's image (cp312, manylinux x86_64) and installs beside this interpreter's packages
        env.update(IMAGE_PIP, PIP_CONFIG_FILE=os.devnull, PIP_TARGET=str(run.sandbox / "image-site"))
        if run.request.get("enableInternet") is False or "enableInternet" not in run.request:
            for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
                env[var] = NO_NETWORK
            env.pop("NO_PROXY", None)
            env.pop("no_proxy", None)
        cmd = [sys.executable, "-m", "papermill", str(notebook), str(run.sandbox / "__results__.ipynb"),
               "--cwd", str(run.working), "--log-output", "--no-progress-bar"]
        run.status = "RUNNING"
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        run.request["_proc"] = proc
        out, _ = proc.communicate()
        now = time.time()
        run.log = [{"stream_name": "stdout", "time": now, "data": line + "\n"} for line in out.splitlines()]
        if proc.returncode == 0:
            run.status = "COMPLETE"
        else:
            errors = [ln for ln in out.splitlines() if "Error" in ln or "Exception" in ln]
            run.failure = errors[-1].strip() if errors else f"papermill exited {proc.returncode}"
            run.status = "ERROR"

    def _latest(self, body: dict[str, Any]) -> Run | None:
        """The session status/output calls describe: the newest one, once it is visible."""
        runs = self.kernels.get(f"{body.get('userName')}/{body.get('kernelSlug')}")
        if not runs:
            return None
        visible = [r for r in runs if r.visible_at <= time.monotonic()]
        return visible[-1] if visible else runs[-1]

    def rpc_GetKernelSessionStatus(self, body: dict[str, Any]) -> dict[str, Any] | None:
        run = self._latest(body)
        if run is None:
            return None
        return {"status": run.status, **({"failureMessage": run.failure} if run.failure else {})}

    def rpc_ListKernelSessionOutput(self, body: dict[str, Any]) -> dict[str, Any] | None:
        run = self._latest(body)
        if run is None:
            return None
        ref = f"{body.get('userName')}/{body.get('kernelSlug')}"
        files = []
        if run.status in ("COMPLETE", "ERROR"):
            for path in sorted(p for p in run.working.rglob("*") if p.is_file()):
                rel = path.relative_to(run.working).as_posix()
                files.append({"fileName": rel, "url": f"{self.base}/files/{ref}/{run.version}/{quote(rel)}"})
        return {"files": files, "log": json.dumps(run.log)}

    def rpc_IntrospectToken(self, body: dict[str, Any]) -> dict[str, Any]:
        user = self.tokens.get(body.get("token", ""))
        return {"active": True, "username": user, "clientId": "kaggle-cli"} if user else {"active": False}

    def rpc_GetKernel(self, body: dict[str, Any]) -> dict[str, Any] | None:
        runs = self.kernels.get(f"{body.get('userName')}/{body.get('kernelSlug')}")
        if not runs:
            return None
        req = runs[-1].request
        blob = {"source": runs[-1].text, "language": "python", "kernelType": "notebook",
                "slug": req["slug"].split("/", 1)[1]}
        meta = {"ref": req["slug"], "title": req.get("newTitle", ""), "language": "python",
                "kernelType": "notebook", "enableGpu": req.get("enableGpu", False),
                "datasetDataSources": req.get("datasetDataSources", []),
                "kernelDataSources": req.get("kernelDataSources", [])}
        return {"blob": blob, "metadata": meta}


class _Handler(BaseHTTPRequestHandler):
    emulator: KaggleEmulator

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/json", headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, code: int, obj: Any) -> None:
        self._send(code, json.dumps(obj).encode())

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, key = base64.b64decode(auth[6:]).decode().partition(":")
            return bool(user and key)
        return auth.startswith("Bearer ") and auth[7:] in self.emulator.tokens

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        body = self._body()
        em = self.emulator
        em.requests.append(f"POST {path}")
        method = path.rsplit("/", 1)[-1]
        if method != "IntrospectToken" and not self._authorized():  # introspection answers active: false
            return self._json(401, {"code": 401, "message": "Unauthenticated"})
        handler = getattr(em, f"rpc_{method}", None)
        if handler is None:
            return self._json(404, {"code": 404, "message": f"emulator does not implement {method}"})
        with em.lock:
            result = handler(json.loads(body or b"{}"))
        if result is None:
            return self._json(404, {"code": 404, "message": "Not found"})
        if isinstance(result, tuple):  # an HTTP error with its body
            return self._json(*result)
        self._json(200, result)

    def do_PUT(self) -> None:
        path = urlsplit(self.path).path
        data = self._body()
        em = self.emulator
        em.requests.append(f"PUT {path}")
        blob = em.blobs.get(path.rsplit("/", 1)[-1])
        if blob is None:
            return self._json(404, {"code": 404, "message": "unknown upload"})
        if blob["name"] in em.fail_uploads:
            return self._json(400, {"code": 400, "message": "upload rejected by the emulator"})
        if not data and self.headers.get("Content-Range", "").startswith("bytes */"):
            # GCS resumable-upload status query (the CLI resuming a saved upload): nothing is written;
            # 200 = already complete (the token keeps the bytes sent before), 308 = start again
            if blob.get("data") is not None:
                return self._json(200, {})
            self.send_response(308)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        blob["data"] = data
        self._json(200, {})

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        em = self.emulator
        em.requests.append(f"GET {path}")
        parts = path.strip("/").split("/")
        if parts[0] == "files" and len(parts) >= 5:
            ref, version, rel = f"{parts[1]}/{parts[2]}", int(parts[3]), "/".join(parts[4:])
            runs = em.kernels.get(ref, [])
            target = runs[version - 1].working / rel if 0 < version <= len(runs) else None
            if target is None or not target.is_file():
                return self._json(404, {"code": 404, "message": "no such output"})
            if rel in em.error_outputs:  # storage answers with an error page (the 2.2.4 CLI saves it)
                return self._send(em.error_outputs[rel], ERROR_PAGE, "application/xml")
            modified = formatdate(target.stat().st_mtime, usegmt=True)
            return self._send(200, target.read_bytes(), "application/octet-stream", {"Last-Modified": modified})
        if parts[:5] == ["api", "v1", "kernels", "logs", "stream"] and len(parts) == 7:
            runs = em.kernels.get(f"{parts[5]}/{parts[6]}", [])
            if not runs:
                return self._json(404, {"code": 404, "message": "Not found"})
            return self._send(200, json.dumps(runs[-1].log).encode())
        self._json(404, {"code": 404, "message": "Not found"})


def wheelhouse(repo: Path) -> Path:
    """The cp312 wheel cache the tests share (gitignored; built once from the package index).

    ``TRADELAB_KAGGLE_WHEELHOUSE`` moves it; later runs need no network."""
    return Path(os.environ.get("TRADELAB_KAGGLE_WHEELHOUSE") or repo / "outputs" / "wheelhouse-cp312")
