"""The committed notebooks are the source: all seven present, clean, linted, on the `make setup` kernel."""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tradelab.notebooks import check
from tradelab.notebooks.runner import NOTEBOOK_DIR, list_notebooks, notebook_parameters, run

REPO = Path(__file__).resolve().parents[1]
EXPECTED = ["00_data", "01_supervised", "02_sac", "03_ppo", "04_curriculum", "05_inference", "06_tune_worker"]


def test_all_seven_notebooks_are_there():
    assert [p.stem for p in list_notebooks()] == EXPECTED


@pytest.mark.parametrize("path", list_notebooks(), ids=lambda p: p.stem)
def test_committed_notebook_passes_the_check(path):
    assert check.check_notebook(path) == []
    params = notebook_parameters(path)
    assert {"output_dir", "smoke"} <= set(params)


def test_check_kernelspec_is_the_kernel_make_setup_installs_and_papermill_runs():
    line = next(ln for ln in (REPO / "Makefile").read_text().splitlines() if "ipykernel install" in ln)
    name = re.search(r"--name\s+(\S+)", line).group(1)
    display = re.search(r'--display-name\s+"([^"]+)"', line).group(1)
    assert check.KERNELSPEC == {"name": name, "display_name": display, "language": "python"}
    assert inspect.signature(run).parameters["kernel_name"].default == name


def test_ruff_lints_the_notebooks_as_sources():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).is_file():
        pytest.skip("ruff is not installed (make setup installs it)")
    shown = subprocess.run([ruff, "check", "--show-files", "notebooks"], cwd=REPO, capture_output=True, text=True)
    linted = {Path(line.strip()).stem for line in shown.stdout.splitlines() if line.strip().endswith(".ipynb")}
    assert linted == set(EXPECTED), shown.stdout + shown.stderr
    result = subprocess.run([ruff, "check", "notebooks"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_notebook_generator_is_left_to_overwrite_an_edit():
    package = NOTEBOOK_DIR.parent / "lib" / "tradelab" / "notebooks"
    assert not list(package.glob("build*.py")) and not (package / "authoring.py").exists()


@pytest.mark.parametrize("path", list_notebooks(), ids=lambda p: p.stem)
def test_the_first_code_cell_is_the_kernel_setup_and_nothing_else_chdirs(path):
    """The notebook bootstrap is the entry point's one place for process-wide settings, before any import of SB3."""
    import nbformat

    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert code[0].rstrip().endswith("setup_kernel()") and "from tradelab.notebooks import setup_kernel" in code[0]
    assert all(word not in src for src in code for word in ("os.chdir", "use_repo_root", "matplotlib.use"))
