"""Issue 13 item 6: every bad input ends in one clear message (or a warning when legal but suspicious)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import CheckpointError, ConfigError, DataError, NotebookError


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    from tradelab.data.build import build_processed

    root = tmp_path_factory.mktemp("inputs")
    regime_switching_gbm(n_bars=1200, seed=2).to_parquet(root / "x.parquet")
    build_processed(csv=[(str(root / "x.parquet"), "XX")], out_dir=root / "proc")
    return root / "proc"


def test_zero_byte_checkpoint_and_buffer(tmp_path, capsys):
    from tradelab.agents.checkpoint import read_checkpoint
    from tradelab.cli import main

    empty = tmp_path / "agent_1_best.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"is empty \(0 bytes\)"):
        read_checkpoint(empty)
    assert main(["infer", "--checkpoint", str(empty), "--output-dir", str(tmp_path / "o")]) == 2
    assert "is empty (0 bytes)" in capsys.readouterr().err


def test_non_numeric_h5_features(built, tmp_path):
    import h5py

    from tradelab.data.store import read_processed_h5

    h5 = tmp_path / "processed_data.h5"
    shutil.copy(built / "processed_data.h5", h5)
    with h5py.File(h5, "a") as fh:
        g = fh["train/XX"]
        shape = g["features"].shape
        del g["features"]
        g.create_dataset("features", data=np.full(shape, b"abc", dtype="S3"))
    with pytest.raises(DataError, match=r"/train/XX/features holds \|S3 values, not numbers"):
        read_processed_h5(h5)


def test_dates_that_are_not_dates(capsys):
    from tradelab.cli import main
    from tradelab.data.split import temporal_split

    with pytest.raises(ConfigError, match="split date 'notadate' is not a date"):
        temporal_split(regime_switching_gbm(n_bars=1500, seed=1), dates=("notadate", "2012-01-01"))
    assert main(["data", "build", "--assets", "GOOG", "--dates", "notadate", "2012-01-01", "--out", "unused"]) == 2
    assert "is not a date" in capsys.readouterr().err
    assert not Path("unused").exists()


def test_device_values(capsys):
    from tradelab.cli import main
    from tradelab.utils import resolve_device

    assert main(["train", "sac", "--device", "tpu", "--h5-path", "never_read.h5"]) == 2
    assert "--device 'tpu' is not supported" in capsys.readouterr().err
    assert main(["train", "ppo", "--training.device", "tpu"]) == 2
    assert "training.device 'tpu' is not supported" in capsys.readouterr().err

    with pytest.raises(ConfigError, match="device 'tpu' is not supported: use auto, cpu, cuda, cuda:N or mps"):
        resolve_device("tpu")
    import torch

    if not torch.cuda.is_available():
        assert resolve_device("cuda") == "cpu"
        assert "falling back to cpu" in capsys.readouterr().out


def test_output_path_that_is_a_file(built, tmp_path, capsys):
    from tradelab.cli import main

    blocker = tmp_path / "im_a_file"
    blocker.write_text("x")
    assert main(["data", "build", "--csv", str(built.parent / "x.parquet"), "--asset", "XX", "--out", str(blocker)]) == 2
    assert f"output folder {blocker} is a file" in capsys.readouterr().err
    # a path under a file (infer writes there): the OS error is caught and the path named
    from tradelab.cli import __init__ as _  # noqa: F401

    assert main(["run", "00_data", "--output-dir", str(blocker / "sub"), "-p", "smoke", "true", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(blocker) in err and "Traceback" not in err


def test_infer_max_bars_refused(tmp_path, capsys):
    from tradelab.cli import main

    for bad in ("0", "-5"):
        assert main(["infer", "--checkpoint", str(tmp_path / "a.pt"), "--output-dir", str(tmp_path / "o"),
                     "--max-bars", bad]) == 2
        assert f"max_bars = {bad}" in capsys.readouterr().err


def test_semicolon_and_comma_decimal_csv_read_like_the_plain_one(tmp_path, capsys):
    from tradelab.data.sources import load_file

    df = regime_switching_gbm(n_bars=300, seed=4).reset_index()
    df.to_csv(tmp_path / "plain.csv", index=False)
    df.to_csv(tmp_path / "euro.csv", index=False, sep=";", decimal=",")
    df.to_csv(tmp_path / "semi.csv", index=False, sep=";")
    plain = load_file(tmp_path / "plain.csv")
    pd.testing.assert_frame_equal(load_file(tmp_path / "euro.csv"), plain)
    pd.testing.assert_frame_equal(load_file(tmp_path / "semi.csv"), plain)
    assert "semicolon-separated with ',' decimals" in capsys.readouterr().out
    # teeth: a single comma-decimal column in a comma CSV cannot be parsed -> the message says what it found
    bad = df.copy()
    bad["close"] = bad["close"].map(lambda v: f"{v:.4f}".replace(".", ","))
    bad.to_csv(tmp_path / "mixed.csv", index=False, quoting=1)
    with pytest.raises(DataError, match="comma as decimal mark"):
        load_file(tmp_path / "mixed.csv")


def test_multiindex_parquet(tmp_path):
    from tradelab.data.sources import load_file

    df = regime_switching_gbm(n_bars=200, seed=5)
    multi = pd.concat({"SPY": df, "QQQ": df}, names=["ticker"])
    multi.to_parquet(tmp_path / "multi.parquet")
    with pytest.raises(DataError, match="MultiIndex with levels \\['ticker', 'timestamp'\\]"):
        load_file(tmp_path / "multi.parquet")


def test_suspicious_timestamps_warn(tmp_path):
    from tradelab.data.sources import load_file

    df = regime_switching_gbm(n_bars=300, seed=6, freq="h").reset_index()
    ts = df["timestamp"].dt.tz_convert("America/New_York")
    df.assign(timestamp=ts.astype(str)).to_csv(tmp_path / "dst.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a daylight-saving pattern is normal: no warning
        load_file(tmp_path / "dst.csv")
    shuffled = ts.astype(str).str[:-6] + np.where(np.arange(len(ts)) % 2, "+02:00", "-05:00")
    df.assign(timestamp=shuffled).sort_values("timestamp").to_csv(tmp_path / "mixed.csv", index=False)
    with pytest.warns(UserWarning, match="mixed UTC offsets"):
        try:
            load_file(tmp_path / "mixed.csv")
        except DataError:
            pass  # converted times may go out of order; the warning came first
    epochs = df.assign(timestamp=np.arange(len(df)) * 3600)  # hours counted from 0, not a Unix epoch
    epochs.to_csv(tmp_path / "epoch.csv", index=False)
    with pytest.warns(UserWarning, match="outside 1980-2100: epoch numbers in another unit"):
        load_file(tmp_path / "epoch.csv")


def test_notebook_parameter_types_checked_before_running(tmp_path):
    from tradelab.notebooks.runner import run

    with pytest.raises(NotebookError, match="parameter num_episodes = 'abc' \\(str\\) must be a whole number"):
        run("02_sac", {"num_episodes": "abc"}, tmp_path / "nb")
    assert not (tmp_path / "nb").exists() or not any((tmp_path / "nb").iterdir())


def test_python_api_raises_project_errors(tmp_path):
    from tradelab.data.validate import validate_ohlcv
    from tradelab.training.sac_trainer import KaggleTrainer

    df = regime_switching_gbm(n_bars=50, seed=1).astype(object)
    df.iloc[3, df.columns.get_loc("close")] = "12,5"
    with pytest.raises(DataError, match="column 'close' holds a non-numeric value '12,5' at row 3"):
        validate_ohlcv(df, "frame")
    with pytest.raises(ConfigError, match="num_episodes = 'abc' must be a whole number"):
        KaggleTrainer(tmp_path / "x.h5", tmp_path / "o", num_episodes="abc")


def test_json_outputs_are_strict(tmp_path):
    from tradelab.utils import atomic_write_json

    path = atomic_write_json(tmp_path / "m.json", {"a": float("nan"), "b": np.float32("inf"),
                                                  "c": [1.0, np.nan], "d": np.array([np.nan, 2.0])})

    def refuse(name):
        raise ValueError(f"bare {name} in JSON")

    data = json.loads(path.read_text(), parse_constant=refuse)
    assert data == {"a": None, "b": None, "c": [1.0, None], "d": [None, 2.0]}
