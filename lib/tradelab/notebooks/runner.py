"""Run a parameterized notebook with papermill: strict parameters, one clear error on failure.

``run("02_sac", {"smoke": True}, "outputs/sac")`` executes ``notebooks/02_sac.ipynb`` with the
parameters injected, saves the executed copy as ``outputs/sac/02_sac.ipynb`` and returns the
``metrics.json`` the notebook wrote. Unknown parameter names are an error (papermill only warns),
and a failing cell becomes a :class:`~tradelab.errors.NotebookError` naming the cell, the
exception and the executed notebook's path.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradelab.errors import ConfigError, NotebookError
from tradelab.project import missing_note, resource_dir
from tradelab.results import METRICS_FILE, RunResult

__all__ = [
    "NOTEBOOK_DIR",
    "PROJECT_KERNEL",
    "NotebookRun",
    "kernel_options",
    "list_notebooks",
    "notebook_parameters",
    "resolve_notebook",
    "run",
]

#: The workflow notebooks: ``notebooks/`` of the checkout, or the copy packaged with a non-editable
#: install (see :mod:`tradelab.project`).
NOTEBOOK_DIR = resource_dir("notebooks")


@dataclass(frozen=True)
class NotebookRun:
    """What one executed notebook left behind."""

    name: str
    """notebook stem, e.g. ``02_sac``"""
    executed: Path
    """the executed copy (``output_dir/NAME.ipynb``)"""
    output_dir: Path
    """folder passed to the notebook as ``output_dir``"""
    parameters: dict[str, Any]
    """parameters injected into the notebook"""
    seconds: float
    """wall time of the execution"""
    metrics: dict[str, Any] = field(default_factory=dict)
    """``output_dir/metrics.json`` as written (a raw dict) when the notebook wrote one, else empty"""

    @property
    def result(self) -> RunResult | None:
        """``output_dir/metrics.json`` as a :class:`~tradelab.results.RunResult` (None when not written)."""
        return RunResult.read(self.output_dir) if (self.output_dir / METRICS_FILE).is_file() else None


def list_notebooks(directory: str | Path | None = None) -> list[Path]:
    """The ``*.ipynb`` files of ``directory`` (default ``notebooks/``), sorted by name."""
    directory = Path(directory) if directory is not None else NOTEBOOK_DIR
    return sorted(p for p in directory.glob("*.ipynb") if not p.name.startswith("."))


def resolve_notebook(name: str | Path, directory: str | Path | None = None) -> Path:
    """A notebook path from a path, a stem (``02_sac``) or its number prefix (``02``)."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.is_file():
        return path
    stem = path.stem if path.suffix == ".ipynb" else str(name)
    known = list_notebooks(directory)
    matches = [p for p in known if p.stem == stem] or [p for p in known if p.stem.split("_")[0] == stem]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(p.stem for p in known) or "(none)"
    where = directory or f"{NOTEBOOK_DIR}{missing_note('notebooks')}"
    raise NotebookError(f"notebook {name!r} not found in {where}; available: {names}")


def notebook_parameters(path: str | Path) -> dict[str, dict[str, Any]]:
    """Parameters of the notebook's ``parameters`` cell: name → {default, type, help}.

    A notebook without a cell tagged ``parameters`` is a :class:`NotebookError`.
    """
    import nbformat
    import papermill

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        raise NotebookError(
            f"{path}: no cell tagged 'parameters'; tag the cell holding the defaults "
            "(JupyterLab: property inspector → cell tags → parameters)"
        )
    found = papermill.inspect_notebook(str(path))
    return {
        name: {"default": p.get("default"), "type": p.get("inferred_type_name"), "help": p.get("help", "")}
        for name, p in found.items()
    }


def _check_parameters(path: Path, parameters: dict[str, Any]) -> None:
    known = notebook_parameters(path)
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise NotebookError(
            f"{path.name}: unknown parameter(s) {unknown}; this notebook accepts {sorted(known)} "
            f"(see `tradelab run --list`)"
        )
    for name, value in parameters.items():
        _check_type(path, name, value, known[name]["default"])


def _check_type(path: Path, name: str, value: Any, default_src: Any) -> None:
    """Refuse a value whose type cannot be what the parameters cell's default is (before anything runs)."""
    import ast

    try:
        default = ast.literal_eval(str(default_src))
    except (ValueError, SyntaxError):
        return  # an expression default: nothing to compare with
    if default is None or value is None:
        return
    if isinstance(default, bool):
        ok, want = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, want = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif isinstance(default, float):
        ok, want = isinstance(value, int | float) and not isinstance(value, bool), "a number"
    elif isinstance(default, str):
        ok, want = isinstance(value, str | Path), "a string"
    elif isinstance(default, list | tuple):
        ok, want = isinstance(value, list | tuple), "a list such as [1, 2]"
    else:
        return
    if not ok:
        raise NotebookError(
            f"{path.name}: parameter {name} = {value!r} ({type(value).__name__}) must be {want} like its default "
            f"{default_src}; nothing was run. Fix: -p {name} {default_src}"
        )


