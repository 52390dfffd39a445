"""notebooks/01_supervised.ipynb runs under papermill with a smoke budget and records its metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradelab.results import RunResult

pytest.importorskip("papermill")
pytestmark = pytest.mark.slow


def test_supervised_notebook_smoke_run(tmp_path: Path) -> None:
    from tradelab.notebooks import run

    result = run("01_supervised", {"smoke": True, "data_dir": str(tmp_path / "processed"), "seed": 3},
                 tmp_path / "nb", progress_bar=False)
    out = tmp_path / "nb"
    assert (tmp_path / "processed" / "goog_final.parquet").is_file()  # built because it was missing
    saved = result.result
    assert saved == RunResult.read(out) and saved.workflow == "supervised" and "test" in saved.meta["heads"]
    assert saved.meta["supervised"]["epochs_run"] == 1 and saved.asset == "goog"
    assert {"morningstar", "buy_and_hold", "flat"} <= set(saved.strategies)
    for name in ("model.keras", "scalers.json", "history.json", "learning_curves.png", "volatility_test.png"):
        assert (out / name).is_file(), name
    executed = result.executed.read_text()
    assert executed.count("image/png") >= 4  # learning curves, two confusion matrices, volatility
