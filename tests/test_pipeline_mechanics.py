"""Pipeline mechanics on the tiny test notebooks: order, templates, smoke overrides, failure report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tradelab.errors import ConfigError, NotebookError
from tradelab.notebooks.pipeline import PIPELINE_CONFIG, load_stages, run_pipeline

DATA = Path(__file__).resolve().parent / "data" / "notebooks"


def _config(tmp_path: Path, second: str = "t1_metrics.ipynb", smoke: dict | None = None) -> Path:
    cfg = {
        "mini": {
            "stages": [
                {"name": "a", "notebook": str(DATA / "t1_metrics.ipynb"),
                 "parameters": {"scale": 1.0, "label": "{run_dir}/x-{seed}"}},
                {"name": "b", "notebook": str(DATA / second), "parameters": {}},
            ],
            "smoke": smoke if smoke is not None else {"a": {"scale": 0.5}},
        }
    }
    path = tmp_path / "pipe.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_stages_fill_templates_and_apply_smoke(tmp_path):
    cfg = _config(tmp_path)
    full = load_stages("mini", tmp_path / "run", smoke=False, seed=7, config_path=cfg)
    small = load_stages("mini", tmp_path / "run", smoke=True, seed=7, config_path=cfg)
    assert [s.name for s in full] == ["a", "b"]
    assert full[0].parameters == {"scale": 1.0, "label": f"{(tmp_path / 'run').resolve()}/x-7"}
    assert small[0].parameters["scale"] == 0.5


def test_bad_pipeline_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no pipeline 'nope'"):
        load_stages("nope", tmp_path, config_path=_config(tmp_path))
    with pytest.raises(ConfigError, match=r"unknown stage\(s\) \['zz'\]"):
        load_stages("mini", tmp_path, smoke=True, config_path=_config(tmp_path, smoke={"zz": {}}))


def test_pipeline_runs_in_order_and_reports(tmp_path):
    run_dir = tmp_path / "run"
    info = run_pipeline("mini", run_dir, smoke=True, seed=3, config_path=_config(tmp_path), progress_bar=False)
    assert info["status"] == "ok" and [s["name"] for s in info["stages"]] == ["a", "b"]
    assert json.loads((run_dir / "a" / "metrics.json").read_text())["value"] == 10.5
    assert (run_dir / "a" / "t1_metrics.ipynb").is_file() and (run_dir / "b" / "t1_metrics.ipynb").is_file()
    report = (run_dir / "report.md").read_text()
    assert "| 1 | [a](a/t1_metrics.ipynb) | ok |" in report and "`scale=0.5`" in report
    assert "<table>" in (run_dir / "report.html").read_text()


def test_failing_stage_stops_pipeline_and_is_reported(tmp_path):
    run_dir = tmp_path / "run"
    with pytest.raises(NotebookError, match="t2_raises failed at cell 5"):
        run_pipeline("mini", run_dir, config_path=_config(tmp_path, second="t2_raises.ipynb"), progress_bar=False)
    info = json.loads((run_dir / "pipeline.json").read_text())
    assert info["status"] == "failed" and info["stages"][1]["status"] == "failed"
    assert "**b failed:**" in (run_dir / "report.md").read_text()


def test_shipped_pipeline_config_is_valid(tmp_path):
    for smoke in (False, True):
        stages = load_stages("demo", tmp_path, smoke=smoke, config_path=PIPELINE_CONFIG)
        assert [s.notebook for s in stages][0] == "00_data" and stages[-1].notebook == "05_inference"


def test_rerun_clears_only_the_previous_runs_stage_folders(tmp_path):
    run_dir = tmp_path / "run"
    cfg = _config(tmp_path)
    run_pipeline("mini", run_dir, config_path=cfg, progress_bar=False)
    (run_dir / "a" / "stale.pt").write_text("old")
    (run_dir / "notes.txt").write_text("mine")
    run_pipeline("mini", run_dir, config_path=cfg, progress_bar=False)
    assert not (run_dir / "a" / "stale.pt").exists() and (run_dir / "a" / "metrics.json").is_file()
    assert (run_dir / "notes.txt").read_text() == "mine"
