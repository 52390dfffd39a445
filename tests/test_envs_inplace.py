"""The array path equals the specification, bit for bit.

Every array env steps with :class:`~tradelab.envs.inplace.InplaceTransition`; the plain-Python
:func:`tradelab.envs.core.transition` is the specification. Here the specification runs on every row of a
batch as the oracle, over random actions with costs, PDT / daily cap / minimum hold, exposure and change
caps and every reward kind, single- and multi-asset: account fields and rewards must have the same bits,
and observations / infos must be what the specification's account gives.
"""

from __future__ import annotations

import numpy as np
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.envs import TradingEnvConfig
from tradelab.envs.core import ACCOUNT_FIELDS, Account, transition
from tradelab.envs.observation import account_info, state_features
from tradelab.envs.vec import make_vec_env

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _cfg(costs: dict, reward: dict | None = None, **kw) -> TradingEnvConfig:
    return TradingEnvConfig.from_dict({"window": 5, "episode_lengths": [30, 45], "initial_cash": 20_000.0,
                                      "costs": costs, "reward": reward or {}, **kw})


CASES = [
    ({}, None),  # defaults: daily data, no min-hold, PDT off → the simple gate
    ({"min_holding_bars": 2, "max_day_trades": 1}, None),  # full gate (+ PDT on hourly data)
    ({"finra_mode": "per_share", "commission_rate": 0.001, "cost_multiplier": 2.0}, {"trade_penalty": 0.0}),
    ({"slippage_atr_coef": 0.0, "impact_coef": 0.0, "sec_fee_rate": 0.0, "finra_taf_rate": 0.0},
     {"drawdown_threshold": 0.0}),
    ({"cost_multiplier": 0.0}, {"kind": "log_return"}),
    ({"impact": "on"}, {"kind": "v3"}),  # the seed's reward terms (the default is return_dd)
    ({"min_holding_bars": 1, "pdt_equity_threshold": 1e9}, {"kind": "v3", "trade_penalty": -0.02}),
]
ENV_KEY_CASES = [
    ({"pdt_mode": "daily_cap", "max_trades_per_day": 2}, {}),  # the V3 design's daily cap
    ({}, {"max_position_pct": 0.3, "buy_pct": 0.2, "reward_scaling": 2.0}),  # seed 003's environment keys
    ({"pdt_mode": "daily_cap", "max_trades_per_day": 1, "min_holding_bars": 1}, {"buy_pct": 0.5}),
]


def _venv(costs: dict, reward: dict | None, n_assets: int, freq: str, max_assets: int = 3, n_envs: int = 6,
          **env_keys):
    cfg = _cfg(costs, reward, max_assets=max_assets, **env_keys)
    if n_assets == 0:  # the single-asset layout
        data = regime_switching_gbm(260, seed=41, freq=freq)
        feats = np.random.default_rng(3).standard_normal((260, 2)).astype(np.float32)
    else:
        data = {f"A{i}": regime_switching_gbm(260, seed=40 + i, freq=freq) for i in range(n_assets)}
        feats = {k: np.random.default_rng(i).standard_normal((260, 2)).astype(np.float32) for i, k in enumerate(data)}
    return make_vec_env("batched", data, feats, cfg, n_envs=n_envs, seed=5, portfolio=n_assets > 0)


@pytest.mark.parametrize("n_assets", [0, 2])
@pytest.mark.parametrize("freq", ["D", "h"])
@pytest.mark.parametrize("costs,reward", CASES)
def test_array_path_equals_specification(costs, reward, n_assets, freq):
    assert _run_against_spec(_venv(costs, reward, n_assets, freq)) > 0


@pytest.mark.parametrize("n_assets", [0, 2])
@pytest.mark.parametrize("costs,env_keys", ENV_KEY_CASES)
def test_array_path_equals_specification_with_caps_and_daily_trade_limit(costs, env_keys, n_assets):
    assert _run_against_spec(_venv(costs, None, n_assets, "h", **env_keys)) > 0


@pytest.mark.parametrize("costs,reward", [CASES[1], CASES[5], ENV_KEY_CASES[0]])
def test_array_path_equals_specification_five_assets(costs, reward):
    """Sums over 5 live slots: the specification's left-to-right order is numpy's (under 8 slots)."""
    reward = reward if "kind" in (reward or {}) else None
    assert _run_against_spec(_venv(costs, reward, 5, "h", max_assets=6, n_envs=4)) > 0


