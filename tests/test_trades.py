"""Trade list per backtest: round trips with entry/exit at the next open, PnL that adds up, metrics, trades.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.envs import TradingEnvConfig
from tradelab.evaluation.backtest import backtest
from tradelab.evaluation.report import evaluate_against_baselines
from tradelab.evaluation.trades import trade_list, trade_metrics

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _cfg(mult_costs: bool = True) -> TradingEnvConfig:
    return TradingEnvConfig.from_dict({"window": 3, "costs": {} if mult_costs else {"cost_multiplier": 0.0}})


def test_round_trips_by_hand():
    times = pd.date_range("2021-01-04", periods=6, freq="B", tz="UTC")
    shares = np.array([0, 10, 10, -5, 0, 4], dtype=float)[:, None]  # open, hold, flip, close, open again
    opens = np.array([9, 10, 11, 12, 13, 14], dtype=float)[:, None]
    closes = opens + 0.5
    costs = np.array([0, 1.0, 0, 3.0, 0.5, 0.2])
    trades = trade_list(times, shares, opens, closes, costs, ["X"])
    assert list(trades["side"]) == ["long", "short", "long"]
    long, short, last = trades.to_dict("records")
    assert (long["entry_price"], long["exit_price"], long["bars_held"]) == (10.0, 12.0, 2)
    assert long["costs"] == pytest.approx(1.0 + 3.0 * 10 / 15)  # the flip's cost split by shares
    assert long["pnl"] == pytest.approx(10 * (12 - 10) - long["costs"])
    assert short["pnl"] == pytest.approx(5 * (12 - 13) - (3.0 * 5 / 15 + 0.5)) and short["bars_held"] == 1
    assert last["status"] == "open" and last["exit_price"] == 14.5  # marked at the last close
    assert last["pnl"] == pytest.approx(4 * 0.5 - 0.2)
    m = trade_metrics(trades)
    assert m["trade_win_rate"] == pytest.approx(2 / 3) and m["median_trade_bars"] == 1.0
    assert m["trade_profit_factor"] == pytest.approx((long["pnl"] + last["pnl"]) / -short["pnl"])


def test_backtest_trades_add_up_to_the_equity_change():
    data = regime_switching_gbm(300, seed=4)
    rng = np.random.default_rng(0)
    policy = np.repeat(rng.choice([-1.0, 0.0, 0.5, 1.0], size=30), 10)
    res = backtest(policy, data, config=_cfg())
    trades = res.trades
    assert len(trades) > 5 and set(trades["side"]) == {"long", "short"}
    eq = res.equity["equity"]
    assert trades["pnl"].sum() == pytest.approx(eq.iloc[-1] - eq.iloc[0], rel=1e-9)
    assert trades["costs"].sum() == pytest.approx(res.equity["costs_paid"].iloc[-1], rel=1e-9)
    # entries fill at the open of the bar after a decision that changed the target
    bar = data.index.get_indexer(trades["entry_time"])
    assert (policy[bar - 1] != np.concatenate([[0.0], policy])[bar - 1]).all()
    first = trades.iloc[0]
    opens = data["open"].loc[first["entry_time"]:first["exit_time"]]
    assert opens.min() <= first["entry_price"] <= opens.max()
    m = res.metrics
    assert m["n_round_trips"] == len(trades) and 0 <= m["trade_win_rate"] <= 1
    assert m["avg_trade_bars"] == pytest.approx(trades["bars_held"].mean())
    assert m["exposure"] == pytest.approx(np.mean(res.positions.to_numpy() != 0))
    # teeth: a sign-flipped policy flips every trade's side
    flipped = backtest(-policy, data, config=_cfg(False)).trades
    plain = backtest(policy, data, config=_cfg(False)).trades
    assert (flipped["side"] != plain["side"]).all()


def test_report_writes_trades_csv_and_trade_metrics(tmp_path):
    data = regime_switching_gbm(200, seed=6)
    metrics = evaluate_against_baselines(np.ones(len(data)) * 0.5, data, None, _cfg(), tmp_path,
                                         cost_multipliers=(1,)).strategies
    trades = pd.read_csv(tmp_path / "trades.csv")
    assert list(trades.columns[:3]) == ["strategy", "asset", "side"]
    assert {"agent", "sma_crossover", "buy_and_hold"} <= set(trades["strategy"])
    for key in ("trade_win_rate", "avg_trade_bars", "median_trade_bars", "trade_profit_factor", "exposure",
                "turnover", "bar_win_rate_in_market"):
        assert key in metrics["sma_crossover"]
    assert "win_rate" not in metrics["agent"]  # renamed: it is per bar in the market
    assert metrics["buy_and_hold"]["n_round_trips"] == 1
