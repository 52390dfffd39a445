"""metrics.json schema (tradelab.results): round trip, the version-1 upgrade, clear errors, and the report
reading exactly the RunResults pipeline.json names."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tradelab.envs.config import TradingEnvConfig
from tradelab.errors import ConfigError
from tradelab.evaluation.report import evaluate_against_baselines
from tradelab.notebooks.pipeline import stage_results
from tradelab.notebooks.report import render_markdown, trading_rows
from tradelab.results import SCHEMA_VERSION, RunResult, make_meta

M = {"sharpe_ratio": 0.5, "total_return": 0.1, "max_drawdown": -0.05, "n_trades": 3}


def test_round_trip_write_read(tmp_path):
    bh = {**M, "sharpe_ratio": float("nan")}
    result = RunResult({"agent": M, "buy_and_hold": bh}, {"1x": {"agent": M}},
                       make_meta("sac", focus="agent", asset="GOOG", data_hash="abc", split="test", training={"x": 1}),
                       tmp_path, model=object())
    path = result.write()
    assert path == tmp_path / "metrics.json"
    on_disk = json.loads(path.read_text())
    assert set(on_disk) == {"strategies", "by_cost", "meta"} and on_disk["strategies"]["buy_and_hold"]["sharpe_ratio"] is None
    back = RunResult.read(path)
    assert back == RunResult.read(tmp_path) and back.model is None
    assert (back.workflow, back.asset, back.focus, back.agent) == ("sac", "GOOG", "agent", M)
    assert back.cost(1) == {"agent": M} and back.cost(2) == {} and back.meta["schema_version"] == SCHEMA_VERSION
    assert back.meta["training"] == {"x": 1} and back.meta["results"] == [] and back.meta["period"] is None
    assert back.to_dict()["strategies"]["agent"] == M


def test_version_1_flat_file_is_upgraded(tmp_path):
    flat = {"sac_agent_1": M, "buy_and_hold": M, "by_cost": {"1x": {"sac_agent_1": M}},
            "training": {"episodes": 2}, "stopped_early": False}
    (tmp_path / "metrics.json").write_text(json.dumps(flat))
    result = RunResult.read(tmp_path)
    assert set(result.strategies) == {"sac_agent_1", "buy_and_hold"} and result.cost(1) == {"sac_agent_1": M}
    assert result.meta["schema_version"] == 1 and result.meta["training"] == {"episodes": 2}
    assert result.meta["stopped_early"] is False and result.workflow is None and result.meta["results"] == []
    result.write()  # written back: version 2
    assert RunResult.read(tmp_path).meta["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("content, match", [
    (json.dumps({"strategies": {}, "by_cost": {}, "meta": {"schema_version": SCHEMA_VERSION + 1}}), "newer"),
    (json.dumps([1, 2]), "not a mapping"),
    ("{not json", "not valid JSON"),
])
def test_unreadable_files_raise_one_clear_error(tmp_path, content, match):
    path = tmp_path / "metrics.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=match) as info:
        RunResult.read(path)
    assert str(path) in str(info.value) and "re-run" in str(info.value)


def test_unknown_workflow_is_refused():
    with pytest.raises(ConfigError, match="workflow='nope'"):
        make_meta("nope")


def _ppo_like_stage(run, ohlcv):
    """A stage folder like 03_ppo: test/metrics.json plus a top-level result naming it."""
    test = evaluate_against_baselines(-np.ones(len(ohlcv)), ohlcv, None, TradingEnvConfig(), run / "03_ppo" / "test",
                                      name="ppo_v3", run_meta={"workflow": "ppo", "asset": ["SPX"], "split": "test",
                                                               "data_hash": "feedbeef"})
    top = RunResult.top_level("ppo", run / "03_ppo", test, asset=["SPX"], validation={"sharpe_ratio": 0.1})
    assert (top.focus, top.meta["data_hash"], top.meta["period"]) == ("ppo_v3", "feedbeef", test.meta["period"])
    top.write()


def test_report_reads_exactly_the_results_pipeline_json_names(tmp_path, ohlcv_small):
    run = tmp_path / "run"
    _ppo_like_stage(run, ohlcv_small)
    assert stage_results(run, run / "03_ppo") == ["03_ppo/metrics.json", "03_ppo/test/metrics.json"]
    info = {"stages": [{"name": "03_ppo", "notebook": "03_ppo", "status": "ok", "parameters": {},
                        "results": stage_results(run, run / "03_ppo")}], "metadata": {}}
    rows = trading_rows(run, info)
    assert [r["strategy"] for r in rows] == ["ppo_v3", "buy_and_hold", "flat", "sma_crossover"]  # once, not twice
    assert {r["asset"] for r in rows} == {"SPX"} and "(" in rows[0]["period"]
    text = render_markdown(run, info)
    assert "content hash: `feedbeef`" in text and "Missing results" not in text

    # a stray metrics.json in the stage folder, not named in pipeline.json: not in the report
    stray = {**M, "total_return": 0.987654}
    RunResult({"stray_agent": stray}, {"1x": {"stray_agent": stray}}, make_meta("sac", asset="SPX"),
              run / "03_ppo" / "other").write()
    assert "stray" not in render_markdown(run, info) and "98.77%" not in render_markdown(run, info)
    assert [r["strategy"] for r in trading_rows(run, info)] == [r["strategy"] for r in rows]

    # a named file removed: the report says so instead of guessing from what else is there
    (run / "03_ppo" / "test" / "metrics.json").unlink()
    text = render_markdown(run, info)
    assert "**Missing results:**" in text and "03_ppo: result `03_ppo/test/metrics.json` named in pipeline.json" in text
    # the top-level file still holds the test rows (a copy), so they are shown once from it
    assert [r["source"] for r in trading_rows(run, info)] == ["03_ppo/metrics.json"] * 4


def test_stage_without_a_results_list_is_reported(tmp_path, ohlcv_small):
    run = tmp_path / "run"
    _ppo_like_stage(run, ohlcv_small)
    info = {"stages": [{"name": "03_ppo", "notebook": "03_ppo", "status": "ok", "parameters": {}}], "metadata": {}}
    text = render_markdown(run, info)
    assert trading_rows(run, info) == [] and "03_ppo: pipeline.json names no results" in text
