"""Local inference from a SAC .pt copied ALONE into an empty folder (tiny real KaggleTrainer run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from tradelab.cli import main as cli_main
from tradelab.errors import CheckpointError, DataError
from tradelab.inference import load_checkpoint, run_inference
from tradelab.results import RunResult

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """Embedded GOOG → processed h5 → 2 tiny SAC episodes → agent_1_best.pt copied alone."""
    from tradelab.data.build import build_processed
    from tradelab.training.sac_trainer import DEFAULT_CONFIG, KaggleTrainer, SACTrainingConfig

    root = tmp_path_factory.mktemp("sac")
    h5 = Path(build_processed(assets=["GOOG"], out_dir=root / "processed")["h5"])
    cfg = SACTrainingConfig.from_yaml(DEFAULT_CONFIG)
    cfg = cfg.replace(save_replay_buffer=False, sac={**cfg.sac.to_dict(), "hidden_dims": [32, 32], "batch_size": 32})
    KaggleTrainer(h5, root / "run", num_episodes=2, eval_frequency=1, checkpoint_frequency=2, episode_length=64,
                  warmup_steps=32, device="cpu", seed=0, config=cfg, progress=False).run_training()
    lone = root / "downloaded" / "agent_1_best.pt"
    lone.parent.mkdir()
    shutil.copy(root / "run" / "agent_1_best.pt", lone)
    assert [p.name for p in lone.parent.iterdir()] == ["agent_1_best.pt"]
    return {"h5": h5, "ckpt": lone, "run": root / "run"}


def test_lone_checkpoint_backtests_test_split(trained, tmp_path):
    out = tmp_path / "infer"
    result = run_inference(trained["ckpt"], out, h5_path=trained["h5"], split="test")
    assert result == RunResult.read(out) and {"sac_agent_1", "buy_and_hold", "flat", "sma_crossover"} <= set(result.strategies)
    metrics = result.meta
    assert metrics["inference"]["asset"] == "GOOG" and metrics["inference"]["source"].endswith("test/GOOG")
    assert (result.workflow, result.asset, metrics["split"], result.focus) == ("inference", "GOOG", "test", "sac_agent_1")
    equity = pd.read_csv(out / "equity.csv", index_col=0)
    actions = pd.read_csv(out / "actions.csv", index_col=0)
    assert {"sac_agent_1", "buy_and_hold"} <= set(equity.columns)
    assert len(actions) > 100 and actions["action"].between(-1, 1).all()
    assert list(out.glob("*.png")), "plots vs buy-and-hold"
    # the trainer's own test report (same bars, same agent) gives the same figures
    trainer = RunResult.read(trained["run"])
    assert result.agent["total_return"] == pytest.approx(trainer.agent["total_return"], abs=1e-9)
    assert metrics["data_hash"] == trainer.meta["data_hash"] and metrics["period"] == trainer.meta["period"]
    # deterministic: a second run writes the same equity curve
    again = tmp_path / "again"
    run_inference(trained["ckpt"], again, h5_path=trained["h5"], split="test")
    pd.testing.assert_frame_equal(equity, pd.read_csv(again / "equity.csv", index_col=0))


def test_new_csv_the_agent_never_saw(trained, tmp_path):
    from tradelab.data.synthetic import regime_switching_gbm

    csv = tmp_path / "NEW.csv"
    regime_switching_gbm(n_bars=700, seed=11).to_csv(csv)
    metrics = run_inference(trained["ckpt"], tmp_path / "out", csv_path=csv).meta
    assert metrics["data_hash"] is None and metrics["split"] is None
    assert metrics["inference"]["source"] == f"csv:{csv}" and metrics["inference"]["asset"] == "NEW"
    assert metrics["inference"]["n_bars"] < 700  # warm-up rows dropped, never back-filled
    assert (tmp_path / "out" / "actions.csv").is_file()


def test_another_market_is_a_choice_never_a_fallback(trained, tmp_path):
    """Issue 16 item 4: no silent switch to the h5's first asset; another asset or bar frequency needs the flag."""
    from tradelab.data.build import build_processed
    from tradelab.data.synthetic import regime_switching_gbm

    raw = tmp_path / "OTHER.parquet"
    regime_switching_gbm(n_bars=1300, seed=12).to_parquet(raw)
    h5 = build_processed(csv=[(str(raw), "OTHER")], out_dir=tmp_path / "p")["h5"]
    with pytest.raises(DataError, match=r"does not hold GOOG, the asset the agent was trained on.*allow_other_market"):
        run_inference(trained["ckpt"], tmp_path / "o1", h5_path=h5)
    with pytest.raises(DataError, match=r"would trade asset OTHER \(trained on GOOG\).*allow_other_market = True"):
        run_inference(trained["ckpt"], tmp_path / "o2", h5_path=h5, asset="OTHER")
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
    hourly = tmp_path / "HOURLY.csv"
    bars = regime_switching_gbm(n_bars=700, seed=13)
    bars.index = pd.date_range("2020-01-06", periods=len(bars), freq="h", tz="UTC", name="timestamp")
    bars.to_csv(hourly)
    with pytest.raises(DataError, match=r"hourly bars \(trained on daily\)"):
        run_inference(trained["ckpt"], tmp_path / "o3", csv_path=hourly)
    metrics = run_inference(trained["ckpt"], tmp_path / "o4", h5_path=h5, asset="OTHER", allow_other_market=True,
                            max_bars=60).meta
    info = metrics["inference"]
    assert info["asset"] == "OTHER" and info["trained_on"] == "GOOG" and info["allow_other_market"] is True
    assert load_checkpoint(trained["ckpt"])["frequency"] == "daily"


def test_feature_mismatch_is_one_clear_error(trained, tmp_path):
    ckpt = torch.load(trained["ckpt"], weights_only=True)
    ckpt["feature_names"] = ["feature_from_another_version", *ckpt["feature_names"][1:]]
    bad = tmp_path / "agent_1_best.pt"
    torch.save(ckpt, bad)
    with pytest.raises(CheckpointError, match="feature set does not match .*feature_from_another_version"):
        run_inference(bad, tmp_path / "out", h5_path=trained["h5"])


def test_missing_corrupted_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match=r"checkpoint not found.*02_sac.ipynb.*tradelab train sac"):
        load_checkpoint(tmp_path / "nope.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a weights-only tradelab SAC checkpoint"):
        load_checkpoint(junk)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, foreign)
    with pytest.raises(CheckpointError, match=r"missing field\(s\)"):
        load_checkpoint(foreign)


def test_cli_infer(trained, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = cli_main(["infer", "--checkpoint", str(trained["ckpt"]), "--h5-path", str(trained["h5"]),
                   "--split", "val", "--output-dir", str(out)])
    text = capsys.readouterr().out
    assert rc == 0 and "buy_and_hold" in text and "val/GOOG" in text
    assert {"metrics.json", "equity.csv", "actions.csv"} <= {p.name for p in out.iterdir()}
    rc = cli_main(["infer", "--checkpoint", str(tmp_path / "missing.pt"), "--h5-path", str(trained["h5"]),
                   "--output-dir", str(out)])
    assert rc == 2 and "checkpoint not found" in capsys.readouterr().err
