"""Wheels for offline kernels, built for Kaggle's image: CPython 3.12 on manylinux x86_64.

``pip download --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.12
--implementation cp --no-deps`` fetches each pinned requirement; a package published only as an
sdist (``ta``) is built locally with ``pip wheel --no-deps`` and accepted only when the result is
pure Python (``py3-none-any``). Wheels are kept in a cache folder, so a second build is offline.
:func:`check_wheels` proves the set installs on Kaggle with ``--no-index --no-deps``: every tag is
supported by cp312 manylinux x86_64, nothing replaces the image's torch/tensorflow/keras, and
every dependency is either in the set or in Kaggle's image (``spec.KAGGLE_IMAGE``).
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tempfile
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from tradelab.errors import KaggleError
from tradelab.kaggle.spec import KAGGLE_IMAGE, NEVER_INSTALL

__all__ = ["KAGGLE_PYTHON", "PIP_PLATFORM", "check_wheels", "download_wheels", "kaggle_tags"]

KAGGLE_PYTHON = (3, 12)
PIP_PLATFORM = "manylinux2014_x86_64"
#: glibc of Kaggle's image (Ubuntu 22.04) is 2.35: manylinux_2_5 … 2_35 wheels install there
_PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(35, 4, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64",
]
_MARKERS = {"python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux",
            "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "os_name": "posix", "extra": ""}


def kaggle_tags() -> set[Tag]:
    """Every wheel tag pip accepts on CPython 3.12, manylinux x86_64."""
    tags = set(cpython_tags(KAGGLE_PYTHON, abis=["cp312", "abi3", "none"], platforms=_PLATFORMS))
    return tags | set(compatible_tags(KAGGLE_PYTHON, "cp312", _PLATFORMS))


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)


def _cached(req: Requirement, cache: Path) -> Path | None:
    for path in sorted(cache.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(path.name)
        if name == canonicalize_name(req.name) and req.specifier.contains(version, prereleases=True):
            return path
    return None


def _fetch(requirement: str, cache: Path) -> Path:
    """One pinned requirement as a wheel in ``cache`` (downloaded for cp312, or built if pure)."""
    req = Requirement(requirement)
    hit = _cached(req, cache)
    if hit:
        return hit
    proc = _pip("download", "--quiet", "--only-binary=:all:", "--platform", PIP_PLATFORM, "--python-version",
                "3.12", "--implementation", "cp", "--no-deps", "-d", str(cache), requirement)
    if proc.returncode != 0:  # no wheel published: build one from the sdist, pure Python only
        with tempfile.TemporaryDirectory() as tmp:
            built = _pip("wheel", "--quiet", "--no-deps", "--no-binary", req.name, "-w", tmp, requirement)
            wheels = list(Path(tmp).glob("*.whl"))
            if built.returncode != 0 or not wheels:
                raise KaggleError(
                    f"no cp312 manylinux wheel of {requirement!r} and building one failed (needs the package "
                    f"index): {(proc.stderr + built.stderr).strip()[-400:]}"
                )
            shutil.copy2(wheels[0], cache / wheels[0].name)
    hit = _cached(req, cache)
    if hit is None:
        raise KaggleError(f"pip fetched nothing matching {requirement!r} into {cache}")
    return hit


def download_wheels(requirements: list[str], dest: Path, cache: Path) -> list[Path]:
    """Wheels of ``requirements`` (pinned, no dependencies resolved) copied into ``dest``."""
    cache.mkdir(parents=True, exist_ok=True)
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for requirement in requirements:
        wheel = _fetch(requirement, cache)
        shutil.copy2(wheel, dest / wheel.name)
        out.append(dest / wheel.name)
    return out


def _requires(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(zf.read(name).decode("utf-8"))
    reqs = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    return [r for r in reqs if r.marker is None or r.marker.evaluate(_MARKERS)]


def _forbidden(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pat) for pat in NEVER_INSTALL)


def check_wheels(folder: Path, requirements: list[str]) -> list[str]:
    """Check the wheels in ``folder`` install on Kaggle offline with ``--no-deps``; return the
    requirements in install order (each after the wheels it requires)."""
    supported = kaggle_tags()
    wheels: dict[str, Path] = {}
    for path in sorted(folder.glob("*.whl")):
        name, _, _, tags = parse_wheel_filename(path.name)
        if not tags & supported:
            raise KaggleError(
                f"{path.name} is built for {sorted(map(str, tags))}, which Kaggle's CPython 3.12 manylinux x86_64 "
                "cannot install: rebuild the wheels dataset (tradelab downloads cp312 wheels)"
            )
        if _forbidden(name):
            raise KaggleError(f"{path.name}: {name} comes with Kaggle's image (CUDA build); drop it from requirements")
        wheels[name] = path
    graph: dict[str, list[str]] = {}
    for requirement in requirements:
        name = canonicalize_name(Requirement(requirement).name)
        if name not in wheels:
            raise KaggleError(f"no wheel of {requirement!r} in {folder}; rebuild the wheels dataset")
        graph[name] = []
        for dep in _requires(wheels[name]):
            dep_name = canonicalize_name(dep.name)
            if dep_name in wheels:
                graph[name].append(dep_name)
            elif dep_name not in {canonicalize_name(n) for n in KAGGLE_IMAGE}:
                raise KaggleError(
                    f"{wheels[name].name} requires {dep}, which is neither in the wheels dataset nor in Kaggle's "
                    f"image: add a pinned {dep.name} to the spec's requirements (before {name})"
                )
    by_name = {canonicalize_name(Requirement(r).name): r for r in requirements}
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise KaggleError(f"circular requirements among the wheels: {' -> '.join((*path, name))}")
        for dep in graph.get(name, []):
            visit(dep, (*path, name))
        if name in by_name:
            ordered.append(name)

    for name in by_name:
        visit(name, ())
    return [by_name[n] for n in ordered]
