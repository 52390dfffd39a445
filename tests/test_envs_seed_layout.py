"""Seed 003's config/training_config_v3.yaml layout runs as written: mapped onto PPOV3Config, env keys real,
data.tickers through the yfinance loader (its download function replaced by a local frame; no network)."""

from __future__ import annotations

import sys
import types

import pandas as pd
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import ConfigError, DataError
from tradelab.training.ppo import PPOV3Config, env_config

SEED_YAML = """\
training:
  total_timesteps: 20000000
  learning_rate: 0.0001
  n_envs: 8
  batch_size: 4096
  max_grad_norm: 1.0
  target_kl: 0.02
  ent_coef: 0.001
environment:
  buy_pct: 0.20
  max_position_pct: 0.30
  reward_scaling: 2.0
data:
  tickers: [NVDA, TSLA]
  period: '10y'
  interval: '1h'
"""


def _yahoo_like(seed: int) -> pd.DataFrame:
    """A frame shaped like yf.download's (capitalised columns, Adj Close, (field, ticker) MultiIndex)."""
    df = regime_switching_gbm(400, seed=seed, freq="h")
    out = pd.DataFrame({"Open": df["open"], "High": df["high"], "Low": df["low"], "Close": df["close"],
                        "Adj Close": df["close"], "Volume": df["volume"]}, index=df.index.rename("Datetime"))
    out.columns = pd.MultiIndex.from_product([out.columns, ["X"]])
    return out


@pytest.fixture
def fake_yfinance(monkeypatch, tmp_path):
    calls = []

    def download(ticker, **kw):
        calls.append((ticker, kw.get("period"), kw.get("interval")))
        return _yahoo_like(len(calls))

    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(download=download))
    monkeypatch.chdir(tmp_path)
    return calls


def _write(tmp_path, text: str):
    path = tmp_path / "training_config_v3.yaml"
    path.write_text(text)
    return path


def test_seed_layout_maps_onto_ppo_config(fake_yfinance, tmp_path):
    cfg = PPOV3Config.from_yaml(_write(tmp_path, SEED_YAML))
    p, t = cfg.ppo, cfg.training
    assert (p.learning_rate, p.batch_size, p.max_grad_norm, p.target_kl, p.ent_coef) == (1e-4, 4096, 1.0, 0.02, 0.001)
    assert (t.total_timesteps, t.n_envs) == (20_000_000, 8)
    env = env_config(cfg)
    assert (env.buy_pct, env.max_position_pct, env.reward_scaling) == (0.2, 0.3, 2.0)
    assert fake_yfinance == [("NVDA", "10y", "1h"), ("TSLA", "10y", "1h")]
    assert [a.rsplit("/", 1)[-1] for a in cfg.data.assets] == ["NVDA_10y_1h.csv", "TSLA_10y_1h.csv"]
    from tradelab.data import load_file

    frame = load_file(cfg.data.assets[0])  # the cached download reads back as canonical OHLCV
    assert len(frame) == 400 and list(frame.columns[:4]) == ["open", "high", "low", "close"]
    PPOV3Config.from_yaml(_write(tmp_path, SEED_YAML))
    assert len(fake_yfinance) == 2  # cached: no second download
    # overrides still apply on top of the mapped layout
    assert PPOV3Config.from_yaml(_write(tmp_path, SEED_YAML), **{"ppo.n_epochs": 3}).ppo.n_epochs == 3


@pytest.mark.parametrize("section,key", [("environment", "stop_loss"), ("training", "lr"), ("data", "ticker")])
def test_unknown_seed_key_is_an_error_naming_it(fake_yfinance, tmp_path, section, key):
    text = SEED_YAML.replace(f"{section}:\n", f"{section}:\n  {key}: 1\n")
    with pytest.raises(ConfigError, match=f"{section}.{key}"):
        PPOV3Config.from_yaml(_write(tmp_path, text))


def test_without_yfinance_or_network_one_error_says_use_csv(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "yfinance", None)  # not installed
    with pytest.raises(DataError, match="--csv") as info:
        PPOV3Config.from_yaml(_write(tmp_path, SEED_YAML))
    assert "not installed" in str(info.value)

    def offline(ticker, **kw):
        raise OSError("Could not resolve host: query1.finance.yahoo.com")

    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(download=offline))
    with pytest.raises(DataError, match="--csv"):
        PPOV3Config.from_yaml(_write(tmp_path, SEED_YAML))
    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(download=lambda t, **kw: pd.DataFrame()))
    with pytest.raises(DataError, match="no rows came back.*--csv"):
        PPOV3Config.from_yaml(_write(tmp_path, SEED_YAML))


def test_our_layout_is_unchanged():
    from tradelab.config import CONFIG_DIR

    cfg = PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml")
    assert cfg.data.assets == ("SPX", "NDX", "GOOG") and cfg.ppo.learning_rate == 1e-4  # h11: the default that learns on planted markets
    with pytest.raises(ConfigError, match="bogus"):
        PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml", **{"training.bogus": 1})
