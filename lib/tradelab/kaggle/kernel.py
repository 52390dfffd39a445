"""The kernel folder: the workflow notebook with parameters injected + kernel-metadata.json.

Parameters are injected with papermill's prepare-only mode (Kaggle runs the notebook with empty
parameters, so the injected cell stays as written). Path parameters and ``output_dir`` are then
re-assigned in that cell to run-time lookups under ``/kaggle/input`` / ``/kaggle/working``, and a
bootstrap cell (see :mod:`tradelab.kaggle.bootstrap`) goes first.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradelab.errors import KaggleError
from tradelab.kaggle.bootstrap import bootstrap_source, resolve_line
from tradelab.kaggle.spec import KaggleSpec
from tradelab.utils import atomic_write_json

__all__ = ["KernelFolder", "build_kernel_folder"]


@dataclass(frozen=True)
class KernelFolder:
    """A folder ready for ``kaggle kernels push -p``."""

    path: Path
    """the folder"""
    ref: str
    """``owner/slug`` of the kernel"""
    metadata: dict[str, Any]
    """the kernel-metadata.json written"""
    parameters: dict[str, Any]
    """parameters injected by papermill (path parameters as their ``role:path`` spec)"""


def _runtime_lines(
    spec: KaggleSpec, known: set[str], slugs: dict[str, str], resume_slug: str | None
) -> list[str]:
    targets = dict(spec.path_parameters)
    if "output_dir" in known:
        targets.setdefault("output_dir", "working")
    lines = [resolve_line(name, target, slugs) for name, target in targets.items()]
    if resume_slug:
        if spec.resume_parameter not in known:
            raise KaggleError(
                f"{spec.workflow}: the notebook has no parameter {spec.resume_parameter!r} to resume from; "
                "add it to the parameters cell or set resume_parameter in the kaggle spec"
            )
        lines.append(f"{spec.resume_parameter} = _tl_latest({resume_slug!r}, {spec.resume_glob!r})")
    return lines


def _inject(nb_path: Path, parameters: dict[str, Any], lines: list[str], bootstrap: str) -> Any:
    import nbformat
    import papermill

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / nb_path.name
        papermill.execute_notebook(
            str(nb_path), str(prepared), parameters=parameters, prepare_only=True,
            kernel_name="python3", progress_bar=False, log_output=False,
        )
        nb = nbformat.read(prepared, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    if not injected:  # papermill injects nothing for empty parameters: add the cell ourselves
        at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        injected = [nbformat.v4.new_code_cell("# Parameters", metadata={"tags": ["injected-parameters"]})]
        nb.cells.insert(at + 1, injected[0])
    if lines:
        note = "\n# resolved at run time under /kaggle/input and /kaggle/working (tradelab kaggle push)\n"
        injected[0].source = injected[0].source.rstrip() + "\n" + note + "\n".join(lines) + "\n"
    cell = nbformat.v4.new_code_cell(bootstrap, metadata={"tags": ["tradelab-bootstrap"]})
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), 0)
    nb.cells.insert(first_code, cell)  # after the markdown header, before any code
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _metadata(
    spec: KaggleSpec, ref: str, code_file: str, dataset_refs: dict[str, str], kernel_sources: tuple[str, ...]
) -> dict[str, Any]:
    """kernel-metadata.json; ``title`` slugifies to the slug and ``enable_internet`` is explicit."""
    metadata = {
        "id": ref,
        "title": ref.split("/", 1)[1].replace("-", " "),
        "code_file": code_file,
        "language": "python",
        "kernel_type": "notebook",
        "is_private": True,
        "enable_gpu": spec.enable_gpu,
        "enable_tpu": False,
        "enable_internet": spec.enable_internet,
        "machine_shape": spec.machine_shape if spec.enable_gpu else None,
        "dataset_sources": sorted(dataset_refs.values()),
        "kernel_sources": list(kernel_sources),
        "competition_sources": [],
        "model_sources": [],
    }
    return {k: v for k, v in metadata.items() if v is not None}


def build_kernel_folder(
    spec: KaggleSpec,
    owner: str,
    parameters: dict[str, Any],
    out_dir: Path,
    *,
    dataset_refs: dict[str, str],
    slug: str | None = None,
    kernel_sources: tuple[str, ...] = (),
    resume_slug: str | None = None,
    root: Path | None = None,
    requirements: list[str] | None = None,
) -> KernelFolder:
    """Write ``out_dir/<slug>.ipynb`` and ``out_dir/kernel-metadata.json``.

    ``dataset_refs`` maps role (code, data, wheels) → ``owner/slug`` of the attached datasets;
    ``resume_slug`` names the attached previous kernel whose newest checkpoint is injected;
    ``requirements`` (default: the spec's) are installed by the bootstrap cell in this order.
    """
    import nbformat

    from tradelab.notebooks.runner import notebook_parameters

    nb_path = spec.notebook_path(root)
    if not nb_path.is_file():
        raise KaggleError(f"workflow notebook not found: {nb_path} (set `notebook` in the kaggle spec)")
    known = set(notebook_parameters(nb_path))
    params = {**spec.parameters, **parameters}
    unknown = sorted(set(params) - known)
    if unknown:
        raise KaggleError(f"{nb_path.name}: unknown parameter(s) {unknown}; the notebook accepts {sorted(known)}")
    slug = slug or spec.kernel_slug
    slugs = {role: ref.split("/", 1)[1] for role, ref in dataset_refs.items()}
    lines = _runtime_lines(spec, known, slugs, resume_slug)
    online = spec.enable_internet or "wheels" in slugs
    reqs = list(spec.requirements if requirements is None else requirements)
    boot = bootstrap_source(slugs["code"], slugs.get("wheels"), reqs if online else [])
    nb = _inject(nb_path, params, lines, boot)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    code_file = f"{slug}.ipynb"
    nbformat.write(nb, out_dir / code_file)
    metadata = _metadata(spec, f"{owner}/{slug}", code_file, dataset_refs, kernel_sources)
    atomic_write_json(out_dir / "kernel-metadata.json", metadata)
    return KernelFolder(out_dir, metadata["id"], metadata, params)
