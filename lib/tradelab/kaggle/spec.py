"""Per-workflow Kaggle specs: which notebook, accelerator, datasets, parameters and outputs.

A spec lives in ``kaggle/specs/<workflow>.yaml`` (e.g. ``kaggle/specs/02_sac.yaml``); a notebook
without one gets the defaults below. ``path_parameters`` name the notebook parameters that must
point into ``/kaggle/input`` at run time: ``"data:processed_data.h5"`` is the file
``processed_data.h5`` of the data dataset, ``"code:configs/sac.yaml"`` a file of the code
dataset (``storage:`` is the private dataset `tradelab kaggle tune` attaches); they are resolved by glob inside the kernel, so the old (``/kaggle/input/<slug>/``) and
the new (``/kaggle/input/datasets/<owner>/<slug>/``) layouts both work.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradelab.config import ConfigBase, load_yaml
from tradelab.errors import KaggleError
from tradelab.project import resource_dir

__all__ = ["KaggleSpec", "load_spec", "resolve_owner", "slugify", "SPEC_DIR", "PLACEHOLDER_OWNER"]

#: ``kaggle/specs/`` of the checkout, or the copy packaged with a non-editable install.
SPEC_DIR = resource_dir("kaggle_specs")
PATH_ROLES = ("code", "data", "working", "storage")
#: what tradelab needs that Kaggle's Python 3.12 image does not ship, with the dependencies those
#: need beyond the image (farama-notifications for gymnasium), pinned like requirements.txt and
#: listed so that each comes after what it requires (installed with --no-deps in this order)
KAGGLE_MISSING = (
    "farama-notifications==0.0.6", "gymnasium==1.4.0", "stable-baselines3==2.9.2", "ta==0.11.0",
    "hmmlearn==0.3.3", "backtesting==0.6.6", "arch==8.0.0",
)
#: what the kernel takes from Kaggle's image and must never install over (CUDA builds of torch and
#: tensorflow, keras) or need not: the dependencies of KAGGLE_MISSING that the image ships
KAGGLE_IMAGE = (
    "torch", "tensorflow", "keras", "numpy", "pandas", "scipy", "scikit-learn", "statsmodels", "bokeh",
    "cloudpickle", "typing-extensions", "packaging", "matplotlib", "h5py", "pyarrow", "pyyaml", "optuna",
    "papermill", "kaggle", "tensorboard",
)
#: never shipped in the wheels dataset nor pip-installed in a kernel
NEVER_INSTALL = ("torch", "tensorflow", "tensorflow-cpu", "keras", "nvidia-*", "tensorboard")
#: owner written into folders built by a dry run when no Kaggle credentials are configured
PLACEHOLDER_OWNER = "your-kaggle-username"


def slugify(text: str) -> str:
    """Kaggle's slug of a title: lower case, runs of other characters become one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class KaggleSpec(ConfigBase):
    """What `tradelab kaggle push WORKFLOW` sends and what `pull` expects back."""

    workflow: str = ""
    """notebook stem, e.g. ``02_sac``"""
    notebook: str = ""
    """notebook path; empty → ``notebooks/<workflow>.ipynb``"""
    slug: str = ""
    """kernel slug (>= 5 chars); empty → ``tradelab-<workflow>`` with ``_`` → ``-``"""
    enable_gpu: bool = True
    """ask for a GPU session"""
    machine_shape: str = "NvidiaTeslaT4"
    """accelerator; ``NvidiaTeslaT4`` is T4×2 (the P100 image lacks sm_60 kernels for PyTorch)"""
    enable_internet: bool = True
    """internet in the kernel; off needs the wheels dataset for what Kaggle's image lacks"""
    code_dataset: str = "tradelab-code"
    """dataset slug holding the tradelab source tree (lib/tradelab + configs)"""
    data_dataset: str = "tradelab-data"
    """dataset slug holding the processed data; empty → no data dataset"""
    data_dir: str = "data/processed"
    """local folder the data files are taken from (relative to the working directory)"""
    data_files: list[str] = field(default_factory=lambda: ["processed_data.h5", "*_final.parquet", "feature_spec.json"])
    """glob patterns (in ``data_dir``) of the files the data dataset carries"""
    wheels: bool = False
    """attach a wheels dataset (built with ``pip download``) and install from it offline"""
    wheels_dataset: str = "tradelab-wheels"
    """dataset slug of the offline wheels"""
    requirements: list[str] = field(default_factory=lambda: list(KAGGLE_MISSING))
    """what Kaggle's image lacks, dependencies included, in install order: pip-installed with
    ``--no-deps`` by the bootstrap cell (from PyPI with internet, else from the wheels dataset,
    built with ``pip download`` for Kaggle's cp312 manylinux x86_64)"""
    parameters: dict[str, Any] = field(default_factory=dict)
    """notebook parameters injected by default (``-p key value`` overrides them)"""
    path_parameters: dict[str, str] = field(default_factory=dict)
    """parameter → ``role:relative/path`` (role: code, data, working) resolved in the kernel"""
    expected_outputs: list[str] = field(default_factory=lambda: ["metrics.json"])
    """glob patterns that must be among the pulled outputs"""
    resume_parameter: str = "resume_from"
    """notebook parameter that receives the previous run's checkpoint on `kaggle resume`"""
    resume_glob: str = "**/*.pt"
    """pattern (in the previous run's outputs) of the checkpoint to resume from; newest wins"""
    timeout_s: float = 43_200.0
    """give up waiting after this many seconds (Kaggle ends sessions at 12 h)"""
    poll_s: float = 30.0
    """first status poll interval; grows ×1.5 per poll"""
    max_poll_s: float = 300.0
    """longest interval between status polls"""
    settle_s: float = 180.0
    """after a push, `kernels status` may still describe the previous session: a finished state
    counts once the new session was seen QUEUED/RUNNING, or this many seconds after the push"""

    def validate(self) -> None:
        """Check slugs and path parameters; every problem names the field and the fix."""
        if not self.workflow:
            raise KaggleError("kaggle spec: `workflow` is empty; set it to the notebook stem, e.g. 02_sac")
        if len(self.kernel_slug) < 5 or slugify(self.kernel_slug) != self.kernel_slug:
            raise KaggleError(
                f"kaggle spec {self.workflow}: slug {self.kernel_slug!r} must be >= 5 chars of a-z, 0-9 and '-'"
            )
        for name in (self.code_dataset, self.data_dataset, self.wheels_dataset):
            if name and not (6 <= len(name) <= 50 and slugify(name) == name):
                raise KaggleError(
                    f"kaggle spec {self.workflow}: dataset slug {name!r} must be 6-50 chars of a-z, 0-9 and '-'"
                )
        for key, target in self.path_parameters.items():
            role = target.split(":", 1)[0]
            if role not in PATH_ROLES or (role != "working" and ":" not in target):
                raise KaggleError(
                    f"kaggle spec {self.workflow}: path_parameters.{key} = {target!r}; "
                    f"use 'ROLE:relative/path' with ROLE one of {PATH_ROLES} (or just 'working')"
                )
        never = [r for r in self.requirements if _never_install(r)]
        if never:
            raise KaggleError(
                f"kaggle spec {self.workflow}: requirements {never} come with Kaggle's image (CUDA builds); "
                "remove them: the kernel must not install over the image's torch/tensorflow/keras"
            )
        if self.wheels and self.enable_internet:
            raise KaggleError(
                f"kaggle spec {self.workflow}: wheels: true is for offline kernels; set enable_internet: false"
            )
        if self.poll_s <= 0 or self.max_poll_s < self.poll_s or self.timeout_s <= 0:
            raise KaggleError(f"kaggle spec {self.workflow}: need 0 < poll_s <= max_poll_s and timeout_s > 0")

    @property
    def kernel_slug(self) -> str:
        """The kernel's slug (``slug`` or derived from the workflow)."""
        return self.slug or slugify(f"tradelab-{self.workflow}")

    def notebook_path(self, root: Path | None = None) -> Path:
        """The workflow notebook on disk."""
        if self.notebook:
            path = Path(self.notebook)
            return path if path.is_absolute() or root is None else root / path
        return (root / "notebooks" if root else resource_dir("notebooks")) / f"{self.workflow}.ipynb"


