"""The in-place batched step path equals the generic array transition and observation, bit for bit."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.envs import TradingEnvConfig
from tradelab.envs.core import ARRAY_OPS, ARRAY_OPS_1, transition
from tradelab.envs.vec import make_vec_env

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

FIELDS = ("cash", "shares", "avg_price", "held", "open_day", "equity", "peak", "max_dd", "n_trades", "costs_paid",
          "sum_r", "sum_r2", "n_steps", "pdt_count", "pdt_day", "day_fills", "fills_day")


def _cfg(costs: dict, reward: dict | None = None, **kw) -> TradingEnvConfig:
    return TradingEnvConfig.from_dict({"window": 5, "episode_lengths": [30, 45], "initial_cash": 20_000.0,
                                      "costs": costs, "reward": reward or {}, **kw})


CASES = [
    ({}, None),  # defaults: daily data, no min-hold, PDT off → the simple gate
    ({"min_holding_bars": 2, "max_day_trades": 1}, None),  # generic gate (+ PDT on hourly data)
    ({"finra_mode": "per_share", "commission_rate": 0.001, "cost_multiplier": 2.0}, {"trade_penalty": 0.0}),
    ({"slippage_atr_coef": 0.0, "impact_coef": 0.0, "sec_fee_rate": 0.0, "finra_taf_rate": 0.0},
     {"drawdown_threshold": 0.0}),
    ({"cost_multiplier": 0.0}, {"kind": "log_return"}),
    ({}, {"kind": "v3"}),  # the seed's reward terms (the default is return_dd)
]


def _venv(costs: dict, reward: dict | None, portfolio: bool, freq: str, n_envs: int = 6, **env_keys):
    cfg = _cfg(costs, reward, max_assets=3, **env_keys)
    if portfolio:
        data = {f"A{i}": regime_switching_gbm(260, seed=40 + i, freq=freq) for i in range(2)}
        feats = {k: np.random.default_rng(i).standard_normal((260, 2)).astype(np.float32) for i, k in enumerate(data)}
    else:
        data = regime_switching_gbm(260, seed=41, freq=freq)
        feats = np.random.default_rng(3).standard_normal((260, 2)).astype(np.float32)
    return make_vec_env("batched", data, feats, cfg, n_envs=n_envs, seed=5, portfolio=portfolio)


@pytest.mark.parametrize("portfolio", [False, True])
@pytest.mark.parametrize("freq", ["D", "h"])
@pytest.mark.parametrize("costs,reward", CASES)
def test_inplace_transition_and_observation_equal_generic(costs, reward, portfolio, freq):
    _assert_inplace_equals_generic(_venv(costs, reward, portfolio, freq))


ENV_KEY_CASES = [
    ({"pdt_mode": "daily_cap", "max_trades_per_day": 2}, {}),  # the V3 design's daily cap
    ({}, {"max_position_pct": 0.3, "buy_pct": 0.2, "reward_scaling": 2.0}),  # seed 003's environment keys
    ({"pdt_mode": "daily_cap", "max_trades_per_day": 1, "min_holding_bars": 1}, {"buy_pct": 0.5}),
]


@pytest.mark.parametrize("portfolio", [False, True])
@pytest.mark.parametrize("costs,env_keys", ENV_KEY_CASES)
def test_inplace_equals_generic_with_caps_and_daily_trade_limit(costs, env_keys, portfolio):
    _assert_inplace_equals_generic(_venv(costs, None, portfolio, "h", **env_keys))


def _assert_inplace_equals_generic(venv) -> None:
    core, rng = venv.core, np.random.default_rng(11)
    venv.reset()
    n, dim = core.n_envs, venv.action_space.shape[0]
    ops = ARRAY_OPS if core.n_slots > 1 else ARRAY_OPS_1
    for _ in range(120):
        actions = rng.uniform(-1, 1, (n, dim)).astype(np.float32)
        actions[rng.random(n) < 0.3] = 0.0
        m, t, t1 = core.market, core.t, core.t + 1
        ref = copy.deepcopy(core.acct)
        expected = transition(ref, core.weights(actions), m.open[t1], m.close[t1], m.atr_ratio[t], m.inv_dv[t],
                              m.day[t1][:, None], core.params, ops)[:, 0]
        got, terminated, truncated = core.step(actions)
        np.testing.assert_array_equal(got, expected)
        for name in FIELDS:
            np.testing.assert_array_equal(getattr(core.acct, name), getattr(ref, name), err_msg=name)
        np.testing.assert_array_equal(core.observe(), core.observe(np.arange(n)))
        ended = np.flatnonzero(terminated | truncated)
        assert core.infos(np.arange(n)) == [core.info(i) for i in range(n)]
        if len(ended):
            core.reset_rows(ended)
            np.testing.assert_array_equal(core.observe(), core.observe(np.arange(n)))


def test_draw_episode_single_length_consumes_no_draw():
    """``draw_episode`` skips ``integers(1)``; that call draws nothing, so seeded episodes are unchanged."""
    from tradelab.envs.market import draw_episode

    a, b = np.random.default_rng(9), np.random.default_rng(9)
    for _ in range(50):
        assert int(b.integers(1)) == 0
        start = int(b.integers(9, 500 - 1 - 100 + 1))
        assert draw_episode(a, (100,), 500, 10, False) == (start, start + 100)
    assert a.bit_generator.state == b.bit_generator.state
