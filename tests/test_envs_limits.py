"""Seed 003's env keys (exposure cap, per-step change cap, reward scaling), the daily trade cap,
impact only on notional volumes, and first windows filled from the bars before a split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.envs import PortfolioEnv, TradingEnvConfig, TradingEnvironment
from tradelab.envs.costs import volume_is_notional
from tradelab.errors import ConfigError, DataError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _feats(df: pd.DataFrame, n: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((len(df), n)).astype(np.float32)


def _cfg(**kw) -> TradingEnvConfig:
    costs = kw.pop("costs", {})
    return TradingEnvConfig.from_dict({"window": 4, **kw, "costs": {"cost_multiplier": 0.0, **costs}})


def _positions(env, actions) -> tuple[list[float], list[float], list[dict]]:
    _, info = env.reset(seed=0)
    pos, rewards, infos = [info["position"]], [], [info]
    for a in actions:
        _, r, term, trunc, info = env.step(np.array([a], dtype=np.float32))
        pos.append(info["position"])
        rewards.append(r)
        infos.append(info)
        if term or trunc:
            break
    return pos, rewards, infos


def test_max_position_pct_caps_exposure(ohlcv_small):
    env = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(max_position_pct=0.3), eval_mode=True)
    pos, _, _ = _positions(env, [1.0, -1.0, 0.2])
    # filled at the next open, marked at the close: exposure 0.3 of equity at the fill, then drifts a little
    assert pos[1] == pytest.approx(0.3, rel=0.05) and pos[2] == pytest.approx(-0.3, rel=0.05)
    assert pos[3] == pytest.approx(0.2, rel=0.05)  # inside the cap: untouched
    uncapped = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(), eval_mode=True)
    assert _positions(uncapped, [1.0])[0][1] == pytest.approx(1.0, rel=0.05)


def test_buy_pct_caps_the_change_per_step(ohlcv_small):
    env = TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(buy_pct=0.2), eval_mode=True)
    pos, _, _ = _positions(env, [1.0] * 6 + [-1.0])
    steps = np.diff(pos)
    assert all(s == pytest.approx(0.2, abs=0.02) for s in steps[:4])  # 0 → 1 in five steps of 0.2 of equity
    assert pos[5] == pytest.approx(1.0, rel=0.03) and abs(steps[5]) < 0.03  # reached: no more change
    assert steps[6] == pytest.approx(-0.2, abs=0.02)  # the flip is capped as well


def test_reward_scaling_multiplies_the_reward_only(ohlcv_small):
    actions = [1.0, 0.5, -0.5, 0.0, 1.0]
    base = _positions(TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(), eval_mode=True), actions)
    scaled = _positions(TradingEnvironment(ohlcv_small, _feats(ohlcv_small), _cfg(reward_scaling=2.0),
                                           eval_mode=True), actions)
    assert np.allclose(scaled[1], 2.0 * np.asarray(base[1])) and any(r != 0 for r in base[1])
    assert [i["equity"] for i in scaled[2]] == [i["equity"] for i in base[2]]  # the account is unchanged


def test_seed_env_keys_are_validated():
    for key, bad in (("max_position_pct", 1.5), ("buy_pct", 0.0), ("reward_scaling", -1.0)):
        with pytest.raises(ConfigError, match=key):
            TradingEnvConfig.from_dict({key: bad})
    with pytest.raises(ConfigError, match="pdt_mode"):
        TradingEnvConfig.from_dict({"costs": {"pdt_mode": "weekly"}})


def test_daily_cap_allows_max_trades_per_day_whatever_the_equity():
    hourly = regime_switching_gbm(120, seed=5, freq="h")
    cfg = _cfg(initial_cash=1e6, costs={"pdt_mode": "daily_cap", "max_trades_per_day": 4})
    env = TradingEnvironment(hourly, _feats(hourly), cfg, eval_mode=True)
    _, _, infos = _positions(env, [1.0, 0.0] * 12)  # 24 orders attempted within one day
    days = env.market.day
    fills = np.diff([i["n_trades"] for i in infos])
    per_day = pd.Series(fills).groupby(days[1:len(fills) + 1]).sum()
    assert per_day.max() == 4 and per_day.iloc[0] == 4
    finra = TradingEnvironment(hourly, _feats(hourly), _cfg(initial_cash=1e6), eval_mode=True)
    assert _positions(finra, [1.0, 0.0] * 12)[2][-1]["n_trades"] > 4  # FINRA's rule never binds at $1M


def test_impact_auto_skips_tick_volumes_and_charges_exchange_volumes():
    from tradelab.data import load_asset

    eurusd = load_asset("EURUSD").iloc[:300]  # embedded: volume is a tick count
    notional, why = volume_is_notional(eurusd)
    assert notional is False and "tick" in why
    assert volume_is_notional(eurusd.assign(volume=1e9))[0] is True  # exchange-sized volumes read as notional
    assert volume_is_notional(eurusd.assign(volume=1e9), name="EURUSD")[0] is False  # the name says FX
    flagged = eurusd.assign(volume=1e9)
    flagged.attrs["volume_is_notional"] = False
    assert volume_is_notional(flagged)[0] is False  # the source's flag wins
    costs = {}
    for mode in ("auto", "on", "off"):
        cfg = _cfg(costs={"cost_multiplier": 1.0, "impact": mode, "slippage_atr_coef": 0.0, "spread_bps": 0.0,
                          "sec_fee_rate": 0.0, "finra_taf_rate": 0.0})
        env = TradingEnvironment(eurusd, _feats(eurusd), cfg, eval_mode=True)
        costs[mode] = _positions(env, [1.0, -1.0, 1.0])[2][-1]["costs_paid"]
        assert env.market.impact[0].startswith("on" if mode == "on" else "off")
    assert costs["auto"] == costs["off"] == 0.0 < costs["on"]
    goog = load_asset("GOOG").iloc[:300]
    assert volume_is_notional(goog)[0] and TradingEnvironment(goog, _feats(goog), _cfg(),
                                                              eval_mode=True).market.impact[0].startswith("on")


def test_first_window_takes_the_bars_before_the_split():
    data = regime_switching_gbm(200, seed=9)
    feats = _feats(data) + 5.0  # no zeros anywhere
    split, window = 120, 4
    cfg = _cfg(window=window)
    env = TradingEnvironment(data.iloc[split:], feats[split:], cfg, eval_mode=True, history=feats[split - 10:split])
    obs, _ = env.reset()
    first = obs[: window * 3].reshape(window, 3)
    np.testing.assert_array_equal(first, feats[split - window + 1: split + 1])  # real bars t-3 .. t
    assert (first != 0).all()
    padded, _ = TradingEnvironment(data.iloc[split:], feats[split:], cfg, eval_mode=True).reset()
    assert (padded[: (window - 1) * 3] == 0).all()  # without history: the zero padding this replaces
    portfolio = PortfolioEnv({"A": data.iloc[split:]}, {"A": feats[split:]}, cfg.replace(max_assets=1),
                             eval_mode=True, history={"A": feats[:split]})
    pobs, _ = portfolio.reset()
    np.testing.assert_array_equal(pobs[: window * 3].reshape(window, 3), feats[split - window + 1: split + 1])
    with pytest.raises(DataError, match="history"):
        TradingEnvironment(data.iloc[split:], feats[split:], cfg, eval_mode=True, history=np.ones((5, 2)))
