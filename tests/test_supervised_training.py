"""Supervised training end to end: artifacts, save/load round trip, clear errors, seeded repeatability."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradelab.errors import CheckpointError
from tradelab.models.hybrid import HEADS, REGIME_HEAD, SIGNAL_HEAD, VOLATILITY_HEAD
from tradelab.results import RunResult

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.slow

TINY = {
    "data_loader_params.time_window": 12,
    "data_loader_params.batch_size": 64,
    "model_params.cnn_filters": [8],
    "model_params.lstm_units": [8],
    "model_params.dense_units": 8,
    "training_params.verbose": 0,
}


def _config(data_dir: Path, save_path: Path, asset: str, **extra):
    from tradelab.config import CONFIG_DIR
    from tradelab.training.supervised import SupervisedConfig

    return SupervisedConfig.from_yaml(CONFIG_DIR / "supervised.yaml", **{
        **TINY, "paths.data_dir": str(data_dir), "paths.save_path": str(save_path),
        "data_loader_params.asset": asset, **extra})


@pytest.fixture(scope="module")
def goog(tmp_path_factory: pytest.TempPathFactory):
    """Embedded GOOG → the real build → a 2-epoch tiny training (artifacts in a .h5-named save path)."""
    from tradelab.data.build import build_processed
    from tradelab.training.supervised import train_supervised

    root = tmp_path_factory.mktemp("sup_goog")
    build_processed(assets=["GOOG"], out_dir=root / "processed")
    cfg = _config(root / "processed", root / "run" / "model.h5", "goog", **{"training_params.epochs": 2})
    metrics, predictor = train_supervised(cfg, return_predictor=True)
    return root, metrics, predictor


def test_smoke_training_writes_every_artifact(goog) -> None:
    from tradelab.models.hybrid_artifacts import ALL_FILES

    root, metrics, _ = goog
    run = root / "run"
    assert metrics["artifact_dir"] == str(run)
    for name in (*ALL_FILES, "model.h5", "predictions_test.csv", "learning_curves.png", "confusion_signal.png",
                 "confusion_regime.png", "volatility_test.png"):
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    assert any((run / "tensorboard").rglob("*tfevents*"))
    saved = RunResult.read(run)
    meta = json.loads((run / "metadata.json").read_text())
    assert saved.meta["data_hash"] == meta["data_content_hash"] and len(meta["data_file_sha256"]) == 64
    assert (saved.workflow, saved.focus, saved.cost(1)) == ("supervised", "morningstar", saved.strategies)
    assert saved.meta["heads"] == {"val": metrics["val"], "test": metrics["test"]}
    for split in ("val", "test"):
        heads = saved.meta["heads"][split]
        assert set(HEADS) <= set(heads)
        assert set(heads[SIGNAL_HEAD]["baselines"]) == {"majority", "previous_class", "logistic_regression"}
        lr_support = heads[SIGNAL_HEAD]["baselines"]["logistic_regression"]["per_class"].values()
        assert sum(c["support"] for c in lr_support) == heads[SIGNAL_HEAD]["n_windows"]  # same windows
        # the signal head traded by its sign rule through the env at 1x costs, beside the references
        trading = saved.strategies if split == "test" else saved.meta["supervised"]["trading"]["val"]
        assert set(trading) == {"morningstar", "logistic_regression", "buy_and_hold", "flat"}
        assert trading["flat"]["sharpe_ratio"] == 0.0 and trading["flat"]["n_trades"] == 0
        assert trading["morningstar"]["n_trades"] > 0
        assert set(heads[SIGNAL_HEAD]["model"]["per_class"]) == {"sell", "hold", "buy"}
        assert {"precision", "recall"} <= set(heads[SIGNAL_HEAD]["model"]["per_class"]["buy"])
        assert "trailing_realised" in heads[VOLATILITY_HEAD]["baselines"]
        # the model and its baselines are scored on the same windows
        n = heads[SIGNAL_HEAD]["n_windows"]
        assert n == heads[REGIME_HEAD]["n_windows"] == heads[VOLATILITY_HEAD]["n_windows"] > 0
        assert sum(c["support"] for c in heads[SIGNAL_HEAD]["baselines"]["majority"]["per_class"].values()) == n
    assert len(json.loads((run / "history.json").read_text())["val_loss"]) == saved.meta["supervised"]["epochs_run"] == 2
    assert "epoch 2:" in (run / "train.log").read_text()


def test_save_load_predictions_equal(goog) -> None:
    from tradelab import load_artifacts
    from tradelab.data import load_asset

    root, _, in_memory = goog
    ohlcv = load_asset("GOOG")
    expected = in_memory.predict(ohlcv)
    loaded = load_artifacts(root / "run").predict(ohlcv)
    pd.testing.assert_index_equal(loaded.index, expected.index)
    np.testing.assert_allclose(loaded.to_numpy(float), expected.to_numpy(float), atol=1e-5)
    # features recomputed from raw OHLCV give the predictions made in training on the parquet's features
    test_preds = pd.read_csv(root / "run" / "predictions_test.csv", index_col=0, parse_dates=True)
    np.testing.assert_allclose(loaded.loc[test_preds.index, "volatility"], test_preds["volatility"], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["model.keras", "scalers.json", "features.json", "labels.json", "config.yaml"])
def test_missing_or_corrupted_artifact_names_the_file(goog, tmp_path: Path, name: str) -> None:
    from tradelab import load_artifacts

    root, _, _ = goog
    for damage in ("missing", "corrupted"):
        folder = tmp_path / damage
        shutil.copytree(root / "run", folder, ignore=shutil.ignore_patterns("tensorboard", "checkpoints"))
        if damage == "missing":
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(b"\x00{not: [valid")
        with pytest.raises(CheckpointError, match=name.replace(".", r"\.")):
            load_artifacts(folder)


def test_resume_continues_from_the_last_epoch(goog, tmp_path: Path) -> None:
    from tradelab.training.supervised import SupervisedConfig, train_supervised

    root, _, _ = goog
    folder = tmp_path / "resumed"
    shutil.copytree(root / "run", folder, ignore=shutil.ignore_patterns("tensorboard"))
    state = json.loads((folder / "checkpoints" / "state.json").read_text())
    assert state["epochs_done"] == 2  # written atomically after every epoch
    cfg = SupervisedConfig.from_yaml(folder / "config.yaml", **{
        "paths.save_path": str(folder), "training_params.epochs": 3, "training_params.resume": True,
        "training_params.make_plots": False, "callback_params.tensorboard": False})
    metrics = train_supervised(cfg)
    history = json.loads((folder / "history.json").read_text())
    assert metrics["epochs_run"] == 3 and len(history["val_loss"]) == 3
    assert history["val_loss"][:2] == json.loads((root / "run" / "history.json").read_text())["val_loss"]
    assert "resumed from" in (folder / "train.log").read_text()


def _cli_run(data_dir: Path, save: Path, seed: int) -> dict:
    """The CLI's metrics.json: per-head metrics by split, plus the best monitored value."""
    from tradelab.cli import main

    rc = main(["train", "supervised", "--asset", "syn", "--data-dir", str(data_dir), "--save_path", str(save),
               "--epochs", "2", "--batch_size", "48", "--lr", "0.003", "--seed", str(seed), "--threads", "1",
               "--time-window", "12", "--verbose", "0",
               "-o", "model_params.cnn_filters", "[8]", "-o", "model_params.lstm_units", "[8]",
               "-o", "callback_params.tensorboard", "false", "-o", "training_params.make_plots", "false"])
    assert rc == 0
    saved = RunResult.read(save)
    return {**saved.meta["heads"], "best_monitor": saved.meta["supervised"]["best_monitor"]}