def _never_install(requirement: str) -> bool:
    import fnmatch

    name = re.split(r"[\s=<>!~\[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")
    return any(fnmatch.fnmatch(name, pat) for pat in NEVER_INSTALL)


def load_spec(workflow: str, spec_dir: str | Path | None = None, **overrides: Any) -> KaggleSpec:
    """``kaggle/specs/<workflow>.yaml`` (or a YAML path) as a :class:`KaggleSpec`; defaults when absent."""
    candidate = Path(workflow)
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_file():
            raise KaggleError(f"kaggle spec file not found: {candidate}")
        data = load_yaml(candidate)
    else:
        path = Path(spec_dir or SPEC_DIR) / f"{workflow}.yaml"
        data = load_yaml(path) if path.is_file() else {"workflow": workflow}
    data.setdefault("workflow", candidate.stem if candidate.suffix else workflow)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return KaggleSpec.from_dict(data, f"kaggle spec {workflow}")


def resolve_owner(owner: str | None = None, *, ask_cli: bool = True) -> str:
    """The Kaggle user name: ``owner``, ``KAGGLE_USERNAME``, the ``username`` of kaggle.json, or
    (API tokens: ``KAGGLE_API_TOKEN``, ``~/.kaggle/access_token``) the name the ``kaggle`` CLI
    learns by token introspection (``kaggle config view``).

    Only the user name is read here; the key or token stays with the ``kaggle`` CLI.
    """
    if owner:
        return owner
    if os.environ.get("KAGGLE_USERNAME"):
        return os.environ["KAGGLE_USERNAME"]
    dirs = [os.environ.get("KAGGLE_CONFIG_DIR"), "~/.kaggle", "~/.config/kaggle"]
    for folder in filter(None, dirs):
        path = Path(folder).expanduser() / "kaggle.json"
        if path.is_file():
            try:
                name = json.loads(path.read_text(encoding="utf-8")).get("username")
            except (json.JSONDecodeError, OSError):
                name = None
            if name:
                return str(name)
    name = _cli_username() if ask_cli else None
    if name:
        return name
    raise KaggleError(
        "Kaggle user name unknown: pass --owner NAME, set KAGGLE_USERNAME, log in with an API token "
        "(KAGGLE_API_TOKEN or ~/.kaggle/access_token, from kaggle.com → Settings → API), or put "
        "kaggle.json in ~/.kaggle/ or $KAGGLE_CONFIG_DIR"
    )


def _cli_username() -> str | None:
    """``kaggle config view``'s user name (token introspection); None without credentials."""
    from tradelab.kaggle.cli_driver import KaggleCLI

    try:
        return KaggleCLI(timeout_s=120.0).username()
    except KaggleError:
        return None
