"""Optuna storages for shared studies: SQLite, journal files, PostgreSQL (or any SQLAlchemy URL).

PostgreSQL is first class. A URL's password never appears in a message (:func:`redact`); an
unreachable server, refused credentials, a missing database or a missing driver is one
``ConfigError`` naming the server and the fix; and Optuna's schema is created under a PostgreSQL
advisory lock, because workers opening a fresh database at once race to ``CREATE TYPE
studydirection`` / ``CREATE TABLE`` (``UniqueViolation``). Other databases retry the open instead.
RDB storages get Optuna's heartbeat and ``RetryHeartbeatStaleTrialCallback`` (Optuna 5's name of
``RetryFailedTrialCallback``): a trial whose worker died is failed and its parameters re-queued.
"""

from __future__ import annotations

import re
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tradelab.errors import ConfigError

__all__ = ["STORAGE_ENV", "HEARTBEAT_S", "GRACE_FACTOR", "make_storage", "redact", "storage_error"]

STORAGE_ENV = "TRADELAB_OPTUNA_STORAGE"
"""environment variable `tradelab tune` and `tradelab kaggle tune` read the storage URL from when
``--storage`` is not given (keeps the password out of the process list and shell history)"""
HEARTBEAT_S = 60
"""Optuna heartbeat interval for RDB storages (a trial's process writes it while alive)."""
GRACE_FACTOR = 3
"""A RUNNING trial whose heartbeat is older than this many intervals is failed and retried."""
MAX_RETRY = 2
"""how many times the parameters of a trial whose worker died are tried again"""
#: pg_advisory_lock key serialising Optuna's schema creation ("tradelab" in ASCII, truncated)
SCHEMA_LOCK_KEY = 0x7472_6164_656C_6162
#: fragments of errors from concurrent schema creation (PostgreSQL, MySQL; SQLite: a locked file, or the
#: ``alembic_version`` row two openers of a fresh file both insert)
_RACE = ("already exists", "duplicate key", "uniqueviolation", "duplicatetable", "duplicate entry",
         "pg_type_typname_nsp_index", "database is locked", "unique constraint failed")


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (safe for messages and logs)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a SQLAlchemy URL: hide anything between user: and @
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _password(url: str) -> str | None:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).password
    except Exception:
        return None


def storage_error(url: str, exc: BaseException) -> ConfigError:
    """One clear error for a storage that cannot be opened: what failed, where, and the fix."""
    shown, text = redact(url), f"{type(exc).__name__}: {exc}"
    secret = _password(url)
    if secret:
        text = text.replace(secret, "***")
    low = text.lower()
    first = text.strip().splitlines()[0] if text.strip() else text
    if isinstance(exc, ImportError) or "nosuchmoduleerror" in low or "no module named" in low:
        why = ("no database driver for this URL; install the one requirements.txt pins (`make setup`, or "
               "`pip install 'psycopg[binary]'` for postgresql://)")
    elif "password authentication failed" in low or "authentication failed" in low or "no password supplied" in low:
        why = "the server refused the user or password; fix them in the --storage URL (or the server's pg_hba.conf)"
    elif "does not exist" in low and "database" in low:
        why = "the database does not exist on that server; create it (`createdb NAME` or CREATE DATABASE) first"
    elif any(s in low for s in ("connection refused", "could not connect", "timeout expired", "timed out",
                                "could not translate host name", "name or service not known", "connection failed",
                                "no route to host", "network is unreachable")):
        why = ("the server cannot be reached; check that it is running and that host, port (and firewall) in "
               "--storage are right")
    else:
        why = f"{first}; check the --storage URL"
    return ConfigError(f"cannot open Optuna storage {shown}: {why} ({first})")


def _driver_url(url: str) -> str:
    """``postgres://`` (Heroku, Neon, Supabase spell it so) is ``postgresql://`` for SQLAlchemy."""
    return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgresql+"))


@contextmanager
def _schema_lock(url: str, connect_args: dict[str, Any]):
    """Hold a PostgreSQL advisory lock: one opener at a time creates Optuna's tables and types."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


def _open_rdb(url: str, heartbeat: int | None, grace: int | None, attempts: int = 5) -> Any:
    from optuna.exceptions import ExperimentalWarning
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}  # long trials: hosted servers drop idle connections
    connect_args: dict[str, Any] = {}
    if url.startswith("sqlite"):
        connect_args = {"timeout": 60}
    elif _is_postgres(url):
        connect_args = {"connect_timeout": 15}
    engine_kwargs["connect_args"] = connect_args
    beat: dict[str, Any] = {}
    if heartbeat:
        with warnings.catch_warnings():  # heartbeat arguments are marked experimental in Optuna 5
            warnings.simplefilter("ignore", ExperimentalWarning)
            beat = {"heartbeat_interval": int(heartbeat), "grace_period": int(grace or GRACE_FACTOR * heartbeat),
                    "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRY)}
    for attempt in range(attempts):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)
                if not _is_postgres(url):
                    return RDBStorage(url, engine_kwargs=engine_kwargs, **beat)
                with _schema_lock(url, connect_args):
                    return RDBStorage(url, engine_kwargs=engine_kwargs, **beat)
        except Exception as exc:  # sqlalchemy/driver errors: classified below, never with the password
            if attempt + 1 == attempts or not any(s in str(exc).lower() for s in _RACE):
                raise storage_error(url, exc) from None
            time.sleep(0.2 * (attempt + 1))  # another process is creating the schema: try again
    raise ConfigError(f"cannot open Optuna storage {redact(url)}")  # attempts < 1


def make_storage(storage: str | None, output_dir: str | Path, heartbeat: int | None = HEARTBEAT_S,
                 grace: int | None = None) -> Any:
    """``None`` → SQLite in ``output_dir``; ``journal:PATH`` → journal file; else a SQLAlchemy URL
    (``postgresql://user:password@host:5432/db``; ``postgres://`` is accepted too).

    :param heartbeat: seconds between a running trial's heartbeats (RDB storages; None: off).
    :param grace: a RUNNING trial silent for this long is failed and retried (default 3 heartbeats).
    """
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if storage is None:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        storage = f"sqlite:///{Path(output_dir).resolve() / 'optuna.db'}"
    if storage.startswith("journal:"):
        path = Path(storage[len("journal:"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    if "://" not in storage:
        raise ConfigError(f"--storage {redact(storage)!r} is not a storage URL: use sqlite:///path.db, "
                          "postgresql://user:password@host:5432/db or journal:/path/study.log")
    return _open_rdb(_driver_url(storage), heartbeat, grace)
