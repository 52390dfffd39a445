"""The notebook check has teeth, names the fix, and `--fix` normalises without touching sources."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tradelab.notebooks import check
from tradelab.notebooks.runner import run

DATA = Path(__file__).resolve().parent / "data" / "notebooks"
FIX = "python -m tradelab.notebooks.check --fix"


def _clean(path: Path, parameters: str = 'output_dir = "o"\nsmoke = False') -> Path:
    nb = new_notebook(cells=[
        new_markdown_cell("# Header"),
        new_code_cell(parameters, metadata={"tags": ["parameters"]}),
        new_code_cell("import json\n\nx = json.dumps({'a': 1})"),
        new_code_cell("x"),
    ])
    nb.metadata["kernelspec"] = dict(check.KERNELSPEC)
    nb.metadata["language_info"] = dict(check.LANGUAGE_INFO)
    nbformat.write(nb, path)
    return path


def _edit(path: Path, change) -> Path:
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)
    return path


def _outputs(nb):
    nb.cells[2].outputs = [new_output("stream", text="hi")]
    nb.cells[3].outputs = [new_output("execute_result", data={"text/plain": "'{\"a\": 1}'"}, execution_count=2)]
    nb.cells[2].execution_count, nb.cells[3].execution_count = 1, 2
    nb.cells[3].metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}


def _kernel(nb):  # what a Lab without the tradelab kernel writes
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _second_parameters_cell(nb):
    nb.cells[2].metadata["tags"] = ["parameters"]


def _too_many_cells(nb):
    nb.cells.extend(new_code_cell(f"y{i} = {i}") for i in range(check.MAX_CELLS))


FIXABLE = [(_outputs, "outputs in cells 3, 4"), (_outputs, "execution counts in cells 3, 4"),
           (_outputs, "run-state metadata"), (_kernel, "Python 3 (ipykernel)")]
MANUAL = [(_second_parameters_cell, "exactly one cell tagged 'parameters', found 2"),
          (_too_many_cells, f"at most {check.MAX_CELLS}")]


def test_a_clean_notebook_and_the_test_notebooks_pass(tmp_path):
    assert check.check_notebook(_clean(tmp_path / "ok.ipynb")) == []
    assert check.main([str(DATA)]) == 0


@pytest.mark.parametrize(("change", "needle"), FIXABLE, ids=lambda v: getattr(v, "__name__", v))
def test_fixable_problems_fail_naming_the_fix_and_fix_repairs_them(tmp_path, change, needle, capsys):
    path = _edit(_clean(tmp_path / "nb.ipynb"), change)
    before = nbformat.read(path, as_version=4)
    problems = check.check_notebook(path)
    hit = [p for p in problems if needle in p]
    assert hit and all(f"{FIX} {path}" in p for p in hit), problems
    assert check.main([str(tmp_path)]) == 1 and needle in capsys.readouterr().out
    assert check.main(["--fix", str(tmp_path)]) == 0
    after = nbformat.read(path, as_version=4)
    assert [(c.id, c.cell_type, c.source, c.metadata.get("tags")) for c in after.cells] == \
           [(c.id, c.cell_type, c.source, c.metadata.get("tags")) for c in before.cells]
    assert after.metadata["kernelspec"] == check.KERNELSPEC and check.check_notebook(path) == []
    assert check.fix_notebook(path) is False  # idempotent: a clean file is not rewritten


@pytest.mark.parametrize(("change", "needle"), MANUAL, ids=lambda v: getattr(v, "__name__", v))
def test_what_only_a_person_can_fix_still_fails_after_fix(tmp_path, change, needle, capsys):
    path = _edit(_clean(tmp_path / "nb.ipynb"), change)
    assert any(needle in p for p in check.check_notebook(path))
    assert check.main(["--fix", str(path)]) == 1
    out = capsys.readouterr().out
    assert needle in out and "notebooks.build" not in out


def test_parameters_cell_hint_says_what_to_do_in_jupyterlab(tmp_path):
    untagged = _edit(_clean(tmp_path / "a.ipynb"), lambda nb: nb.cells[1].metadata.update(tags=[]))
    assert any("found 0" in p and "Cell Tags" in p for p in check.check_notebook(untagged))
    missing = _clean(tmp_path / "b.ipynb", parameters="seed = 0")
    assert any("['output_dir', 'smoke']" in p for p in check.check_notebook(missing))
    code_first = _edit(_clean(tmp_path / "c.ipynb"), lambda nb: nb.cells.pop(0))
    assert any("markdown header" in p for p in check.check_notebook(code_first))
    broken = tmp_path / "d.ipynb"
    broken.write_text("{not json")
    assert any("cannot be read" in p for p in check.check_notebook(broken))


def test_opening_in_jupyterlab_does_not_break_the_check(tmp_path):
    """Lab saves the running kernel's language_info on open; accepted, and `--fix` trims it back."""
    lab = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
           "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
           "pygments_lexer": "ipython3", "version": "3.11.9"}
    path = _edit(_clean(tmp_path / "nb.ipynb"), lambda nb: nb.metadata.update(language_info=lab))
    assert check.check_notebook(path) == []
    assert check.fix_notebook(path) is True
    assert nbformat.read(path, as_version=4).metadata["language_info"] == check.LANGUAGE_INFO
    other = _edit(path, lambda nb: nb.metadata.update(language_info={"name": "R"}))
    assert any("language_info" in p for p in check.check_notebook(other))


@pytest.mark.slow
def test_a_papermill_executed_copy_fails_until_fixed(tmp_path):
    """A real executed notebook committed back by mistake: --fix strips it; the injected cell needs a person."""
    result = run(DATA / "t1_metrics.ipynb", {"scale": 0.5}, tmp_path / "run", progress_bar=False)
    path = tmp_path / "t1_metrics.ipynb"
    shutil.copy(result.executed, path)
    problems = " | ".join(check.check_notebook(path))
    assert "outputs in cell" in problems and "execution counts in cell" in problems and "papermill" in problems
    assert "injected-parameters" in problems  # needs a person: --fix never deletes a cell
    sources = [c.source for c in nbformat.read(path, as_version=4).cells]
    assert check.main(["--fix", str(path)]) == 1
    fixed = nbformat.read(path, as_version=4)
    assert [c.source for c in fixed.cells] == sources
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in fixed.cells if c.cell_type == "code")
    assert "papermill" not in fixed.metadata
    remaining = check.check_notebook(path)
    assert len(remaining) == 1 and "injected-parameters" in remaining[0] and "delete it" in remaining[0]
    _edit(path, lambda nb: nb.cells.remove(next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))))
    assert check.check_notebook(path) == []
