"""The first cell of every pushed kernel: find inputs, make ``tradelab`` importable, offline wheels.

The cell is plain Python (it runs before tradelab can be imported). It honours
``TRADELAB_KAGGLE_ROOT`` (default ``/kaggle``) so the loopback emulator can run the same
notebook in a sandbox. Inputs are found by glob in both layouts Kaggle uses:
``/kaggle/input/<slug>/`` and ``/kaggle/input/<kind>/<owner>/<slug>/``.
"""

from __future__ import annotations

__all__ = ["bootstrap_source", "resolve_line"]

_TEMPLATE = '''# tradelab bootstrap (written by `tradelab kaggle push`; edit the workflow notebook, not this cell)
import glob, os, re, shutil, subprocess, sys, tempfile, zipfile

_TL_ROOT = os.environ.get("TRADELAB_KAGGLE_ROOT", "/kaggle")


def _tl_source(slug):
    """Folder of an attached dataset or kernel output, old or new /kaggle/input layout."""
    for pattern in (f"{_TL_ROOT}/input/{slug}", f"{_TL_ROOT}/input/*/*/{slug}", f"{_TL_ROOT}/input/*/{slug}"):
        hits = sorted(p for p in glob.glob(pattern) if os.path.isdir(p))
        if hits:
            return hits[0]
    raise FileNotFoundError(f"{slug!r} is not attached under {_TL_ROOT}/input (check kernel-metadata.json sources)")


def _tl_input(slug, rel):
    """A file or folder of an attached input, found at any depth."""
    hits = sorted(glob.glob(os.path.join(_tl_source(slug), "**", rel), recursive=True), key=len)
    if not hits:
        raise FileNotFoundError(f"{rel!r} not found in input {slug!r}")
    return hits[0]


def _tl_latest(slug, pattern):
    """Last file matching pattern in a previous run's outputs, in natural order (ep9 < ep10):
    the checkpoint to resume from. (Copied inputs' mtimes say nothing about training order.)"""
    hits = [p for p in glob.glob(os.path.join(_tl_source(slug), pattern), recursive=True) if os.path.isfile(p)]
    if not hits:
        raise FileNotFoundError(f"no {pattern!r} in the outputs of {slug!r}: nothing to resume from")
    return max(hits, key=lambda p: [int(t) if t.isdigit() else t for t in re.split(r"(\\d+)", p)])


def _tl_working():
    path = os.path.join(_TL_ROOT, "working")
    os.makedirs(path, exist_ok=True)
    return path


def _tl_code(slug):
    """Copy lib/tradelab and configs of the code dataset to a writable folder; return its lib/."""
    src = _tl_source(slug)
    if not glob.glob(os.path.join(src, "**", "tradelab", "__init__.py"), recursive=True):
        unzipped = os.path.join(tempfile.gettempdir(), "tradelab_unzipped")
        for archive in glob.glob(os.path.join(src, "**", "*.zip"), recursive=True):
            stem = os.path.splitext(os.path.basename(archive))[0]
            zipfile.ZipFile(archive).extractall(os.path.join(unzipped, stem))
        src = unzipped
    package = os.path.dirname(sorted(glob.glob(os.path.join(src, "**", "tradelab", "__init__.py"), recursive=True), key=len)[0])
    target = os.path.join(tempfile.gettempdir(), "tradelab_code")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(package, os.path.join(target, "lib", "tradelab"))
    configs = sorted(glob.glob(os.path.join(src, "**", "configs"), recursive=True), key=len)
    if configs:
        shutil.copytree(configs[0], os.path.join(target, "configs"))
    return os.path.join(target, "lib")


WHEELS_SLUG, REQUIREMENTS = @WHEELS@, @REQUIREMENTS@
if REQUIREMENTS:  # only what the image lacks, in dependency order: --no-deps keeps its torch/tensorflow/keras
    _where = ["--no-index", "--find-links", _tl_source(WHEELS_SLUG)] if WHEELS_SLUG else []
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *_where, *REQUIREMENTS])
sys.path.insert(0, _tl_code(@CODE@))
import tradelab

print("tradelab", tradelab.__version__, "from", tradelab.__file__)
'''


def bootstrap_source(code_slug: str, wheels_slug: str | None = None, requirements: list[str] | None = None) -> str:
    """Source of the bootstrap cell; ``requirements`` are pip-installed (offline from ``wheels_slug``)."""
    return (
        _TEMPLATE.replace("@WHEELS@", repr(wheels_slug or ""))
        .replace("@REQUIREMENTS@", repr(list(requirements or [])))
        .replace("@CODE@", repr(code_slug))
    )


def resolve_line(name: str, target: str, slugs: dict[str, str]) -> str:
    """``name = <run-time lookup>`` for a path parameter ``role:relative/path``."""
    role, _, rel = target.partition(":")
    if role == "working":
        return f"{name} = _tl_working()" if not rel else f"{name} = os.path.join(_tl_working(), {rel!r})"
    if not rel:  # the dataset's folder itself
        return f"{name} = _tl_source({slugs[role]!r})"
    return f"{name} = _tl_input({slugs[role]!r}, {rel!r})"