def test_two_seeded_runs_give_identical_metrics_and_flags_override_yaml(tmp_path: Path) -> None:
    from tradelab.data.build import build_processed
    from tradelab.data.synthetic import regime_switching_gbm

    regime_switching_gbm(n_bars=1300, seed=11).to_csv(tmp_path / "syn.csv")
    data_dir = tmp_path / "processed"
    build_processed(csv=[(str(tmp_path / "syn.csv"), "SYN")], out_dir=data_dir)
    a = _cli_run(data_dir, tmp_path / "a", seed=5)
    b = _cli_run(data_dir, tmp_path / "b", seed=5)
    # unseeded initial weights or shuffling would make these differ
    assert a["val"] == b["val"] and a["test"] == b["test"]
    assert a["best_monitor"] == b["best_monitor"]
    ha = json.loads((tmp_path / "a" / "history.json").read_text())
    assert ha == json.loads((tmp_path / "b" / "history.json").read_text())
    import yaml

    cfg = yaml.safe_load((tmp_path / "a" / "config.yaml").read_text())
    assert cfg["training_params"]["epochs"] == 2 and cfg["data_loader_params"]["batch_size"] == 48
    assert cfg["training_params"]["learning_rate"] == 0.003 and cfg["model_params"]["lstm_units"] == [8]
    from tradelab.config import CONFIG_DIR

    yaml_cfg = yaml.safe_load((CONFIG_DIR / "supervised.yaml").read_text())
    for key in ("early_stopping_patience", "checkpoint_monitor_metric"):  # untouched keys come from the YAML
        assert cfg["callback_params"][key] == yaml_cfg["callback_params"][key]


def test_missing_parquet_is_one_clear_cli_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from tradelab.cli import main

    rc = main(["train", "supervised", "--asset", "goog", "--data-dir", str(tmp_path), "--save_path", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and str(tmp_path / "goog_final.parquet") in err and "tradelab data build" in err


def test_module_entry_point_help() -> None:
    out = subprocess.run([sys.executable, "-m", "tradelab.training.supervised", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--save_path" in out.stdout and "--val_split" in out.stdout
