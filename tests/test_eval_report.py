"""backtest() for every policy kind; evaluate_against_baselines outputs; `tradelab backtest` CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tradelab.cli import main as cli_main
from tradelab.data.synthetic import regime_switching_gbm
from tradelab.envs import TradingEnvConfig
from tradelab.errors import ConfigError
from tradelab.evaluation import backtest, cost_sweep, evaluate_against_baselines
from tradelab.results import RunResult

CFG = TradingEnvConfig(window=5)


class _SB3Like:
    def predict(self, obs, deterministic=False):
        assert deterministic
        return np.array([1.0], np.float32), None


class _AgentLike:
    def select_action(self, obs, evaluate=False):
        assert evaluate
        return np.array([1.0], np.float32)


def test_backtest_policy_kinds_agree(ohlcv_small):
    feats = np.zeros((len(ohlcv_small), 2), np.float32)
    runs = [backtest(p, ohlcv_small, feats, CFG) for p in
            (lambda obs: np.array([1.0]), _SB3Like(), _AgentLike(), np.ones(len(ohlcv_small)))]
    first = runs[0].equity["equity"]
    for res in runs[1:]:
        pd.testing.assert_series_equal(res.equity["equity"], first)
    assert len(first) == len(ohlcv_small) and first.index.equals(ohlcv_small.index)
    assert runs[0].metrics["n_trades"] == 1 and runs[0].positions.iloc[-1] == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ConfigError, match="select_action"):
        backtest(object(), ohlcv_small, feats, CFG)
    with pytest.raises(ConfigError, match="expecting 1"):
        backtest(lambda obs: np.ones(3), ohlcv_small, feats, CFG)


def test_backtest_is_deterministic_and_cost_sweep_orders(ohlcv_small):
    sma = np.where(ohlcv_small["close"].rolling(10).mean() > ohlcv_small["close"].rolling(30).mean(), 1.0, -1.0)
    a, b = backtest(sma, ohlcv_small, None, CFG), backtest(sma, ohlcv_small, None, CFG)
    assert a.metrics == b.metrics
    sweep = cost_sweep(sma, ohlcv_small, None, CFG)
    totals = [sweep[m].metrics["total_return"] for m in (0.0, 1.0, 2.0)]
    assert totals[0] > totals[1] > totals[2]


def test_evaluate_against_baselines_writes_everything(ohlcv_small, tmp_path):
    feats = np.random.default_rng(0).standard_normal((len(ohlcv_small), 3)).astype(np.float32)
    result = evaluate_against_baselines(lambda obs: np.array([np.tanh(obs[-7])]), ohlcv_small, feats, CFG,
                                        tmp_path, name="agent", run_meta={"asset": "SYN", "split": "test"})
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert set(on_disk) == {"strategies", "by_cost", "meta"}
    assert set(on_disk["strategies"]) == {"agent", "buy_and_hold", "flat", "sma_crossover", "random"}
    assert set(on_disk["by_cost"]) == {"0x", "1x", "2x"}
    for name in ("agent", "buy_and_hold", "flat", "sma_crossover"):
        assert {"total_return", "sharpe_ratio", "max_drawdown", "n_trades"} <= set(on_disk["strategies"][name])
    assert on_disk["strategies"]["flat"]["total_return"] == 0.0
    assert on_disk["by_cost"]["0x"]["buy_and_hold"]["total_return"] == pytest.approx(
        ohlcv_small["close"].iloc[-1] / ohlcv_small["open"].iloc[1] - 1, rel=1e-10)
    meta = on_disk["meta"]
    assert (meta["schema_version"], meta["workflow"], meta["focus"], meta["asset"], meta["split"]) == (
        2, "backtest", "agent", "SYN", "test")
    assert meta["period"]["n_bars"] == len(ohlcv_small) and meta["results"] == []
    assert result.agent == on_disk["strategies"]["agent"] and result == RunResult.read(tmp_path)
    equity = pd.read_csv(tmp_path / "equity.csv", index_col="timestamp")
    assert list(equity.columns) == ["agent", "buy_and_hold", "flat", "sma_crossover", "random"]
    assert len(equity) == len(ohlcv_small)
    for png in ("equity.png", "drawdown.png", "position.png"):
        assert (tmp_path / png).stat().st_size > 5_000


def _write_h5(path):
    from tradelab.data.store import write_processed_h5

    full = regime_switching_gbm(900, seed=9)
    rng = np.random.default_rng(0)
    for i in range(3):
        full[f"f{i}"] = rng.standard_normal(len(full)) * (i + 1) + i
    parts = {"train": full.iloc[:600], "val": full.iloc[620:740], "test": full.iloc[760:]}
    meta = {"assets": ["SYN"], "split_dates": {}, "purge_gap": 20, "frequency": "daily", "source": "synthetic",
            "content_hash": "x", "feature_names": ["f0", "f1", "f2"], "label_horizon": 5}
    write_processed_h5(path, {"SYN": parts}, meta)
    return parts


def test_cli_backtest_writes_outputs(tmp_path, capsys):
    parts = _write_h5(tmp_path / "processed_data.h5")
    out = tmp_path / "bt"
    rc = cli_main(["backtest", "--h5-path", str(tmp_path / "processed_data.h5"), "--asset", "syn", "--split",
                   "test", "--output-dir", str(out), "--set", "costs.spread_bps=1", "window=4"])
    assert rc == 0
    result = RunResult.read(out)
    assert {"buy_and_hold", "flat", "sma_crossover", "random"} == set(result.strategies)
    assert (result.workflow, result.asset, result.meta["split"], result.meta["data_hash"]) == ("backtest", "SYN", "test", "x")
    assert len(pd.read_csv(out / "equity.csv")) == len(parts["test"])
    assert "sma_crossover" in capsys.readouterr().out
    rc = cli_main(["backtest", "--h5-path", str(tmp_path / "missing.h5"), "--asset", "SYN", "--output-dir", str(out)])
    assert rc == 2 and "tradelab data build" in capsys.readouterr().err
