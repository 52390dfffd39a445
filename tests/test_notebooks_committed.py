"""The committed notebooks: all seven present, outputs stripped, one parameters cell, small."""

from __future__ import annotations

import pytest

from tradelab.notebooks import check
from tradelab.notebooks.build import build_all
from tradelab.notebooks.runner import NOTEBOOK_DIR, list_notebooks, notebook_parameters

EXPECTED = ["00_data", "01_supervised", "02_sac", "03_ppo", "04_curriculum", "05_inference", "06_tune_worker"]


def test_all_seven_notebooks_are_there():
    assert [p.stem for p in list_notebooks()] == EXPECTED


@pytest.mark.parametrize("path", list_notebooks(), ids=lambda p: p.stem)
def test_committed_notebook_passes_the_lint_check(path):
    assert check.check_notebook(path) == []
    params = notebook_parameters(path)
    assert {"output_dir", "smoke"} <= set(params)


def test_committed_notebooks_match_their_sources(tmp_path):
    built = build_all(tmp_path)
    assert sorted(p.name for p in built) == sorted(f"{n}.ipynb" for n in EXPECTED)
    for path in built:
        assert path.read_text() == (NOTEBOOK_DIR / path.name).read_text(), f"rebuild: python -m tradelab.notebooks.build ({path.name})"

