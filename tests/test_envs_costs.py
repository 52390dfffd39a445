"""Each cost term against hand-computed numbers; multiplier scaling; causal ATR; config errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradelab.envs.config import CostConfig, TradingEnvConfig
from tradelab.envs.costs import (
    CostParams,
    commission,
    finra_taf,
    inverse_dollar_volume,
    market_impact,
    order_costs,
    sec_fee,
    slippage_cost,
    spread_cost,
    wilder_atr,
)
from tradelab.errors import ConfigError


def test_spread_is_half_the_spread_per_side():
    # $10,000 notional, 2 bps full spread -> 1 bp paid = $1.00
    assert spread_cost(10_000.0, 2.0) == pytest.approx(1.0)


def test_slippage_scales_with_atr_over_price():
    # ATR 2 on a 100 price = 2 %; coef 0.05 -> 0.1 % of $50,000 = $50
    assert slippage_cost(50_000.0, 2.0 / 100.0, 0.05) == pytest.approx(50.0)


def test_sec_and_finra_fees_on_sell_notional():
    assert sec_fee(1_000_000.0, 0.0000221) == pytest.approx(22.10)
    assert finra_taf(1_000_000.0, 5_000.0, "notional", 0.000145, 0.000166, 8.30) == pytest.approx(145.0)


def test_finra_per_share_mode_is_capped():
    assert finra_taf(0.0, 1_000.0, "per_share", 0.0, 0.000166, 8.30) == pytest.approx(0.166)
    assert finra_taf(0.0, 1_000_000.0, "per_share", 0.0, 0.000166, 8.30) == pytest.approx(8.30)


def test_commission():
    assert commission(20_000.0, 0.001) == pytest.approx(20.0)


def test_square_root_impact_and_zero_volume():
    # $100k order against $10M bar dollar volume: 0.1 * 100k * sqrt(0.01) = $1,000
    inv = float(inverse_dollar_volume(np.array([100.0]), np.array([100_000.0]))[0])
    assert market_impact(100_000.0, inv, 0.1, cap=1.0, sqrt=math.sqrt, minimum=min) == pytest.approx(1_000.0)
    # impact grows like notional^1.5
    small = market_impact(25_000.0, inv, 0.1, cap=1.0, sqrt=math.sqrt, minimum=min)
    assert small == pytest.approx(1_000.0 / 8.0)
    # capped at cap x notional
    assert market_impact(100_000.0, inv, 0.1, cap=0.005, sqrt=math.sqrt, minimum=min) == pytest.approx(500.0)
    # FX: no volume -> inverse dollar volume 0 -> no impact, no division by zero
    inv0 = inverse_dollar_volume(np.array([1.1, 1.2]), np.array([0.0, 0.0]))
    assert inv0.tolist() == [0.0, 0.0]
    assert market_impact(1e6, float(inv0[0]), 0.1, sqrt=math.sqrt, minimum=min) == 0.0


def _params(**kw) -> CostParams:
    return CostParams.from_config(CostConfig(**kw))


def test_order_costs_total_buy_and_sell():
    p = _params(spread_bps=2.0, slippage_atr_coef=0.1, impact_coef=0.0, commission_rate=0.0005)
    # buy 100 shares at $50: notional 5,000; spread 0.5; slippage 0.1*0.02*5000 = 10; commission 2.5
    buy = order_costs(100.0, 50.0, 0.02, 0.0, p)
    assert buy == pytest.approx(0.5 + 10.0 + 2.5)
    # the sell adds SEC 0.1105 and FINRA 0.725 on the 5,000 sell notional
    sell = order_costs(-100.0, 50.0, 0.02, 0.0, p)
    assert sell == pytest.approx(0.5 + 10.0 + 2.5 + 5_000 * 0.0000221 + 5_000 * 0.000145)
    assert order_costs(0.0, 50.0, 0.02, 0.0, p) == 0.0


def test_order_costs_multiplier_scales():
    """(The array path's costs are checked against ``order_costs`` in test_envs_inplace.py.)"""
    p1, p2 = _params(cost_multiplier=1.0), _params(cost_multiplier=2.0)
    for delta, price, atr, inv in ((100.0, 50.0, 0.01, 1e-7), (-250.0, 20.0, 0.03, 0.0), (0.0, 10.0, 0.02, 1e-6)):
        one = order_costs(delta, price, atr, inv, p1)
        assert order_costs(delta, price, atr, inv, p2) == pytest.approx(2.0 * one, rel=1e-15)
        assert (one > 0) == (delta != 0)
    assert order_costs(100.0, 50.0, 0.01, 1e-7, _params(cost_multiplier=0.0)) == 0.0


def test_wilder_atr_is_causal_and_smoothed():
    rng = np.random.default_rng(0)
    close = 100 + np.cumsum(rng.standard_normal(200))
    high, low = close + 1.0, close - 1.0
    atr = wilder_atr(high, low, close, 14)
    assert atr[0] == pytest.approx(2.0)
    high2 = high.copy()
    high2[150:] += 50.0  # change the future
    atr2 = wilder_atr(high2, low, close, 14)
    np.testing.assert_array_equal(atr[:150], atr2[:150])
    assert atr2[150] > atr[150]


def test_cost_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="costs.spread_bps"):
        CostConfig(spread_bps=-1.0).validate()
    with pytest.raises(ConfigError, match="finra_mode"):
        TradingEnvConfig.from_dict({"costs": {"finra_mode": "per_trade"}})
    with pytest.raises(ConfigError, match="unknown key"):
        TradingEnvConfig.from_dict({"windw": 3})
    cfg = TradingEnvConfig().with_cost_multiplier(2.0)
    assert cfg.costs.cost_multiplier == 2.0 and TradingEnvConfig().costs.cost_multiplier == 1.0


def test_per_share_finra_in_order_costs():
    p = _params(finra_mode="per_share", spread_bps=0.0, slippage_atr_coef=0.0, impact_coef=0.0, sec_fee_rate=0.0)
    got = [order_costs(d, 10.0, 0.0, 0.0, p) for d in (-1_000.0, -1_000_000.0, 500.0)]
    np.testing.assert_allclose(got, [0.166, 8.30, 0.0])  # per share sold, capped per order; buys pay none


def test_shipped_env_yaml_holds_the_defaults():
    from tradelab.config import CONFIG_DIR

    assert TradingEnvConfig.from_yaml(CONFIG_DIR / "env.yaml") == TradingEnvConfig()
