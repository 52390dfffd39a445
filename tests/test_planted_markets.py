"""Planted-signal markets: seeded, causal rules, and an edge that the same env and costs can measure."""

from __future__ import annotations

import numpy as np
import pytest

from tradelab.data import load_asset
from tradelab.data.synthetic import (
    PLANTED_KINDS,
    momentum_rule,
    parse_planted_name,
    planted_market,
    reference_exposures,
    vol_switch_rule,
    zscore_rule,
)
from tradelab.envs.config import TradingEnvConfig
from tradelab.errors import DataError
from tradelab.evaluation.backtest import backtest

CFG = TradingEnvConfig(window=1)
N = 4000


def _sharpes(market, n_test: int = 1500, costs: float = 1.0) -> dict[str, float]:
    test = market.ohlcv.iloc[-n_test:]
    return {k: backtest(v, test, None, CFG, costs, k, n_boot=10).metrics["sharpe_ratio"]
            for k, v in reference_exposures(market, test.index).items()}


@pytest.mark.parametrize("kind", PLANTED_KINDS)
def test_seeded_and_distinct(kind):
    a, b, c = planted_market(kind, 0, N), planted_market(kind, 0, N), planted_market(kind, 1, N)
    assert a.ohlcv.equals(b.ohlcv) and a.edge.equals(b.edge)
    assert not np.allclose(a.ohlcv["close"], c.ohlcv["close"])
    assert (a.ohlcv["high"] >= a.ohlcv[["open", "close"]].max(axis=1)).all()
    assert (a.ohlcv["low"] <= a.ohlcv[["open", "close"]].min(axis=1)).all()


@pytest.mark.parametrize("rule", [momentum_rule, zscore_rule, lambda c: vol_switch_rule(c, 0.0104)])
def test_rules_are_causal(rule):
    """A rule's exposure at t is the same whether or not the bars after t exist."""
    close = planted_market("nonlinear", 3, 600).ohlcv["close"]
    full = rule(close)
    for t in (25, 137, 420, 599):
        assert full[t] == rule(close.iloc[: t + 1])[-1]


@pytest.mark.parametrize("kind,rule", [("momentum", "momentum_rule"), ("mean_reversion", "zscore_rule"),
                                       ("nonlinear", "vol_switch_rule")])
def test_planted_edge_survives_costs(kind, rule):
    """Oracle > the market's simple rule > flat at 1x costs, through the same env and cost model."""
    m = planted_market(kind, 0, N)
    assert m.main_rule == rule
    s = _sharpes(m)
    assert s["oracle"] > s[rule] + 0.5
    assert s[rule] > 0.8
    assert s["flat"] == 0.0


def test_nonlinear_edge_is_invisible_to_the_linear_rule():
    s = _sharpes(planted_market("nonlinear", 0, N))
    assert abs(s["momentum_rule"]) < 0.6 < s["vol_switch_rule"]


def test_null_market_has_no_edge_and_shuffling_removes_the_planted_one():
    """Teeth: the same rule finds nothing on the null market, nor on the momentum market's shuffled returns."""
    null = _sharpes(planted_market("null", 0, N), costs=0.0)  # at 1x the rule's flips lose the costs
    assert null["oracle"] == 0.0 and abs(null["momentum_rule"]) < 1.0
    m = planted_market("momentum", 0, N)
    close = m.ohlcv["close"]
    rets = np.log(close).diff().fillna(0).to_numpy()
    shuffled = close.copy()
    shuffled[:] = close.iloc[0] * np.exp(np.cumsum(np.random.default_rng(0).permutation(rets)))
    test = slice(-1500, None)
    frame = m.ohlcv.iloc[test].assign(open=shuffled.shift(1).bfill().iloc[test], close=shuffled.iloc[test])
    frame = frame.assign(high=frame[["open", "close"]].max(axis=1), low=frame[["open", "close"]].min(axis=1))
    planted = backtest(momentum_rule(close)[test], m.ohlcv.iloc[test], None, CFG, 0.0, n_boot=10).metrics
    gone = backtest(momentum_rule(shuffled)[test], frame, None, CFG, 0.0, n_boot=10).metrics
    assert planted["sharpe_ratio"] > 1.5 and abs(gone["sharpe_ratio"]) < 1.0


def test_planted_assets_load_by_name():
    assert parse_planted_name("planted_mean_reversion_s4") == ("mean_reversion", 4)
    assert parse_planted_name("SPX") is None
    frame = load_asset("PLANTED_MOMENTUM_S2")
    assert frame.index.name == "timestamp" and str(frame.index.tz) == "UTC" and len(frame) == 12_000
    assert frame.equals(load_asset("planted_momentum_s2"))
    with pytest.raises(DataError, match="PLANTED_MOMENTUM"):
        load_asset("PLANTED_WHATEVER")