def test_oracle_catches_a_changed_cost_rate_or_reward_rule():
    """Teeth: one cost rate off by 1e-9 (relative), or a reward term dropped, in the array path fails."""
    venv = _venv({}, {"kind": "v3"}, 2, "h")
    venv.core.transition.rate_notional *= 1.0 + 1e-9
    with pytest.raises(AssertionError):
        _run_against_spec(venv)
    venv = _venv({}, {"kind": "v3"}, 0, "D")
    venv.core.transition._trade_penalty = lambda acct, new_trades, per_trade: np.zeros_like(new_trades, float)
    with pytest.raises(AssertionError):
        _run_against_spec(venv)


def _bits(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x.view(np.int64) if x.dtype == np.float64 else x


def _assert_same_accounts(core, specs: list[Account]) -> None:
    for name in ACCOUNT_FIELDS:
        got = getattr(core.acct, name)
        want = np.array([getattr(s, name) for s in specs], dtype=got.dtype).reshape(got.shape)
        np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=name)


def _expected_obs(core, spec: Account, t: int) -> np.ndarray:
    """The observation of one env from the specification's account (floats, as the single env builds it)."""
    close = core.market.close[t].tolist()
    cols = [state_features(spec.shares[j], spec.cash, spec.avg_price[j], spec.held[j], spec.equity, close[j],
                           core.config.window, max) for j in range(core.n_slots)]
    if core.layout == "single":
        state = list(cols[0])
    else:  # per slot: exposure, unrealised PnL, time in position, mask; then the cash fraction
        state = [v for j, (pos, _, upnl, tip) in enumerate(cols) for v in (pos, upnl, tip, core.mask[0, j])]
        state.append(cols[0][1])
    return np.concatenate([core.market.windows[t], np.array(state, dtype=np.float32)])


def _expected_info(core, spec: Account, t: int) -> dict:
    n, close = core.market.n_active, core.market.close[t].tolist()
    shares, close = (spec.shares[0], close[0]) if core.layout == "single" else (spec.shares[:n], close[:n])
    return account_info(spec.equity, spec.sum_r, spec.sum_r2, spec.n_steps, spec.max_dd, spec.n_trades,
                        spec.costs_paid, spec.cash, shares, close, t, core.config.initial_cash,
                        core.params.reward.sqrt_periods)


def _run_against_spec(venv, steps: int = 120) -> int:
    """Step the batch and the specification on every row with the same random actions; returns the fills seen."""
    core, rng = venv.core, np.random.default_rng(11)
    venv.reset()
    n, dim, cash = core.n_envs, venv.action_space.shape[0], core.config.initial_cash
    specs = [Account(core.n_slots, cash) for _ in range(n)]
    m = core.market
    for _ in range(steps):
        actions = rng.uniform(-1, 1, (n, dim)).astype(np.float32)
        actions[rng.random(n) < 0.3] = 0.0
        weights, t = core.weights(actions), core.t.copy()
        expected = [transition(specs[i], weights[i].tolist(), m.open[t[i] + 1].tolist(), m.close[t[i] + 1].tolist(),
                               m.atr_ratio[t[i]].tolist(), m.inv_dv[t[i]].tolist(), int(m.day[t[i] + 1]), core.params)
                    for i in range(n)]
        got, terminated, truncated = core.step(actions)
        if core.params.reward.log_return:  # log is not IEEE-exact: numpy's and libm's may differ in the last bit
            np.testing.assert_array_max_ulp(got, np.array(expected), maxulp=1)
        else:
            np.testing.assert_array_equal(_bits(got), _bits(np.array(expected)), err_msg="reward")
        _assert_same_accounts(core, specs)
        obs = core.observe()
        np.testing.assert_array_equal(obs, np.stack([_expected_obs(core, specs[i], int(core.t[i])) for i in range(n)]))
        assert core.infos(np.arange(n)) == [_expected_info(core, specs[i], int(core.t[i])) for i in range(n)]
        ended = np.flatnonzero(terminated | truncated)
        if len(ended):
            core.reset_rows(ended)
            for i in ended:
                specs[i] = Account(core.n_slots, cash)
            np.testing.assert_array_equal(core.observe(ended), core.observe()[ended])
    return int(core.acct.n_trades.sum())


def test_draw_episode_single_length_consumes_no_draw():
    """``draw_episode`` skips ``integers(1)``; that call draws nothing, so seeded episodes are unchanged."""
    from tradelab.envs.market import draw_episode

    a, b = np.random.default_rng(9), np.random.default_rng(9)
    for _ in range(50):
        assert int(b.integers(1)) == 0
        start = int(b.integers(9, 500 - 1 - 100 + 1))
        assert draw_episode(a, (100,), 500, 10, False) == (start, start + 100)
    assert a.bit_generator.state == b.bit_generator.state
