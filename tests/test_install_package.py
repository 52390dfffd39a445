"""A non-editable `pip install .` runs the workflows from an empty folder, with no repository around.

The package is built from a copy of the source tree and installed, without downloading anything,
into a fresh venv that sees this venv's dependencies through a ``.pth`` line (a plain path line:
the editable install of tradelab in this venv is not processed, so ``import tradelab`` there must
find the installed copy). Then ``tradelab data build``, ``tradelab train sac`` and ``tradelab run
00_data`` run in an empty folder: configs, notebooks and the kernel come from the installed package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: top-level folders of the repository that the build does not need
SKIP = {".git", ".venv", "data", "outputs", "tests", "benchmarks", "build", ".ruff_cache", ".pytest_cache"}
PACKAGED = {"configs": "configs/*.yaml", "notebooks": "notebooks/*.ipynb", "kaggle_specs": "kaggle/specs/*.yaml"}


def _source_copy(dest: Path) -> Path:
    """The repository's source tree without data, outputs, caches or build droppings."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        top = SKIP if Path(folder) == REPO else set()
        return {n for n in names if n in top or n == "__pycache__" or n.endswith(".egg-info")}

    shutil.copytree(REPO, dest, ignore=ignore)
    return dest


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without the PYTHONPATH that points the tests at the checkout's lib/."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    return env | {"OMP_NUM_THREADS": "1", "TRADELAB_THREADS": "1", "MPLBACKEND": "Agg"} | extra


def _run(cmd: list[str], cwd: Path, timeout: float = 240) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _pip(*args: str) -> list[str]:
    return [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args,
            "--no-deps", "--no-build-isolation", "--no-index"]


def _fresh_venv(path: Path) -> Path:
    """A venv without pip whose only extra path is this venv's site-packages (the dependencies)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, env=_clean_env())
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, env=_clean_env()).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_tradelab_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return python


def test_the_wheel_carries_configs_notebooks_and_kernel_specs(tmp_path):
    src = _source_copy(tmp_path / "src")
    _run(_pip("wheel", str(src), "-w", str(tmp_path / "wheels")), cwd=tmp_path)
    wheel = next((tmp_path / "wheels").glob("tradelab-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for kind, pattern in PACKAGED.items():
        expected = {f"tradelab/resources/{kind}/{p.name}" for p in REPO.glob(pattern)}
        assert expected and expected <= names, f"{kind}: missing {sorted(expected - names)}"


@pytest.mark.slow
def test_non_editable_install_runs_data_train_and_notebook_from_an_empty_folder(tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    src = _source_copy(tmp_path / "src")
    _run(_pip("--python", str(python), "install", str(src)), cwd=tmp_path)
    shutil.rmtree(src)  # nothing may point back at the source tree
    venv = (tmp_path / "venv").resolve()

    where = _run([str(python), "-c", "import tradelab, tradelab.config as c, tradelab.notebooks.runner as r, "
                  "tradelab.kaggle.spec as k; print(tradelab.__file__, c.CONFIG_DIR, r.NOTEBOOK_DIR, k.SPEC_DIR)"],
                 cwd=tmp_path)
    paths = [Path(p) for p in where.split()]
    assert all(p.resolve().is_relative_to(venv) and p.exists() for p in paths), where  # not the checkout's

    work = tmp_path / "empty"
    work.mkdir()
    tradelab = str(venv / "bin" / "tradelab")
    _run([tradelab, "data", "build", "--assets", "EURUSD"], cwd=work)
    assert (work / "data" / "processed" / "processed_data.h5").is_file()
    _run([tradelab, "train", "sac", "--num-episodes", "1", "--episode-length", "48", "--warmup-steps", "32",
          "--eval-frequency", "1", "--checkpoint-frequency", "1", "--device", "cpu", "--no-progress"], cwd=work)
    assert (work / "outputs" / "sac" / "agent_1_best.pt").is_file()
    out = _run([tradelab, "run", "00_data", "--quiet", "-p", "assets", "[EURUSD]", "-p", "smoke", "true",
                "-p", "out_dir", "data/nb"], cwd=work)
    assert "executed" in out and (work / "outputs" / "00_data" / "metrics.json").is_file()
    assert (work / "data" / "nb" / "processed_data.h5").is_file()  # the kernel ran in the caller's folder
    assert not {"configs", "notebooks", "kaggle"} & {p.name for p in work.iterdir()}
