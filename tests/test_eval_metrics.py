"""Metrics against hand-computed values; annualisation conventions; causal baselines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import DataError
from tradelab.evaluation.baselines import baseline_exposures, random_positions, sma_crossover
from tradelab.evaluation.metrics import bootstrap_sharpe_ci, compute_metrics, max_drawdown


def _series(values, freq="B", start="2020-01-06") -> pd.Series:
    idx = pd.date_range(start, periods=len(values), freq=freq, tz="UTC", name="timestamp")
    return pd.Series(np.asarray(values, dtype=float), index=idx)


def test_metrics_hand_computed_daily():
    eq = _series([100.0, 110.0, 99.0, 108.9, 108.9])
    pos = pd.Series([0.0, 1.0, 1.0, 1.0, 0.0], index=eq.index)
    m = compute_metrics(eq, pos, trades=2, costs=3.5)
    rets = np.array([0.10, -0.10, 0.10, 0.0])
    assert m["total_return"] == pytest.approx(0.089)
    assert m["periods_per_year"] == 252.0
    assert m["annual_return"] == pytest.approx(1.089 ** (252 / 4) - 1)
    assert m["sharpe_ratio"] == pytest.approx(rets.mean() / rets.std(ddof=1) * math.sqrt(252))
    downside = math.sqrt(np.mean(np.minimum(rets, 0) ** 2))
    assert m["sortino_ratio"] == pytest.approx(rets.mean() / downside * math.sqrt(252))
    assert m["max_drawdown"] == pytest.approx(0.1)
    assert m["calmar"] == pytest.approx(m["annual_return"] / 0.1)
    # in-market bars: returns 1..4 (position held into or out of them) -> 2 wins of 4
    assert m["bar_win_rate_in_market"] == pytest.approx(0.5)
    assert m["bar_profit_factor"] == pytest.approx(0.2 / 0.1)
    assert m["exposure"] == pytest.approx(3 / 5)
    assert m["turnover"] == pytest.approx(2.0 / (4 / 252))
    assert m["avg_holding_bars"] == pytest.approx(3.0)
    assert (m["n_trades"], m["costs_paid"]) == (2, 3.5)
    assert m["sharpe_ci_low"] <= m["sharpe_ratio"] <= m["sharpe_ci_high"]


def test_annualisation_follows_bar_frequency():
    rng = np.random.default_rng(0)
    values = 100 * np.cumprod(1 + rng.normal(0, 0.001, 24 * 30))
    hourly_fx = _series(values, freq="h")
    hourly_fx = hourly_fx[hourly_fx.index.dayofweek < 5]  # FX: weekdays, 24 bars a day = 120 a week
    assert compute_metrics(hourly_fx)["periods_per_year"] == pytest.approx(120 * 365.25 / 7)
    crypto = _series(values, freq="h")  # trades every day
    assert compute_metrics(crypto)["periods_per_year"] == pytest.approx(24 * 365.25)
    daily = compute_metrics(_series(values[:300]))
    hourly_same_returns = compute_metrics(_series(values[:300], freq="h", start="2020-01-06")[:120])
    assert daily["periods_per_year"] == 252 and hourly_same_returns["periods_per_year"] != 252
    # under two complete weeks: bars per day x 5 weekdays x 52.18 weeks
    assert hourly_same_returns["periods_per_year"] == pytest.approx(24 * 5 * 365.25 / 7)


def test_annualisation_is_measured_on_real_eurusd_hourly():
    from tradelab.data import load_asset
    from tradelab.data.calendar import periods_per_year

    eurusd = load_asset("EURUSD")  # embedded backtesting.test data, 2017-2018 hourly
    measured = periods_per_year(eurusd.index)
    assert 6_100 < measured < 6_300 and measured != 24 * 252  # ~23.7 bars a weekday x 261 weekdays
    span_years = (eurusd.index[-1] - eurusd.index[0]) / pd.Timedelta(days=365.25)
    assert measured == pytest.approx(len(eurusd) / span_years, rel=0.01)  # agrees with bars / elapsed years
    equity = pd.Series(100 * np.cumprod(1 + np.random.default_rng(2).normal(2e-5, 1e-3, len(eurusd))),
                       index=eurusd.index)
    m = compute_metrics(equity, n_boot=10)
    rets = equity.pct_change().dropna()
    assert m["sharpe_ratio"] == pytest.approx(rets.mean() / rets.std() * math.sqrt(measured))
    assert m["periods_per_year"] == measured
    # the GOOG daily series stays on the 252 convention (it measures ~251.6)
    assert periods_per_year(load_asset("GOOG").index) == 252.0


def test_flat_equity_and_errors():
    m = compute_metrics(_series([100.0] * 10), pd.Series(0.0, index=_series([0] * 10).index))
    assert m["sharpe_ratio"] == 0.0 and m["max_drawdown"] == 0.0 and m["bar_profit_factor"] is None
    with pytest.raises(DataError, match="equity"):
        compute_metrics(_series([100.0]))
    with pytest.raises(DataError, match="positions"):
        compute_metrics(_series([100.0, 101.0, 102.0]), pd.Series([0.0, 1.0]))


def test_bootstrap_ci_is_seeded_and_narrows_with_data():
    rng = np.random.default_rng(1)
    short, long = rng.normal(0.001, 0.01, 100), rng.normal(0.001, 0.01, 5000)
    a, b = bootstrap_sharpe_ci(short, 252, seed=3), bootstrap_sharpe_ci(short, 252, seed=3)
    assert a == b and a[0] < a[1]
    wide, narrow = a[1] - a[0], np.subtract(*bootstrap_sharpe_ci(long, 252, seed=3)[::-1])
    assert narrow < wide / 4


def test_max_drawdown():
    assert max_drawdown(np.array([1.0, 2.0, 1.0, 3.0, 2.4])) == pytest.approx(0.5)


def test_baselines_are_causal_and_seeded():
    df = regime_switching_gbm(300, seed=2)
    sma = sma_crossover(df)
    assert np.all(sma[:49] == 0.0) and set(np.unique(sma[49:])) <= {-1.0, 1.0}
    future = df.copy()
    future.iloc[200:, :4] *= 2.0
    np.testing.assert_array_equal(sma_crossover(future)[:200], sma[:200])
    assert set(np.unique(sma_crossover(df, long_only=True))) <= {0.0, 1.0}
    np.testing.assert_array_equal(random_positions(df, seed=4), random_positions(df, seed=4))
    assert not np.array_equal(random_positions(df, seed=4), random_positions(df, seed=5))
    assert set(baseline_exposures(df)) == {"buy_and_hold", "flat", "sma_crossover", "random"}
