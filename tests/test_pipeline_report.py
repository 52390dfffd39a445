"""report.md/html from real tradelab.evaluation outputs (synthetic bars: unit test, no training)."""

from __future__ import annotations

import numpy as np

from tradelab.envs.config import TradingEnvConfig
from tradelab.evaluation.report import evaluate_against_baselines
from tradelab.notebooks.pipeline import stage_results
from tradelab.notebooks.report import render_markdown, trading_rows, write_report
from tradelab.results import RunResult, make_meta


def _run_dir(tmp_path, ohlcv_small):
    run = tmp_path / "run"
    cfg = TradingEnvConfig()
    short = -np.ones(len(ohlcv_small))  # always short: on a rising series it loses to buy-and-hold
    evaluate_against_baselines(short, ohlcv_small, None, cfg, run / "02_sac", name="sac_agent_1")
    evaluate_against_baselines(short, ohlcv_small, None, cfg, run / "05_inference", name="sac_agent_1")
    head = {"model": {"accuracy": 0.30}, "baselines": {"majority": {"accuracy": 0.40}}}
    sign = {"morningstar": {"sharpe_ratio": -0.5}, "buy_and_hold": {"sharpe_ratio": 0.7}}
    RunResult(sign, {"1x": sign}, make_meta("supervised", focus="morningstar", heads={"test": {"trading_signal_output": head}}),
              run / "01_supervised").write()
    stages = [{"name": n, "notebook": n, "parameters": {"seed": 0}, "status": "ok", "seconds": 1.0,
               "executed": f"{n}/{n}.ipynb", "results": stage_results(run, run / n)}
              for n in ("01_supervised", "02_sac", "05_inference")]
    return run, {"pipeline": "demo", "seed": 0, "smoke": True, "status": "ok", "stages": stages, "metadata": {}}


def test_one_table_with_baselines_at_three_costs(tmp_path, ohlcv_small):
    run, info = _run_dir(tmp_path, ohlcv_small)
    rows = trading_rows(run, info)
    # agent rows of both stages; identical baseline rows (same bars) kept once
    assert [(r["model"], r["strategy"]) for r in rows] == [
        ("02_sac", "sac_agent_1"), ("02_sac", "buy_and_hold"), ("02_sac", "flat"), ("02_sac", "sma_crossover"),
        ("05_inference", "sac_agent_1"),
    ]
    assert all(sorted(r["by_cost"]) == [0.0, 1.0, 2.0] for r in rows)
    text = render_markdown(run, info)
    assert "| model | asset | test period | strategy | return 0× | return 1× | return 2× |" in text
    bh = RunResult.read(run / "02_sac").strategies["buy_and_hold"]["total_return"]
    assert f"{100 * bh:.2f}%" in text
    assert "**02_sac (sac_agent_1) did not beat buy-and-hold**" in text
    assert "**01_supervised trading_signal_output did not beat its best naive baseline**" in text
    assert "01_supervised signal head traded by its sign rule, test Sharpe at 1× costs: morningstar -0.500" in text
    assert "| 01_supervised |" not in text.split("## Supervised")[0].split("## Test metrics")[1]  # not a trading row
    assert "![equity](02_sac/equity.png)" in text


def test_report_is_reproducible_and_html_written(tmp_path, ohlcv_small):
    run, info = _run_dir(tmp_path, ohlcv_small)
    md, html = write_report(run, info)
    first = md.read_text()
    write_report(run, info)
    assert md.read_text() == first
    assert "<table>" in html.read_text() and '<img alt="equity" src="02_sac/equity.png"' in html.read_text()
