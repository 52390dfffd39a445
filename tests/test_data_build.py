"""build_processed on a real embedded asset, and the `tradelab data` CLI end to end."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tradelab.data import store
from tradelab.data.build import build_processed, resolve_inputs
from tradelab.errors import ConfigError
from tradelab.features import WARMUP_BARS, feature_names
from tradelab.utils import read_json


@pytest.fixture(scope="module")
def goog_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("processed")
    return out, build_processed(assets=["goog"], out_dir=out)


def test_build_goog_writes_both_stores(goog_build):
    out, summary = goog_build
    rows = summary["rows"]["GOOG"]
    assert rows["test"] >= 150 and rows["val"] >= 150 and rows["train"] > 4 * rows["test"]
    data = store.read_processed_h5(out / store.H5_NAME)
    assert data.assets == ["GOOG"] and data.metadata["purge_gap"] >= 5 + WARMUP_BARS
    assert data.metadata["content_hash"] == summary["content_hash"] and data.metadata["label_horizon"] == 5
    assert data.feature_names == feature_names() and len(data.feature_names) >= 50
    for split in ("train", "val", "test"):
        feats = data.features(split, "GOOG")
        assert len(feats) == rows[split] and np.isfinite(feats.to_numpy()).all()
    gap = data.frame("val", "GOOG").index[0] - data.frame("train", "GOOG").index[-1]
    assert gap > pd.Timedelta(days=data.metadata["purge_gap"])  # ≥ gap bars of trading days


def test_final_parquet_layout(goog_build):
    out, summary = goog_build
    frame, spec = store.read_final_parquet(out / "goog_final.parquet")
    assert frame.index.name == "timestamp" and str(frame.index.tz) == "UTC"
    assert list(frame.columns[:5]) == ["open", "high", "low", "close", "volume"]
    assert set(frame["split"]) == {"train", "val", "test"} and frame["label_signal"].isin([0, 1, 2]).all()
    assert frame["label_regime"].isin([0, 1, 2]).all() and frame["label_volatility"].notna().all()
    assert spec["label_spec"]["horizon"] == 5 and len(spec["label_spec"]["regime_thresholds"]) == 2
    assert spec["feature_names"] == feature_names() and spec["content_hash"] == summary["content_hash"]
    # features equal the h5 store's (float32 there)
    h5 = store.read_processed_h5(out)
    val = frame[frame["split"] == "val"][feature_names()]
    np.testing.assert_allclose(h5.features("val", "GOOG").loc[val.index].to_numpy(), val.to_numpy(), rtol=1e-6, atol=1e-6)
    fs = read_json(out / "feature_spec.json")
    assert fs["assets"]["GOOG"]["scaler"]["n_train_rows"] == summary["rows"]["GOOG"]["train"]


def test_resolve_inputs_rules():
    assert [n for n, _ in resolve_inputs(None)] == ["GOOG", "EURUSD", "SPX", "NDX"]
    assert resolve_inputs(None, [("a.csv", "xyz")]) == [("XYZ", "a.csv")]
    assert resolve_inputs(["spx"], [("a.csv", "XYZ")]) == [("SPX", None), ("XYZ", "a.csv")]
    with pytest.raises(ConfigError, match="given twice"):
        resolve_inputs(["GOOG"], [("a.csv", "goog")])


def _cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRADELAB_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "tradelab.cli", "data", *args], capture_output=True, text=True,
                          timeout=120, env=env, cwd=cwd)


def test_cli_help_for_every_subcommand(capsys):
    from tradelab.cli import main

    res = _cli("--help")  # the real console path once
    assert res.returncode == 0 and "usage: tradelab data" in res.stdout and "build" in res.stdout
    for sub in ("build", "check", "list"):
        with pytest.raises(SystemExit) as exc:
            main(["data", sub, "--help"])
        assert exc.value.code == 0 and f"usage: tradelab data {sub}" in capsys.readouterr().out
    assert main(["data", "list"]) == 0 and "EURUSD" in capsys.readouterr().out


def test_cli_build_yahoo_csv_and_check(tmp_path):
    from backtesting.test import GOOG

    csv = tmp_path / "xyz.csv"
    GOOG.rename_axis("Date").assign(**{"Adj Close": GOOG["Close"]}).to_csv(csv)
    res = _cli("check", str(csv))
    assert res.returncode == 0 and '"rows": 2148' in res.stdout
    res = _cli("build", "--csv", str(csv), "--asset", "XYZ", "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "xyz_final.parquet").is_file()
    assert store.read_processed_h5(tmp_path / "out").assets == ["XYZ"]
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1,10\n2020-01-01,1,2,0.5,1,10\n")
    res = _cli("check", str(bad))
    assert res.returncode == 2 and "bad.csv: timestamps out of order" in res.stderr and "Traceback" not in res.stderr


def test_embedded_data_does_not_import_backtesting():
    """Issue 16 item 6: importing `backtesting` in Jupyter turns on Bokeh's notebook output ("Loading BokehJS")."""
    code = ("import sys; from tradelab.data.sources import load_asset; n = len(load_asset('GOOG')) + "
            "len(load_asset('EURUSD')); print(n, 'backtesting' in sys.modules, 'bokeh' in sys.modules)")
    env = {**os.environ, "JPY_PARENT_PID": "1"}  # what backtesting checks to detect a notebook
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["7148", "False", "False"] and "Bokeh" not in out.stderr
