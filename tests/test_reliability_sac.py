"""Issue 12 item 4 + issue 13 item 3 + issue 14 item 4 for SAC: auto-resume, --fresh, best kept, identity, lock,
max_runtime."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import lock_held_by_another_process

from tradelab.data.build import build_processed
from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import CheckpointError
from tradelab.results import RunResult
from tradelab.training.sac_trainer import KaggleTrainer, SACTrainingConfig
from tradelab.utils import file_sha256
from tradelab.utils.lock import RunLockedError, run_lock

ROOT = Path(__file__).resolve().parents[1]
TINY = {"sac.hidden_dims": [16, 16], "sac.batch_size": 16, "sac.buffer_capacity": 2000, "env.window": 8,
        "final_test": False}


@pytest.fixture(scope="module")
def h5(tmp_path_factory) -> Path:
    """Two synthetic assets (unit tests only) in one processed_data.h5."""
    root = tmp_path_factory.mktemp("reldata")
    csv = []
    for i, name in enumerate(("AAA", "BBB")):
        regime_switching_gbm(n_bars=1100, seed=20 + i).to_parquet(root / f"{name}.parquet")
        csv.append((str(root / f"{name}.parquet"), name))
    build_processed(csv=csv, out_dir=root)
    return root / "processed_data.h5"


def trainer(h5: Path, out: Path, **kw) -> KaggleTrainer:
    args = dict(num_episodes=2, eval_frequency=1, checkpoint_frequency=1, agent_id=1, device="cpu",
                episode_length=32, warmup_steps=16, seed=4, progress=False, asset="AAA")
    return KaggleTrainer(h5, out, config=SACTrainingConfig.from_yaml(ROOT / "configs" / "sac.yaml", **TINY),
                         **(args | kw))


def test_seed_recipe_continues_and_fresh_starts_over(h5, tmp_path, capsys):
    from tradelab.agents.sac import SACAgent

    out = tmp_path / "run"
    trainer(h5, out, num_episodes=2).run_training()
    # The seed's recipe: load the checkpoint, then run_training() -> continues, does not retrain from 1.
    agent = SACAgent.from_checkpoint(out / "checkpoints" / "agent_1_ep2.pt", device="cpu")
    assert agent.episodes_done == 2
    orphan = out / "checkpoints" / ".agent_1_ep3.buffer.pt.k1ll3d00.tmp"  # a replay-buffer write cut by SIGKILL
    orphan.write_bytes(b"\0" * 100_000)
    _, stats = trainer(h5, out, num_episodes=3).run_training()
    printed = capsys.readouterr().out
    assert "resuming from the newest, agent_1_ep2.pt" in printed
    assert not orphan.exists() and "removed 1 temp file(s) (0.1 MB)" in printed
    assert stats["episodes"]["episode"] == [1.0, 2.0, 3.0]
    # fresh=True starts over from episode 1 and drops the old checkpoints.
    _, stats = trainer(h5, out, num_episodes=1, fresh=True).run_training()
    assert stats["episodes"]["episode"] == [1.0]
    assert sorted(p.name for p in (out / "checkpoints").glob("*.pt")) == ["agent_1_ep1.buffer.pt", "agent_1_ep1.pt"]


def _best(out: Path) -> float:
    import torch

    return torch.load(out / "agent_1_best.pt", weights_only=True)["extra"]["stats"]["best_val_sharpe"]


def test_better_best_never_replaced_across_runs(h5, tmp_path):
    runs = {s: trainer(h5, tmp_path / f"s{s}", seed=s).run_training()[1]["best_val_sharpe"] for s in (4, 5, 6)}
    good, bad = max(runs, key=runs.get), min(runs, key=runs.get)
    if runs[good] == runs[bad]:
        pytest.skip("all seeds reached the same validation Sharpe; nothing to order")
    out = tmp_path / "shared"
    out.mkdir()
    (out / "agent_1_best.pt").write_bytes((tmp_path / f"s{good}" / "agent_1_best.pt").read_bytes())
    sha = file_sha256(out / "agent_1_best.pt")
    _, stats = trainer(h5, out, seed=bad, fresh=True).run_training()
    assert stats["best_val_sharpe"] == pytest.approx(runs[bad])  # the worse run...
    assert file_sha256(out / "agent_1_best.pt") == sha  # ...did not replace the better agent
    assert _best(out) == pytest.approx(runs[good])
    # Teeth: into a folder whose best is the worse one, the better run does replace it.
    out2 = tmp_path / "shared2"
    out2.mkdir()
    (out2 / "agent_1_best.pt").write_bytes((tmp_path / f"s{bad}" / "agent_1_best.pt").read_bytes())
    trainer(h5, out2, seed=good, fresh=True).run_training()
    assert _best(out2) == pytest.approx(runs[good])


def test_resume_refuses_another_runs_checkpoint(h5, tmp_path):
    out = tmp_path / "goog"
    trainer(h5, out, num_episodes=1).run_training()
    ckpt = out / "checkpoints" / "agent_1_ep1.pt"
    with pytest.raises(CheckpointError, match="asset: 'AAA' there, 'BBB' in this run"):
        trainer(h5, tmp_path / "spx", asset="BBB", resume_from=ckpt).run_training()
    with pytest.raises(CheckpointError, match="seed: 4 there, 9 in this run.*--fresh"):
        trainer(h5, out, seed=9).run_training()  # auto-resume of another seed's folder is refused
    assert not (tmp_path / "spx" / "agent_1_best.pt").exists()
    # --fresh with another asset: the old asset's best agent is set aside, not compared or overwritten.
    trainer(h5, out, num_episodes=1, asset="BBB", fresh=True).run_training()
    import torch

    assert torch.load(out / "agent_1_best.previous.pt", weights_only=True)["asset"] == "AAA"
    assert torch.load(out / "agent_1_best.pt", weights_only=True)["asset"] == "BBB"


def test_run_lock_names_holder_and_stale_lock_is_taken_over(h5, tmp_path, capsys):
    from tradelab.cli import main

    out = tmp_path / "locked"
    with lock_held_by_another_process(out, "test holder") as proc:
        with pytest.raises(RunLockedError, match=rf"pid {proc.pid} on .*started 20"):
            with run_lock(out):
                pass
        rc = main(["train", "sac", "--h5-path", str(h5), "--output-dir", str(out), "--num-episodes", "1",
                   "--device", "cpu", "--no-progress", "--asset", "AAA"])
        assert rc == 2 and f"in use by another test holder: pid {proc.pid}" in capsys.readouterr().err
    with run_lock(out):  # the holder died by SIGKILL: its lock is taken over, and said so
        pass
    assert f"stale lock of {out} (pid {proc.pid}" in capsys.readouterr().out


def test_max_runtime_stops_with_checkpoint_and_next_run_continues(h5, tmp_path):
    out = tmp_path / "timed"
    t0 = time.monotonic()
    _, stats = trainer(h5, out, num_episodes=4, checkpoint_frequency=3, max_runtime="0.001s").run_training()
    assert time.monotonic() - t0 < 60
    assert stats["stopped_early"] and stats["episodes"]["episode"] == [1.0]
    assert (out / "checkpoints" / "agent_1_ep1.pt").is_file() and not (out / "agent_1_final.pt").exists()
    stopped = RunResult.read(out)
    assert stopped.meta["stopped_early"] is True and stopped.strategies == {} and stopped.workflow == "sac"
    _, stats = trainer(h5, out, num_episodes=4, checkpoint_frequency=3, max_runtime="off").run_training()
    assert stats["episodes"]["episode"] == [1.0, 2.0, 3.0, 4.0] and not stats["stopped_early"]
    assert (out / "agent_1_final.pt").is_file()


@pytest.mark.slow
def test_notebook_stopped_by_max_runtime_completes_and_run_again_continues(h5, tmp_path):
    """What a Kaggle kernel does at the 11-hour mark: the notebook ends cleanly, the next one continues."""
    import yaml

    from tradelab.notebooks import run

    cfg = yaml.safe_load((ROOT / "configs" / "sac.yaml").read_text())
    (tmp_path / "timed.yaml").write_text(yaml.safe_dump({**cfg, "max_runtime": "0.001s"}))
    params = {"h5_path": str(h5), "asset": "AAA", "smoke": True, "num_episodes": 2, "eval_frequency": 1,
              "checkpoint_frequency": 2, "episode_length": 32, "warmup_steps": 16, "device": "cpu",
              "config": str(tmp_path / "timed.yaml")}
    result = run("02_sac", params, tmp_path / "nb", progress_bar=False)  # raises NotebookError if a cell fails
    assert result.result.meta["stopped_early"] is True and result.result.meta["training"]["episodes"] == 1
    assert (tmp_path / "nb" / "checkpoints" / "agent_1_ep1.pt").is_file()
    result = run("02_sac", {**params, "config": None}, tmp_path / "nb", progress_bar=False)
    meta = result.result.meta
    assert meta["stopped_early"] is False and meta["training"]["episodes"] == 2  # smoke: <= 2
    assert "buy_and_hold" in result.result.strategies