def _jsonable(parameters: dict[str, Any]) -> dict[str, Any]:
    """Paths become strings, tuples lists: what papermill can write into a cell."""
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def _failure(exc: Any, name: str, executed: Path) -> NotebookError:
    cell = exc.cell_index + 1 if exc.cell_index is not None else "?"
    source = (exc.source or "").strip().splitlines()
    first = f" (`{source[0][:80]}`)" if source else ""
    return NotebookError(
        f"notebook {name} failed at cell {cell} of the executed notebook [In {exc.exec_count}]{first}: {exc.ename}: {exc.evalue}; "
        f"the executed notebook with the full traceback is {executed}"
    )


#: Environment for the kernel: inline plots even when the caller runs headless (MPLBACKEND=Agg,
#: as `make` sets it), and (unless set) no TensorFlow start-up chatter in the executed notebook.
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "TF_CPP_MIN_LOG_LEVEL": "2"}


@contextmanager
def _kernel_env() -> Iterator[None]:
    """Set :data:`KERNEL_ENV` while the kernel starts (it inherits this process's environment)."""
    saved = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ["MPLBACKEND"] = KERNEL_ENV["MPLBACKEND"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", KERNEL_ENV["TF_CPP_MIN_LOG_LEVEL"])
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


#: The kernel `make setup` installs (``ipykernel install --sys-prefix --name python3``); the notebooks name it.
PROJECT_KERNEL = "python3"


def _runs_this_python(kernel_name: str) -> bool:
    """True when kernelspec ``kernel_name`` exists and starts this interpreter (same ``bin/`` folder)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except NoSuchKernel:
        return False
    exe = Path(argv[0]) if argv else Path()
    return exe.is_absolute() and exe.parent == Path(sys.executable).parent


def _this_python_kernel() -> type:
    """A kernel manager class that starts this interpreter's ipykernel, whatever kernelspecs are installed."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisPythonSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

    class ThisPythonKernel(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self) -> KernelSpecManager:
            return ThisPythonSpecs(data_dir=self.data_dir)

    return ThisPythonKernel


def kernel_options(kernel_name: str = PROJECT_KERNEL) -> dict[str, Any]:
    """papermill keyword arguments for the kernel that runs a notebook.

    A named kernel other than :data:`PROJECT_KERNEL` is used as it is. The project kernel is used when
    its kernelspec starts this interpreter (the `make setup` venv); otherwise (a non-editable
    ``pip install``, or a ``python3`` kernelspec of another Python shadowing it) the notebook runs on
    this interpreter through ipykernel, so it imports the tradelab that called :func:`run`.
    """
    if kernel_name != PROJECT_KERNEL or _runs_this_python(kernel_name):
        return {"kernel_name": kernel_name}
    try:
        return {"kernel_name": kernel_name, "kernel_manager_class": _this_python_kernel()}
    except ImportError as exc:
        raise NotebookError(
            f"no Jupyter kernel for {sys.executable}: ipykernel is not importable ({exc}); "
            "install it (`pip install ipykernel`) or register one (`python -m ipykernel install --sys-prefix "
            f"--name {PROJECT_KERNEL}`)"
        ) from exc


def _read_metrics(output_dir: Path) -> dict[str, Any]:
    path = output_dir / METRICS_FILE
    if not path.is_file():
        return {}
    try:
        RunResult.read(path)  # valid JSON, a mapping, a schema version this tradelab knows
    except ConfigError as exc:
        raise NotebookError(f"{exc} (write it with tradelab.results.RunResult)") from exc
    return json.loads(path.read_text(encoding="utf-8"))


def run(
    name: str | Path,
    parameters: dict[str, Any] | None = None,
    output_dir: str | Path | None = None,
    *,
    directory: str | Path | None = None,
    progress_bar: bool = True,
    log_output: bool = False,
    kernel_name: str = PROJECT_KERNEL,
    cwd: str | Path | None = None,
) -> NotebookRun:
    """Execute notebook ``name`` with ``parameters`` into ``output_dir`` (default ``outputs/NAME``).

    ``output_dir`` is also injected as the notebook's ``output_dir`` parameter (absolute path),
    so the notebook's artifacts and its executed copy land in the same folder. The kernel is chosen
    by :func:`kernel_options`.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    path = resolve_notebook(name, directory)
    params = dict(parameters or {})
    _check_parameters(path, params)
    out = Path(output_dir if output_dir is not None else Path("outputs") / path.stem).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if "output_dir" in notebook_parameters(path):
        params["output_dir"] = str(out)
    executed = out / f"{path.stem}.ipynb"
    start = time.perf_counter()
    try:
        with _kernel_env():
            papermill.execute_notebook(
                str(path),
                str(executed),
                parameters=_jsonable(params),
                **kernel_options(kernel_name),
                progress_bar=progress_bar,
                log_output=log_output,
                cwd=str(cwd) if cwd is not None else None,
            )
    except PapermillExecutionError as exc:
        raise _failure(exc, path.stem, executed) from None
    seconds = time.perf_counter() - start
    return NotebookRun(path.stem, executed, out, params, seconds, _read_metrics(out))
