"""notebooks/00_data.ipynb runs through papermill on one real asset and records its metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradelab.results import RunResult

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "00_data.ipynb"


@pytest.mark.slow
def test_data_notebook_runs_with_papermill(tmp_path):
    import nbformat
    import papermill

    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and len(nb.cells) < 15 and nb.metadata["kernelspec"]["name"] == "python3"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stripped in git
    out = tmp_path / "run"
    out.mkdir()
    papermill.execute_notebook(
        str(NOTEBOOK), str(out / "00_data.ipynb"), kernel_name="python3", cwd=str(tmp_path), progress_bar=False,
        parameters={"assets": ["GOOG"], "out_dir": str(tmp_path / "processed"), "output_dir": str(out), "smoke": True},
    )
    result = RunResult.read(out)
    metrics = result.meta["data"]
    assert (result.workflow, result.strategies, result.asset) == ("data", {}, ["GOOG"])
    assert result.meta["data_hash"] == metrics["content_hash"]
    assert metrics["n_features"] >= 50 and set(metrics["rows"]) == {"GOOG"}
    assert min(metrics["rows"]["GOOG"].values()) >= 150
    assert (tmp_path / "processed" / "processed_data.h5").is_file()
    assert (tmp_path / "processed" / "goog_final.parquet").is_file()
    assert (out / "goog_splits.png").stat().st_size > 5000 and (out / "features.png").is_file()
