"""Local inference from a SAC .pt copied ALONE into an empty folder (tiny real KaggleTrainer run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from tradelab.cli import main as cli_main
from tradelab.errors import CheckpointError
from tradelab.inference import load_checkpoint, run_inference

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
    metrics = run_inference(trained["ckpt"], out, h5_path=trained["h5"], split="test")
    assert {"sac_agent_1", "buy_and_hold", "flat", "sma_crossover", "by_cost"} <= set(metrics)
    assert metrics["inference"]["asset"] == "GOOG" and metrics["inference"]["source"].endswith("test/GOOG")
    equity = pd.read_csv(out / "equity.csv", index_col=0)
    actions = pd.read_csv(out / "actions.csv", index_col=0)
    assert {"sac_agent_1", "buy_and_hold"} <= set(equity.columns)
    assert len(actions) > 100 and actions["action"].between(-1, 1).all()
    assert list(out.glob("*.png")), "plots vs buy-and-hold"
    # the trainer's own test report (same bars, same agent) gives the same figures
    trainer = json.loads((trained["run"] / "metrics.json").read_text())
    assert metrics["sac_agent_1"]["total_return"] == pytest.approx(trainer["sac_agent_1"]["total_return"], abs=1e-9)
    # deterministic: a second run writes the same equity curve
    again = tmp_path / "again"
    run_inference(trained["ckpt"], again, h5_path=trained["h5"], split="test")
    pd.testing.assert_frame_equal(equity, pd.read_csv(again / "equity.csv", index_col=0))


def test_new_csv_the_agent_never_saw(trained, tmp_path):
    from tradelab.data.synthetic import regime_switching_gbm

    csv = tmp_path / "NEW.csv"
    regime_switching_gbm(n_bars=700, seed=11).to_csv(csv)
    metrics = run_inference(trained["ckpt"], tmp_path / "out", csv_path=csv)
    assert metrics["inference"]["source"] == f"csv:{csv}" and metrics["inference"]["asset"] == "NEW"
    assert metrics["inference"]["n_bars"] < 700  # warm-up rows dropped, never back-filled
    assert (tmp_path / "out" / "actions.csv").is_file()


def test_feature_mismatch_is_one_clear_error(trained, tmp_path):
    ckpt = torch.load(trained["ckpt"], weights_only=True)
    ckpt["feature_names"] = ["feature_from_another_version", *ckpt["feature_names"][1:]]
    bad = tmp_path / "agent_1_best.pt"
    torch.save(ckpt, bad)
    with pytest.raises(CheckpointError, match="feature set does not match .*feature_from_another_version"):
        run_inference(bad, tmp_path / "out", h5_path=trained["h5"])


def test_missing_corrupted_and_foreign_files(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint not found"):
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
