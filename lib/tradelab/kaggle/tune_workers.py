"""`tradelab kaggle tune`: N Kaggle kernels join one Optuna study on a shared (PostgreSQL) server.

Each kernel runs ``notebooks/06_tune_worker.ipynb`` (:func:`kernel_worker`), which adds trials to
the study exactly as `tradelab tune` does in a local shell; both can run at once. The storage URL,
password included, reaches the kernels one of two ways and is never written into a notebook, the
kernel metadata, state.json, logs or outputs:

- ``via="dataset"`` (default): a *private* dataset holding one file, ``optuna_storage.url``, built in
  a temporary 0700 folder that is removed right after the upload; kernels find it by glob;
- ``via="secret"``: a Kaggle secret the user added once (Add-ons → Secrets) under a label; the kernel
  reads it with ``kaggle_secrets.UserSecretsClient`` (attach it to each worker kernel on kaggle.com).
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, TextIO

from tradelab.errors import ConfigError, KaggleError
from tradelab.kaggle.cli_driver import KaggleCLI
from tradelab.kaggle.datasets import DatasetFolder, ensure_dataset
from tradelab.kaggle.loop import DEFAULT_OUT, KernelFailed, pull, push, wait
from tradelab.kaggle.spec import KaggleSpec, resolve_owner, slugify
from tradelab.utils import atomic_write_json

__all__ = ["STORAGE_FILE", "DEFAULT_SECRET", "kernel_worker", "read_storage_url", "push_storage_dataset",
           "tune_on_kaggle"]

STORAGE_FILE = "optuna_storage.url"
"""the one file of the private storage dataset"""
DEFAULT_SECRET = "TRADELAB_OPTUNA_STORAGE"
"""label of the Kaggle secret holding the storage URL (``via="secret"``)"""
WORKFLOW = "06_tune_worker"


def read_storage_url(storage_file: str | None, storage_secret: str | None) -> str:
    """Inside a kernel: the storage URL from the attached file, else from the Kaggle secret."""
    if storage_file:
        url = Path(storage_file).read_text(encoding="utf-8").strip()
        where = f"file {storage_file}"
    elif storage_secret:
        try:
            from kaggle_secrets import UserSecretsClient
        except ImportError:
            raise ConfigError(f"no storage_file and no Kaggle secrets here (not a Kaggle kernel): cannot read "
                              f"secret {storage_secret!r}; pass storage_file") from None
        url = (UserSecretsClient().get_secret(storage_secret) or "").strip()
        where = f"Kaggle secret {storage_secret!r}"
    else:
        raise ConfigError("set storage_file (the private storage dataset) or storage_secret (a Kaggle secret label)")
    if "://" not in url:  # never echo the content: it is a credential
        raise ConfigError(f"{where} does not hold a storage URL (postgresql://user:password@host:5432/db)")
    return url


def kernel_worker(*, study: str, stage: int, storage_file: str | None, storage_secret: str | None,
                  output_dir: str | Path, worker: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """What a tuning kernel runs: join ``study`` and add trials (``kwargs`` as
    :func:`tradelab.training.curriculum.tune_stage`); writes ``metrics.json`` (a RunResult, workflow "tune",
    the study's summary under ``meta.tune``; no URL) and returns the summary."""
    from tradelab.results import RunResult, make_meta
    from tradelab.training.curriculum import tune_stage

    url = read_storage_url(storage_file, storage_secret)
    worker = worker or f"kaggle:{os.environ.get('KAGGLE_KERNEL_RUN_TYPE', 'kernel')}:{os.getpid()}"
    result = tune_stage(kwargs.pop("config", None) or _default_config(), stage, study=study, storage=url,
                        output_dir=output_dir, worker=worker, **kwargs)
    RunResult({}, {}, make_meta("tune", stage=stage, tune=result), Path(output_dir)).write()
    return result


def _default_config() -> Path:
    from tradelab.config import CONFIG_DIR

    return CONFIG_DIR / "curriculum.yaml"


def push_storage_dataset(cli: KaggleCLI, ref: str, url: str) -> str:
    """Create or version the private dataset ``ref`` holding ``url``; the local copy is removed at
    once. Returns created|versioned."""
    from tradelab.kaggle.datasets import METADATA

    with tempfile.TemporaryDirectory(prefix="tradelab-storage-") as tmp:  # mode 0700
        folder = Path(tmp) / ref.split("/", 1)[1]
        folder.mkdir(mode=0o700)
        path = folder / STORAGE_FILE
        path.touch(mode=0o600)
        path.write_text(url + "\n", encoding="utf-8")
        atomic_write_json(folder / METADATA, {  # private by default; no hash of the content anywhere
            "title": ref.split("/", 1)[1].replace("-", " ")[:50], "id": ref, "licenses": [{"name": "CC0-1.0"}],
            "description": "Optuna storage URL for tradelab tuning kernels (private: holds a credential).",
        })
        return ensure_dataset(cli, DatasetFolder(ref, folder, f"storage-{uuid.uuid4().hex}"), force=True)


def _model_location(trial: Any, pulled: dict[str, Path]) -> str:
    label, rel = str(trial.user_attrs.get("worker_label", "")), trial.user_attrs.get("model")
    if label.startswith("kaggle:") and rel:
        ref = label[len("kaggle:"):]
        if ref in pulled:
            return str(pulled[ref] / rel)
        return f"{rel} in the outputs of kernel {ref}"
    return f"{trial.user_attrs.get('model_path')} on {label or 'an unknown worker'}"


def best_trial_summary(storage: str, study: str, pulled: dict[str, Path]) -> dict[str, Any]:
    """The study's best trial, trials per worker, and where the best model is."""
    import optuna

    from tradelab.training.tuning import make_storage

    loaded = optuna.load_study(study_name=study, storage=make_storage(storage, ".", heartbeat=None))
    per_worker: dict[str, dict[str, int]] = {}
    for t in loaded.trials:
        row = per_worker.setdefault(str(t.user_attrs.get("worker_label", "unknown")), {})
        row[t.state.name] = row.get(t.state.name, 0) + 1
    complete = [t for t in loaded.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise KaggleError(f"study {study!r} has no completed trial: see the kernels' logs in their pulled folders")
    best = loaded.best_trial
    return {"study": study, "n_trials": len(loaded.trials), "trials_per_worker": per_worker,
            "best_trial": best.number, "best_value": best.value, "best_params": best.params,
            "best_worker": best.user_attrs.get("worker_label"), "best_model": _model_location(best, pulled)}


def _check(spec: KaggleSpec, storage: str, workers: int, via: str) -> None:
    from tradelab.training.tuning import make_storage, redact

    if workers < 1:
        raise KaggleError(f"--workers must be >= 1, got {workers}")
    if via not in ("dataset", "secret"):
        raise KaggleError(f"--storage-via must be dataset or secret, got {via!r}")
    if not spec.enable_internet:
        raise KaggleError(f"kaggle spec {spec.workflow}: enable_internet must be true: the kernels reach the "
                          "Optuna storage server over the internet")
    if storage.startswith(("sqlite", "journal:")) or "://" not in storage:
        raise KaggleError(f"--storage {redact(storage)}: Kaggle kernels cannot reach a file on this machine; use a "
                          "server they can reach, e.g. postgresql://user:password@host:5432/db (README, PostgreSQL)")
    make_storage(storage, ".", heartbeat=None)  # fail here, clearly, before anything is pushed


def _push_workers(spec: KaggleSpec, params: dict[str, Any], workers: int, base: str, owner: str,
                  extra: dict[str, str], stream: TextIO, **kwargs: Any) -> list[str]:
    """Push the worker kernels; after the first, a refused push (the account's limit of concurrent
    sessions: "Maximum batch GPU session count of N reached") ends the list instead of failing."""
    refs: list[str] = []
    for i in range(workers):
        slug = f"{base}-w{i + 1}"
        seed = int(params.get("seed", 0)) + 1000 * (i + 1)  # TPE samplers of the workers differ
        try:
            result = push(spec, {**params, "seed": seed, "worker": f"kaggle:{owner}/{slug}"}, owner=owner,
                          slug=slug, extra_datasets=extra, **kwargs)
        except KaggleError as exc:
            if not refs:
                raise
            stream.write(f"Kaggle refused worker {i + 1} ({exc}); going on with the {len(refs)} pushed. Free "
                         "accounts run a limited number of GPU sessions at once: see kaggle/README.md\n")
            break
        refs.append(result.kernel.ref)
        stream.write(f"pushed {result.kernel.ref} v{result.version} (worker {i + 1}/{workers})\n")
    return refs


def _wait_and_pull(spec: KaggleSpec, refs: list[str], cli: KaggleCLI, out_root: Path,
                   stream: TextIO) -> tuple[dict[str, str], dict[str, Path]]:
    """Final state and pulled folder of each kernel (what a failed one wrote is pulled too)."""
    states, pulled = {}, {}
    for ref in refs:  # they run at once: waiting in turn costs the slowest one's time
        slug = ref.split("/", 1)[1]
        try:
            states[ref] = wait(slug, cli=cli, out_root=out_root, timeout_s=spec.timeout_s, poll_s=spec.poll_s,
                               max_poll_s=spec.max_poll_s, stream=stream, settle_s=spec.settle_s).state
        except KernelFailed as exc:
            states[ref] = "ERROR"
            stream.write(f"{ref} failed: {str(exc).splitlines()[0]}\n")
        try:
            pulled[ref] = pull(slug, cli=cli, out_root=out_root)
        except KaggleError as exc:
            stream.write(f"pulling {ref} failed: {exc}\n")
    return states, pulled


def tune_on_kaggle(spec: KaggleSpec, storage: str, study: str, workers: int, parameters: dict[str, Any], *,
                   via: str = "dataset", secret: str = DEFAULT_SECRET, owner: str | None = None,
                   out_root: Path = DEFAULT_OUT, root: Path | None = None, cli: KaggleCLI | None = None,
                   stream: TextIO | None = None) -> dict[str, Any]:
    """Push ``workers`` kernels that join ``study`` on ``storage``, wait for all, pull their outputs;
    returns :func:`best_trial_summary` plus the kernels and their final states."""
    from tradelab.training.tuning import redact

    _check(spec, storage, workers, via)
    stream, cli = stream or sys.stderr, cli or KaggleCLI()
    owner = resolve_owner(owner)
    base = slugify(f"tradelab-tune-{study}")[:40].strip("-")
    extra, paths = {}, dict(spec.path_parameters)
    params = {**parameters, "study": study}
    if via == "dataset":
        extra["storage"] = f"{owner}/{base}-storage"
        stream.write(f"storage {redact(storage)} → private dataset {extra['storage']} "
                     f"({push_storage_dataset(cli, extra['storage'], storage)})\n")
        paths["storage_file"] = f"storage:{STORAGE_FILE}"
        params["storage_secret"] = None
    else:
        params.update(storage_file=None, storage_secret=secret)
    spec = spec.replace(path_parameters=paths)
    refs = _push_workers(spec, params, workers, base, owner, extra, stream, cli=cli, out_root=out_root, root=root)
    states, pulled = _wait_and_pull(spec, refs, cli, out_root, stream)
    summary = {**best_trial_summary(storage, study, pulled), "kernels": states,
               "pulled": {ref: str(path) for ref, path in pulled.items()}}
    atomic_write_json(out_root / f"{base}.json", summary)
    return summary
