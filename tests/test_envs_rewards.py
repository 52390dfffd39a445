"""Reward terms (the Python-float specification) against hand-computed values."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from tradelab.envs.config import RewardConfig
from tradelab.envs.rewards import (
    RewardParams,
    drawdown_increase,
    drawdown_penalty,
    overtrading_penalty,
    running_sharpe,
    step_reward,
)


def _acct(**kw):
    base = {"equity": 100_000.0, "peak": 100_000.0, "n_trades": 0.0, "sum_r": 0.0, "sum_r2": 0.0, "n_steps": 0.0}
    return SimpleNamespace(**{**base, **kw})


def test_single_terms():
    assert drawdown_penalty(0.05, 0.10) == 0.0
    assert drawdown_penalty(0.15, 0.10) == pytest.approx(1.5)
    for n_before in range(3):
        for new in range(3):
            expected = (max(n_before + new - 1, 0) - max(n_before - 1, 0)) * 0.01
            assert overtrading_penalty(float(n_before), float(new), 0.01) == pytest.approx(expected)
    r = np.array([0.01, -0.02, 0.015])
    expected = r.mean() / r.std() * math.sqrt(252)
    assert running_sharpe(r.sum(), (r**2).sum(), 3.0, math.sqrt(252)) == pytest.approx(expected)
    assert running_sharpe(0.01, 1e-4, 1.0, 15.0) == 0.0  # one return: undefined -> 0


def test_v3_reward_hand_computed():
    p = RewardParams.build(RewardConfig(kind="v3"), 252.0)
    # second step of an episode: +1 % after -2 %, first trade of the episode now
    acct = _acct(equity=99_000.0 * 1.01, peak=100_000.0, n_trades=1.0, sum_r=-0.02, sum_r2=0.0004, n_steps=1.0)
    reward = step_reward(acct, 99_000.0, 1.0, 1 - acct.equity / acct.peak, p, 100_000.0)
    r = np.array([-0.02, 0.01])
    sharpe = r.mean() / r.std() * math.sqrt(252)
    assert reward == pytest.approx(1.0 + sharpe * 0.1)  # 1 % step return, negative-Sharpe term, no DD/bonus/trade
    # deep drawdown, overtrading and the bonus
    acct = _acct(equity=110_000.0, peak=130_000.0, n_trades=5.0, sum_r=0.0, sum_r2=0.0, n_steps=0.0)
    dd = 1 - 110_000 / 130_000
    reward = step_reward(acct, 110_000.0, 2.0, dd, p, 100_000.0)
    assert reward == pytest.approx(0.0 - dd * 10 - 2 * 0.01 + 0.1)


def test_log_return_reward():
    """(The array path's rewards are checked against ``step_reward`` in test_envs_inplace.py.)"""
    p = RewardParams.build(RewardConfig(kind="log_return"), 252.0)
    acct = _acct(equity=101_000.0)
    assert step_reward(acct, 100_000.0, 0.0, 0.0, p, 100_000.0) == pytest.approx(math.log(1.01))
    assert acct.n_steps == 1.0 and acct.sum_r == pytest.approx(0.01)  # running statistics updated


def test_default_reward_is_return_dd_hand_computed():
    assert RewardConfig().kind == "return_dd"
    p = RewardParams.build(RewardConfig(drawdown_threshold=0.0), 252.0)
    # from the peak down 2 %: -2 (return) - 2 (the drawdown deepened by 2 points)
    acct = _acct(equity=98_000.0, peak=100_000.0)
    assert step_reward(acct, 100_000.0, 1.0, 0.02, p, 100_000.0, 0.0) == pytest.approx(-4.0)
    # recovering from 2 % to 1 % drawdown: only the +1.02 % return, no drawdown charge
    acct = _acct(equity=99_000.0, peak=100_000.0)
    assert step_reward(acct, 98_000.0, 0.0, 0.01, p, 100_000.0, 0.02) == pytest.approx(100 / 98)
    # the threshold: only the part of the increase beyond it is charged (8 % -> 12 %, threshold 10 %)
    assert drawdown_increase(0.12, 0.08, 0.10) == pytest.approx(0.02)
    assert drawdown_increase(0.09, 0.05, 0.10) == 0.0


def _run_env(kind: str, actions: str, n: int = 1500, **reward) -> tuple[np.ndarray, np.ndarray]:
    """Rewards and per-step drawdown of the SAC env on real daily SPX bars (embedded data)."""
    from tradelab.data import load_asset
    from tradelab.envs.config import TradingEnvConfig
    from tradelab.envs.trading_env import TradingEnvironment

    frame = load_asset("SPX").iloc[:n]
    cfg = TradingEnvConfig(window=1, reward=RewardConfig(kind=kind, **reward))
    env = TradingEnvironment(frame, np.zeros((len(frame), 1), np.float32), cfg, eval_mode=True)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    rewards, dds, done = [], [], False
    while not done:
        a = {"long": 1.0, "flat": 0.0, "random": float(rng.choice([-1.0, 0.0, 1.0]))}[actions]
        _, r, term, trunc, _ = env.step(np.array([a], np.float32))
        rewards.append(r)
        dds.append(1 - env.acct.equity / env.acct.peak)
        done = term or trunc
    return np.asarray(rewards), np.asarray(dds)


def test_return_dd_is_order_one_on_real_data_where_v3_is_not():
    """Per-step magnitude O(1) on real daily data; the seed's V3 piles up -DD*10 per step in drawdowns."""
    new, dd = _run_env("return_dd", "long")
    assert dd.max() > 0.15  # SPX 1999-2005 holds the 2000-2002 bear market: a deep drawdown to test against
    assert 0.2 < np.abs(new).mean() < 2.0 and np.abs(new).max() < 15.0
    old, _ = _run_env("v3", "long")
    assert np.abs(old).mean() > 2 * np.abs(new).mean()  # teeth: the level penalty dominates V3


def test_return_dd_drawdown_term_only_when_the_step_deepens_the_drawdown():
    """drawdown term = reward - return term: zero on every step whose drawdown did not increase."""
    rewards, dd = _run_env("return_dd", "random", drawdown_threshold=0.0)
    ret_only, _ = _run_env("return_dd", "random", drawdown_threshold=0.0, drawdown_weight=0.0)
    term = rewards - ret_only
    prev = np.concatenate([[0.0], dd[:-1]])
    deeper = dd > prev + 1e-12
    assert deeper.sum() > 50 and (~deeper).sum() > 50
    assert np.all(term[~deeper] == 0.0)
    np.testing.assert_allclose(term[deeper], -100 * (dd - prev)[deeper], rtol=1e-9, atol=1e-12)
    flat, flat_dd = _run_env("return_dd", "flat")
    assert np.all(flat == 0.0) and np.all(flat_dd == 0.0)  # a flat book is never charged
