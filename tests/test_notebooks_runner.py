"""papermill runner and `tradelab run`, on tiny notebooks in tests/data (the check: test_notebooks_check.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from tradelab.cli import main as cli_main
from tradelab.errors import NotebookError
from tradelab.notebooks.runner import notebook_parameters, resolve_notebook, run

DATA = Path(__file__).resolve().parent / "data" / "notebooks"
METRICS_NB = DATA / "t1_metrics.ipynb"
RAISES_NB = DATA / "t2_raises.ipynb"


def test_run_injects_parameters_and_returns_metrics(tmp_path):
    result = run(METRICS_NB, {"scale": 0.5, "label": "x"}, tmp_path / "out", progress_bar=False)
    assert result.executed == (tmp_path / "out" / "t1_metrics.ipynb").resolve()
    assert result.executed.is_file()
    assert result.metrics == {"value": 10.5, "label": "x", "smoke": False}
    written = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert written["value"] == 10.5
    executed = nbformat.read(result.executed, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "scale = 0.5" in injected[0].source


def test_unknown_parameter_is_an_error_naming_valid_ones(tmp_path):
    with pytest.raises(NotebookError) as info:
        run(METRICS_NB, {"scael": 2}, tmp_path, progress_bar=False)
    msg = str(info.value)
    assert "scael" in msg and "scale" in msg and "t1_metrics" in msg
    assert not (tmp_path / "t1_metrics.ipynb").exists()


def test_failing_cell_names_cell_exception_and_executed_path(tmp_path):
    with pytest.raises(NotebookError) as info:
        run(RAISES_NB, {"bad_value": -3}, tmp_path, progress_bar=False)
    msg = str(info.value)
    executed = (tmp_path / "t2_raises.ipynb").resolve()
    assert "cell 5" in msg and "ValueError" in msg and "got -3" in msg
    assert str(executed) in msg and executed.is_file()
    # the same notebook with a good value runs
    assert run(RAISES_NB, {"bad_value": 1}, tmp_path, progress_bar=False).executed == executed


def test_notebook_parameters_and_resolution(tmp_path):
    params = notebook_parameters(METRICS_NB)
    assert params["scale"]["default"] == "2.0" and params["label"]["default"] == '"demo"'
    assert resolve_notebook("t1_metrics", DATA) == METRICS_NB
    assert resolve_notebook("t2", DATA) == RAISES_NB
    with pytest.raises(NotebookError, match="available: t1_metrics, t2_raises, t3_plot"):
        resolve_notebook("99_missing", DATA)


def test_cli_run_parameters_file_and_error_path(tmp_path, capsys):
    params = tmp_path / "p.yaml"
    params.write_text("scale: 1.0\nlabel: from-file\n")
    out = tmp_path / "cli"
    rc = cli_main(["run", str(METRICS_NB), "-f", str(params), "-p", "scale", "4", "--output-dir", str(out), "--quiet"])
    assert rc == 0
    assert json.loads((out / "metrics.json").read_text()) == {"value": 84, "label": "from-file", "smoke": False}
    rc = cli_main(["run", str(RAISES_NB), "--output-dir", str(tmp_path / "bad"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "error: notebook t2_raises failed at cell 5" in err and "ValueError" in err
    rc = cli_main(["run", str(METRICS_NB), "-p", "nope", "1", "--output-dir", str(out), "--quiet"])
    assert rc == 2 and "unknown parameter(s) ['nope']" in capsys.readouterr().err


def test_inline_plots_even_when_the_caller_is_headless(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # what `make` exports
    result = run(DATA / "t3_plot.ipynb", {}, tmp_path, progress_bar=False)
    outputs = [o for c in nbformat.read(result.executed, as_version=4).cells if c.cell_type == "code"
               for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert os.environ["MPLBACKEND"] == "Agg"  # restored for the caller
