"""notebooks/02_sac.ipynb executed through papermill on embedded EURUSD."""

from __future__ import annotations

import json

import pytest

from tradelab.results import RunResult


@pytest.mark.slow
def test_sac_notebook_smoke_on_embedded_eurusd(tmp_path):
    from tradelab.notebooks import run

    params = {"h5_path": str(tmp_path / "data" / "processed_data.h5"), "smoke": True, "num_episodes": 2,
              "eval_frequency": 1, "checkpoint_frequency": 1, "episode_length": 48, "warmup_steps": 32,
              "device": "cpu", "agent_id": 1}
    result = run("02_sac", params, tmp_path / "nb02", progress_bar=False)
    metrics = json.loads((tmp_path / "nb02" / "metrics.json").read_text())
    assert metrics == result.metrics and result.result == RunResult.read(tmp_path / "nb02")
    meta = result.result.meta
    assert meta["training"]["asset"] == "EURUSD" and meta["training"]["episodes"] == 2 and meta["asset"] == "EURUSD"
    assert {"sac_agent_1", "buy_and_hold", "flat", "sma_crossover"} <= set(result.result.strategies)
    assert set(result.result.by_cost) == {"0x", "1x", "2x"}
    assert (tmp_path / "nb02" / "agent_1_best.pt").is_file()
    assert result.executed.read_text().count('"image/png"') >= 4  # three training plots + test equity

