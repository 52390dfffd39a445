"""Risk manager: one unit test per rule on the pure function, then the gym/VecEnv wrappers and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.envs import TradingEnvConfig
from tradelab.envs.config import RiskConfig
from tradelab.envs.risk import RiskInputs, RiskState, apply_risk, realised_vol
from tradelab.errors import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _inputs(equity=(100.0,), shares=((0.0, 0.0),), avg=((0.0, 0.0),), price=((10.0, 10.0),), vol=((0.0, 0.0),)):
    return RiskInputs(*(np.asarray(x, dtype=np.float64) for x in (equity, shares, avg, price, vol)))


def _risk(**kw) -> RiskConfig:
    return RiskConfig.from_dict({"enabled": True, **kw})


def test_position_cap_per_asset():
    state = RiskState.new(np.array([100.0]))
    w = apply_risk(np.array([[0.9, -0.7]]), _inputs(), state, _risk(max_position=0.5))
    np.testing.assert_allclose(w, [[0.5, -0.5]])
    assert state.counts["position_cap"] == 1
    apply_risk(np.array([[0.2, -0.1]]), _inputs(), state, _risk(max_position=0.5))
    assert state.counts["position_cap"] == 1  # inside the cap: unchanged, not counted


def test_gross_exposure_cap_scales_proportionally():
    state = RiskState.new(np.array([100.0]))
    w = apply_risk(np.array([[0.8, -0.8]]), _inputs(), state, _risk(max_gross=1.0))
    np.testing.assert_allclose(w, [[0.5, -0.5]])
    assert state.counts["gross_cap"] == 1


def test_stop_loss_closes_a_losing_long_and_a_losing_short():
    state = RiskState.new(np.array([100.0]))
    # long bought at 10 now 9.4 (-6 %); short sold at 10 now 10.3 (-3 % for the short)
    inputs = _inputs(shares=((5.0, -5.0),), avg=((10.0, 10.0),), price=((9.4, 10.3),))
    w = apply_risk(np.array([[1.0, -1.0]]), inputs, state, _risk(stop_loss=0.05))
    np.testing.assert_allclose(w, [[0.0, -1.0]])  # only the long passed -5 %
    w = apply_risk(np.array([[1.0, -1.0]]), inputs, state, _risk(stop_loss=0.02))
    np.testing.assert_allclose(w, [[0.0, 0.0]])
    assert state.counts["stop_loss"] == 2


def test_take_profit_closes_a_winner():
    state = RiskState.new(np.array([100.0]))
    inputs = _inputs(shares=((5.0, -5.0),), avg=((10.0, 10.0),), price=((11.5, 8.0),))
    w = apply_risk(np.array([[1.0, -1.0]]), inputs, state, _risk(take_profit=0.18))
    np.testing.assert_allclose(w, [[1.0, 0.0]])  # +15 % long stays, +20 % short is taken
    assert state.counts["take_profit"] == 1


def test_drawdown_breaker_goes_flat_for_n_bars_then_restarts_the_peak():
    cfg = _risk(max_drawdown=0.10, breaker_bars=3)
    state = RiskState.new(np.array([100.0]))
    equity = [100, 110, 98, 97, 96, 95, 94]  # 98 is 10.9 % under the 110 peak
    out = [apply_risk(np.array([[1.0, 0.0]]), _inputs(equity=(e,)), state, cfg)[0, 0] for e in equity]
    assert out == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0]  # flat for 3 bars; the peak restarts at 96
    assert state.counts["drawdown_breaker"] == 3


def test_vol_targeting_scales_to_the_target_and_never_above_max_leverage():
    state = RiskState.new(np.array([100.0]))
    inputs = _inputs(vol=((0.30, 0.05),))
    w = apply_risk(np.array([[1.0, 1.0]]), inputs, state, _risk(target_vol=0.15, max_leverage=1.5))
    np.testing.assert_allclose(w, [[0.5, 1.5]])
    close = np.exp(np.cumsum(np.r_[0.0, np.tile([0.01, -0.01], 20)]))[:, None]
    vol = realised_vol(close, np.array([30, 1]), 10, 252.0)
    assert vol[0, 0] == pytest.approx(np.std(np.tile([0.01, -0.01], 5), ddof=1) * np.sqrt(252))
    assert vol[1, 0] == 0.0  # one return: unknown → no scaling


def test_disabled_manager_changes_nothing_and_config_is_checked():
    state = RiskState.new(np.array([100.0]))
    w = apply_risk(np.array([[0.9, -0.9]]), _inputs(), state, RiskConfig(max_position=0.1))
    np.testing.assert_allclose(w, [[0.9, -0.9]])
    with pytest.raises(ConfigError, match="risk.stop_loss"):
        TradingEnvConfig.from_dict({"risk": {"stop_loss": -0.1}})


def test_backtest_report_counts_rules_and_caps_positions(tmp_path):
    from tradelab.evaluation.backtest import backtest
    from tradelab.evaluation.report import evaluate_against_baselines

    data = regime_switching_gbm(300, seed=3)
    cfg = TradingEnvConfig.from_dict({"window": 3, "risk": {"enabled": True, "max_position": 0.4,
                                                            "stop_loss": 0.02, "max_drawdown": 0.05}})
    res = backtest(np.ones(len(data)), data, config=cfg)
    counts = res.metrics["risk_rule_counts"]
    assert counts["position_cap"] > 0 and counts["stop_loss"] > 0
    assert res.positions.abs().max() <= 0.4 * 1.05
    plain = backtest(np.ones(len(data)), data, config=cfg.replace(risk={"enabled": False}))
    assert "risk_rule_counts" not in plain.metrics and plain.positions.abs().max() > 0.9
    metrics = evaluate_against_baselines(np.ones(len(data)), data, None, cfg, tmp_path, cost_multipliers=(1,)).strategies
    assert set(metrics["agent"]["risk_rule_counts"]) >= {"drawdown_breaker", "stop_loss", "vol_target"}
    meta = pd.read_json(tmp_path / "report_meta.json", typ="series")
    assert "agent" in meta["risk_rule_counts"] and meta["n_bars"] == len(data)


def test_vec_env_wrapper_applies_the_rules_for_ppo():
    from tradelab.envs.vec import RiskVecEnvWrapper, make_vec_env

    data = regime_switching_gbm(200, seed=2)
    feats = np.zeros((len(data), 2), np.float32)
    cfg = TradingEnvConfig.from_dict({"window": 3, "episode_lengths": [30], "costs": {"cost_multiplier": 0.0},
                                      "risk": {"enabled": True, "max_position": 0.25}})
    for kind in ("batched", "dummy"):
        venv = make_vec_env(kind, data, feats, cfg, n_envs=3, seed=1)
        venv.reset()
        for _ in range(5):
            venv.step(np.ones((3, 1), np.float32))
        if kind == "batched":
            assert isinstance(venv, RiskVecEnvWrapper) and venv.counts["position_cap"] > 0
            exposure = venv.venv.core.acct.shares[:, 0] * venv.venv.core.market.close[venv.venv.core.t, 0]
            assert (exposure / venv.venv.core.acct.equity[:, 0] <= 0.25 * 1.05).all()
        else:
            envs = [w.unwrapped for w in venv.envs]
            positions = [e.acct.shares[0] * e.market.close[e.t, 0] / e.acct.equity for e in envs]
            assert all(0.2 < p <= 0.25 * 1.05 for p in positions)  # capped, not flat
