"""Single-asset and portfolio envs: API checks, accounting, timing (no look-ahead), refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.envs import PortfolioEnv, TradingEnvConfig, TradingEnvironment
from tradelab.errors import ConfigError, DataError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _feats(df: pd.DataFrame, n: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((len(df), n)).astype(np.float32)


def _cfg(mult: float = 1.0, **kw) -> TradingEnvConfig:
    costs = kw.pop("costs", {})
    return TradingEnvConfig.from_dict({"window": 8, "episode_lengths": [40, 60], **kw,
                                      "costs": {"cost_multiplier": mult, **costs}})


def _run(env: TradingEnvironment, actions) -> list[dict]:
    _, info = env.reset(seed=0)
    infos = [info]
    for a in actions:
        _, _, term, trunc, info = env.step(np.array([a], dtype=np.float32))
        infos.append(info)
        if term or trunc:
            break
    return infos


def test_check_env_single_and_portfolio(ohlcv_small):
    gym_check_env(TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg()))
    sb3_check_env(TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg()))
    other = regime_switching_gbm(len(ohlcv_small), seed=11)
    data = {"A": ohlcv_small, "B": other}
    feats = {"A": _feats(ohlcv_small), "B": _feats(other, seed=1)}
    gym_check_env(PortfolioEnv(data, feats, _cfg(max_assets=3)))
    sb3_check_env(PortfolioEnv(data, feats, _cfg(max_assets=3)))


def test_zero_cost_flat_keeps_equity_and_full_long_is_buy_and_hold(ohlcv_small):
    env = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(0.0), eval_mode=True)
    flat = _run(env, [0.0] * 500)
    assert all(i["equity"] == 100_000.0 for i in flat) and flat[-1]["n_trades"] == 0
    long = _run(env, [1.0] * 500)
    assert len(long) == len(ohlcv_small)  # eval mode runs every bar of the split
    o, c = ohlcv_small["open"].to_numpy(), ohlcv_small["close"].to_numpy()
    expected = 100_000.0 * c[1:] / o[1]
    np.testing.assert_allclose([i["equity"] for i in long[1:]], expected, rtol=1e-12)
    assert long[-1]["n_trades"] == 1


def test_costs_strictly_lower_equity(ohlcv_small):
    acts = np.tile([1.0, 1.0, -0.5, 0.0, 0.7], 80)
    finals = []
    for mult in (0.0, 1.0, 2.0):
        env = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(mult), eval_mode=True)
        infos = _run(env, acts)
        finals.append(infos[-1]["equity"])
        assert (infos[-1]["costs_paid"] > 0) == (mult > 0)
    assert finals[0] > finals[1] > finals[2]


def test_accounting_identity_every_step(ohlcv_small):
    """equity_t = equity_{t-1} + old position PnL to the open + new position PnL to the close - costs."""
    env = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(1.0), eval_mode=True)
    o, c = ohlcv_small["open"].to_numpy(), ohlcv_small["close"].to_numpy()
    env.reset(seed=0)
    rng = np.random.default_rng(3)
    for _ in range(len(ohlcv_small) - 1):
        t, acct = env.t, env.acct
        eq0, sh0, costs0 = acct.equity, acct.shares[0], acct.costs_paid
        _, _, term, trunc, info = env.step(rng.uniform(-1, 1, 1).astype(np.float32))
        sh1, step_cost = env.acct.shares[0], info["costs_paid"] - costs0
        expected = eq0 + sh0 * (o[t + 1] - c[t]) + sh1 * (c[t + 1] - o[t + 1]) - step_cost
        assert info["equity"] == pytest.approx(expected, rel=1e-11)
        assert env.acct.cash + sh1 * c[t + 1] == pytest.approx(info["equity"], rel=1e-12)
        if term or trunc:
            break


def test_fill_uses_next_open_not_decision_bar(ohlcv_small):
    cfg = _cfg(0.0)
    env = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), cfg, eval_mode=True)
    info = _run(env, [1.0])[-1]
    o1, c1 = ohlcv_small["open"].iloc[1], ohlcv_small["close"].iloc[1]
    assert info["equity"] == pytest.approx(100_000.0 * c1 / o1, rel=1e-12)
    moved = ohlcv_small.copy()
    moved.iloc[0, moved.columns.get_loc("close")] *= 1.05  # the decision bar's close: no effect on the fill
    env2 = TradingEnvironment(moved, _feats(moved), cfg, eval_mode=True)
    assert _run(env2, [1.0])[-1]["equity"] == pytest.approx(info["equity"], rel=1e-12)


@pytest.mark.parametrize("t_cut", [20, 57, 150])
def test_no_look_ahead(ohlcv_small, t_cut):
    """Changing bars (prices, volume, features) after t changes no observation at or before t."""
    feats = _feats(ohlcv_small)
    acts = np.random.default_rng(1).uniform(-1, 1, len(ohlcv_small))

    def observations(data, features):
        env = TradingEnvironment(data, features, _cfg(1.0), eval_mode=True)
        obs, _ = env.reset(seed=0)
        out = [obs]
        for a in acts[:t_cut]:
            obs, *_ = env.step(np.array([a], dtype=np.float32))
            out.append(obs)
        return np.array(out)

    base = observations(ohlcv_small, feats)
    data2, feats2 = ohlcv_small.copy(), feats.copy()
    data2.iloc[t_cut + 1:, :4] *= 1.3
    data2.iloc[t_cut + 1:, 4] *= 7.0
    feats2[t_cut + 1:] += 5.0
    changed = observations(data2, feats2)
    np.testing.assert_array_equal(base, changed)  # obs of bars 0..t_cut
    # the fill on bar t+1 may use its open (and the mark its close) but nothing else of that bar:
    # ATR (high/low) and dollar volume for costs come from the decision bar t
    data3 = ohlcv_small.copy()
    data3.iloc[t_cut:, 1] *= 1.5
    data3.iloc[t_cut:, 2] *= 0.5
    data3.iloc[t_cut:, 4] *= 7.0
    np.testing.assert_array_equal(base, observations(data3, feats))


def test_min_holding_period_refuses_early_exit(ohlcv_small):
    env = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(0.0, costs={"min_holding_bars": 3}),
                             eval_mode=True)
    infos = _run(env, [1.0, 0.0, 0.0, 0.0, 0.0])
    positions = [round(i["position"], 6) != 0 for i in infos]
    # opened on step 1, held through 3 closes, the exit fills on step 4
    assert positions == [False, True, True, True, False, False]
    assert infos[-1]["n_trades"] == 2


def test_pdt_refuses_fourth_day_trade_under_threshold():
    hourly = regime_switching_gbm(200, seed=5, freq="h")
    cfg = _cfg(0.0, initial_cash=10_000.0, costs={"max_day_trades": 3, "pdt_equity_threshold": 25_000.0})
    env = TradingEnvironment(hourly, _feats(hourly), cfg, eval_mode=True)
    infos = _run(env, [1.0, 0.0] * 5)  # five same-day round trips attempted
    in_market = [abs(i["position"]) > 1e-9 for i in infos]
    # round trips 1-3 close; the 4th close is refused, so the position stays open from step 7 on
    assert in_market[:7] == [False, True, False, True, False, True, False]
    assert all(in_market[7:])
    rich = TradingEnvironment(hourly, _feats(hourly), cfg.replace(initial_cash=50_000.0), eval_mode=True)
    assert not any(abs(i["position"]) > 1e-9 for i in _run(rich, [1.0, 0.0] * 5)[8::2])


def test_training_episodes_and_info(ohlcv_small):
    env = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(1.0))
    obs, info = env.reset(seed=3)
    assert obs.shape == (8 * 5 + 4,) and obs.dtype == np.float32
    assert set(info) >= {"equity", "total_return", "sharpe_ratio", "max_drawdown", "n_trades", "costs_paid"}
    steps, done = 0, False
    while not done:
        _, _, term, trunc, info = env.step(env.action_space.sample())
        steps, done = steps + 1, term or trunc
    assert steps in (40, 60) or info["equity"] <= 0


def test_portfolio_spaces_do_not_depend_on_asset_count(ohlcv_small):
    frames = {f"A{i}": regime_switching_gbm(len(ohlcv_small), seed=20 + i) for i in range(5)}
    shapes = set()
    for n in (1, 3, 5):
        sub = dict(list(frames.items())[:n])
        env = PortfolioEnv(sub, {k: _feats(v) for k, v in sub.items()}, _cfg(max_assets=5))
        obs, _ = env.reset(seed=0)
        obs2, *_ = env.step(np.ones(5, dtype=np.float32))
        shapes.add((env.observation_space.shape, env.action_space.shape, obs2.shape))
        assert env.mask.tolist() == [1.0] * n + [0.0] * (5 - n)
    assert len(shapes) == 1


def test_portfolio_one_asset_matches_single_env_equity(ohlcv_small):
    feats = _feats(ohlcv_small)
    single = TradingEnvironment(ohlcv_small, feats, _cfg(1.0), eval_mode=True)
    port = PortfolioEnv({"X": ohlcv_small}, {"X": feats}, _cfg(1.0, max_assets=3), eval_mode=True)
    single.reset(seed=0)
    port.reset(seed=0)
    rng = np.random.default_rng(2)
    for _ in range(100):
        a = rng.uniform(-1, 1)
        _, _, _, _, i1 = single.step(np.array([a], np.float32))
        _, _, _, _, i2 = port.step(np.array([a, 0.9, -0.9], np.float32))  # empty slots ignored
        assert i1["equity"] == i2["equity"]


def test_bad_inputs_raise_clear_errors(ohlcv_small):
    with pytest.raises(DataError, match="one row per bar"):
        TradingEnvironment(ohlcv_small, _feats(ohlcv_small)[:-3])
    nan_feats = _feats(ohlcv_small)
    nan_feats[4, 1] = np.nan
    with pytest.raises(DataError, match="row 4"):
        TradingEnvironment(ohlcv_small, nan_feats)
    with pytest.raises(DataError, match="missing column"):
        TradingEnvironment(ohlcv_small.drop(columns="volume"), _feats(ohlcv_small))
    other = regime_switching_gbm(len(ohlcv_small), seed=1, start="2012-01-02")
    with pytest.raises(DataError, match="align"):
        PortfolioEnv({"A": ohlcv_small, "B": other}, {"A": _feats(ohlcv_small), "B": _feats(other)}, _cfg())
    with pytest.raises(ConfigError, match="max_assets"):
        frames = {f"A{i}": ohlcv_small for i in range(3)}
        PortfolioEnv(frames, {k: _feats(v) for k, v in frames.items()}, _cfg(max_assets=2))
    with pytest.raises(ConfigError, match="window"):
        TradingEnvironment(ohlcv_small.iloc[:5], _feats(ohlcv_small.iloc[:5]), _cfg())
