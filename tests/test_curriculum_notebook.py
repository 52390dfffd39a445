"""Notebook 04_curriculum: stage 1 tuned with Optuna, then stage 2 loading stage 1 (papermill, tiny budgets)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_curriculum_notebook_stage1_tuned_then_stage2(tmp_path):
    from tradelab.notebooks import run

    out = tmp_path / "cur"
    first = run("04_curriculum", {"stage": 1, "smoke": True, "auto_optimize": True, "n_trials": 2}, out,
                progress_bar=False)
    meta = first.result.meta
    assert meta["stage"] == 1 and "passed" in meta["gate"] and first.result.workflow == "curriculum"
    assert meta["optimized_params"]["n_trials"] == 2 and meta["results"] == ["stage1_test/metrics.json"]
    assert "ploutos_stage1" in first.result.strategies and first.result.focus == "ploutos_stage1"
    assert (out / "models" / "stage1" / "optimized_params.json").is_file()
    assert '"image/png"' in first.executed.read_text()  # optimisation history plot
    second = run("04_curriculum", {"stage": 2, "smoke": True, "force": True}, out, progress_bar=False)
    assert second.result.meta["loaded_from"] == str(out / "models" / "stage1_final.zip")
    report = json.loads((out / "stage2_report.json").read_text())
    assert report["assets"] == ["SPX", "NDX"] and "buy_and_hold" in report["test"]
