"""Notebook 03_ppo runs end to end through papermill on a tiny budget (embedded real data)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.slow
def test_ppo_notebook_smoke(tmp_path):
    from tradelab.notebooks import run

    result = run("03_ppo", {"smoke": True, "seed": 1}, tmp_path / "nb03", progress_bar=False)
    metrics = result.result.meta
    assert metrics["assets"] == ["SPX", "NDX", "GOOG"] and metrics["num_timesteps"] >= 512
    assert {"ppo_v3", "buy_and_hold", "flat", "sma_crossover"} <= set(result.result.strategies)
    assert set(result.result.by_cost) == {"0x", "1x", "2x"} and metrics["results"] == ["test/metrics.json"]
    assert Path(metrics["final_model"]).is_file() and Path(metrics["best_model"]).is_file()
    assert any((tmp_path / "nb03" / "tensorboard").rglob("events.out.tfevents.*"))
    # smoke's budget replaces the parameters' defaults (200 000 steps on 8 envs): what the README promises
    import json

    training = json.loads((tmp_path / "nb03" / "config.json").read_text())["training"]
    assert (training["n_envs"], training["total_timesteps"]) == (2, 512)
    # The TensorBoard plot cell drew its figure (an image output in the executed notebook).
    assert '"image/png"' in result.executed.read_text()

