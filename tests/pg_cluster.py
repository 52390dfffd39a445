"""A throwaway PostgreSQL cluster for tests: ``initdb`` + ``pg_ctl`` in a temp folder, loopback port.

The server refuses to run as root, so as root the cluster belongs to ``nobody`` (``runuser``).
Password authentication (scram-sha-256) is on, with a random password, so tests can check that the
password never leaks into files. ``make test`` / ``.ci/run`` install the binaries (Debian's
``postgresql``); without them the fixture fails, unless ``TRADELAB_SKIP_POSTGRES=1`` skips it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

SKIP_ENV = "TRADELAB_SKIP_POSTGRES"
MISSING = ("PostgreSQL server binaries (initdb, pg_ctl) not found: run `make postgres` (`make test` runs it; "
           "as root it apt-installs Debian's `postgresql`) or `sudo apt-get install postgresql`; set "
           "TRADELAB_SKIP_POSTGRES=1 to skip the PostgreSQL tests explicitly")


def find_bindir() -> Path | None:
    """Folder holding initdb and pg_ctl (PATH, then Debian's /usr/lib/postgresql/<v>/bin)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if Path(folder, "initdb").is_file() and Path(folder, "pg_ctl").is_file():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A running cluster; ``url(db)`` is a SQLAlchemy URL with the password."""

    root: Path
    port: int
    user: str
    password: str
    bindir: Path
    as_user: list[str]

    def url(self, db: str = "postgres", password: str | None = None) -> str:
        return f"postgresql://{self.user}:{password or self.password}@127.0.0.1:{self.port}/{db}"

    def create_database(self, name: str) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), *args],
                              capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb + start on a free loopback port; raises RuntimeError with the server's log on failure."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError(MISSING)
    root = Path(tempfile.mkdtemp(prefix="tradelab-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses root: the cluster belongs to nobody
        as_user = ["runuser", "-u", "nobody", "--"]
        shutil.chown(root, "nobody")
    root.chmod(0o700)
    password = f"pw{uuid.uuid4().hex}"
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if as_user:
        shutil.chown(pwfile, "nobody")
    user = "tradelab"
    init = subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(root / "data"), "-U", user, "-A",
                           "scram-sha-256", "--pwfile", str(pwfile), "-E", "UTF8", "--no-sync"],
                          capture_output=True, text=True, timeout=180)
    pwfile.unlink()
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr[-2000:]}")
    for _ in range(3):  # a port picked free may be taken before the server binds it
        cluster = Cluster(root, _free_port(), user, password, bindir, as_user)
        opts = (f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        started = cluster._ctl("-o", opts, "-l", str(root / "server.log"), "-w", "-t", "60", "start")
        if started.returncode == 0:
            return cluster
        time.sleep(0.5)
    log = (root / "server.log").read_text(errors="replace")[-2000:] if (root / "server.log").is_file() else ""
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"pg_ctl start failed: {started.stderr[-1000:]}\n{log}")
