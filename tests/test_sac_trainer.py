"""KaggleTrainer: output layout, resume == uninterrupted run, a SIGKILLed run resumes, agents 2/3 train."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from tradelab.data.build import build_processed
from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import CheckpointError
from tradelab.results import RunResult
from tradelab.training.sac_trainer import KaggleTrainer, SACTrainingConfig, find_latest_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY = {"sac.hidden_dims": [32, 32], "sac.batch_size": 32, "sac.buffer_capacity": 4000, "env.window": 8}


@pytest.fixture(scope="module")
def h5(tmp_path_factory) -> Path:
    """processed_data.h5 built by tradelab.data from seeded synthetic bars (unit tests only)."""
    root = tmp_path_factory.mktemp("sacdata")
    regime_switching_gbm(n_bars=1200, seed=5).to_parquet(root / "syn.parquet")
    build_processed(csv=[(str(root / "syn.parquet"), "SYN")], out_dir=root)
    return root / "processed_data.h5"


def tiny_config(**overrides) -> SACTrainingConfig:
    return SACTrainingConfig.from_yaml(ROOT / "configs" / "sac.yaml", **(TINY | overrides))


def make_trainer(h5: Path, out: Path, **kw) -> KaggleTrainer:
    args = dict(num_episodes=3, eval_frequency=1, checkpoint_frequency=1, agent_id=1, device="cpu",
                episode_length=48, warmup_steps=32, seed=4, progress=False)
    config = kw.pop("config", None) or tiny_config(final_test=False)
    return KaggleTrainer(h5, out, config=config, **(args | kw))


def test_output_layout_and_final_test_report(h5, tmp_path):
    out = tmp_path / "run"
    trainer = make_trainer(h5, out, config=tiny_config())
    agent, stats = trainer.run_training()
    for name in ("agent_1_best.pt", "agent_1_final.pt", "config.json", "logs/training_stats.json",
                 "logs/training_stats.npz", "plots/training_rewards.png", "plots/training_actor_loss.png",
                 "plots/training_alpha.png", "metrics.json", "equity.csv"):
        assert (out / name).is_file(), name
    for ep in (1, 2, 3):
        assert (out / f"checkpoints/agent_1_ep{ep}.pt").is_file()
        assert json.loads((out / f"checkpoints/metrics_ep{ep}.json").read_text())["episode"] == ep
    assert sorted(p.name for p in (out / "checkpoints").glob("*.buffer.pt")) == ["agent_1_ep3.buffer.pt"]
    assert not list(out.rglob("*.tmp"))
    npz = np.load(out / "logs/training_stats.npz")
    assert npz["episode_reward"].shape == (3,) and np.isfinite(npz["episode_actor_loss"]).all()
    assert list(npz["eval_episode"]) == [1, 2, 3]
    best = torch.load(out / "agent_1_best.pt", weights_only=True)
    assert best["agent_id"] == 1 and best["asset"] == "SYN" and best["scaler"]["columns"] == best["feature_names"]
    assert best["scaler"]["n_train_rows"] == len(trainer.data.features["train"].dropna())  # fitted on train only
    assert stats["best_val_sharpe"] == max(stats["eval"]["sharpe_ratio"])
    result = RunResult.read(out)
    assert {"sac_agent_1", "buy_and_hold", "flat", "sma_crossover"} <= set(result.strategies)
    assert (result.workflow, result.focus, result.asset, result.meta["split"]) == ("sac", "sac_agent_1", "SYN", "test")
    assert result.meta["data_hash"] == trainer.data.metadata.get("content_hash") and result.meta["data_hash"]
    assert result.meta["training"]["episodes"] == 3 and result.meta["stopped_early"] is False
    assert result.meta["period"]["n_bars"] == len(trainer.data.frames["test"])
    assert stats["test"]["by_cost"] == result.by_cost  # the trainer's in-memory stats keep the flat copy


def test_seed_guide_snippet_loads_best(h5, tmp_path):
    from tradelab import KaggleTrainer as PublicTrainer
    from tradelab import SACAgent, SACConfig, TradingEnvConfig, TradingEnvironment

    trainer = make_trainer(h5, tmp_path / "snip", num_episodes=1)
    assert isinstance(trainer, PublicTrainer)
    trained, _ = trainer.run_training()
    state_dim = trained.config.state_dim
    agent = SACAgent(config=SACConfig(state_dim=state_dim, action_dim=1, hidden_dims=[32, 32]), agent_id=1)
    agent.load(tmp_path / "snip" / "agent_1_best.pt")
    frame = trainer.data.frames["test"]
    env = TradingEnvironment(frame, agent.prepare_features(frame, trainer.data.features["test"]),
                             TradingEnvConfig.from_dict(agent.spec["env_config"]), eval_mode=True)
    state, _ = env.reset()
    action = agent.select_action(state, evaluate=True)
    assert action.shape == (1,) and np.array_equal(action, trained.select_action(state, evaluate=True))


def test_resume_equals_uninterrupted_run(h5, tmp_path):
    """Seeded: 4 episodes in one go == 2 episodes + resume for 2 more (bit-exact on CPU; atol 1e-6 stated)."""
    full, full_stats = make_trainer(h5, tmp_path / "full", num_episodes=4, checkpoint_frequency=2).run_training()
    make_trainer(h5, tmp_path / "half", num_episodes=2, checkpoint_frequency=2).run_training()
    ckpt = tmp_path / "half/checkpoints/agent_1_ep2.pt"
    resumed, stats = make_trainer(h5, tmp_path / "half", num_episodes=4, checkpoint_frequency=2,
                                  resume_from=ckpt).run_training()
    assert stats["episodes"]["episode"] == [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_allclose(stats["episodes"]["reward"], full_stats["episodes"]["reward"], atol=1e-6)
    for a, b in zip(full.model.actor.state_dict().values(), resumed.model.actor.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)
    assert resumed.model.num_timesteps == full.model.num_timesteps == 4 * 48
    assert resumed.model.log_ent_coef.item() == pytest.approx(full.model.log_ent_coef.item(), abs=1e-6)


@pytest.mark.parametrize("agent_id", [2, 3])
def test_agents_2_and_3_train(h5, tmp_path, agent_id):
    agent, stats = make_trainer(h5, tmp_path / f"a{agent_id}", num_episodes=2, agent_id=agent_id).run_training()
    ckpt = torch.load(tmp_path / f"a{agent_id}/agent_{agent_id}_final.pt", weights_only=True)
    assert ckpt["agent_variant"] == {2: "sac_aux", 3: "sac_regime"}[agent_id]
    if agent_id == 2:
        assert np.isfinite(stats["episodes"]["aux_loss"]).all()
    else:
        assert len(ckpt["hmm"]["startprob"]) == 3  # HMM travels with the agent
        n_feat = len(ckpt["feature_names"])
        assert agent.config.state_dim == 8 * (n_feat + 3) + 4  # window × (features + regime probs) + state


def test_resume_from_folder_or_glob_picks_latest(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for ep in (2, 10, 4):
        (folder / f"agent_1_ep{ep}.pt").write_bytes(b"")
    assert find_latest_checkpoint(tmp_path, 1).name == "agent_1_ep10.pt"
    assert find_latest_checkpoint(str(tmp_path / "*/agent_1_ep*.pt"), 1).name == "agent_1_ep10.pt"
    with pytest.raises(CheckpointError, match="agent_2"):
        find_latest_checkpoint(tmp_path, 2)


@pytest.mark.slow
def test_sigkilled_cli_run_resumes(h5, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "tradelab.cli", "train", "sac", "--h5-path", str(h5), "--output-dir", str(out),
           "--num-episodes", "200", "--eval-frequency", "50", "--checkpoint-frequency", "1", "--agent-id", "1",
           "--device", "cpu", "--episode-length", "48", "--warmup-steps", "32", "--seed", "4", "--no-progress"]
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("sac: {hidden_dims: [32, 32], batch_size: 32, buffer_capacity: 20000}\nenv: {window: 8}\n"
                   "final_test: false\n")
    env = os.environ | {"OMP_NUM_THREADS": "1", "TRADELAB_THREADS": "1"}
    proc = subprocess.Popen([*cmd, "--config", str(cfg)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 90
    while time.time() < deadline and not (out / "checkpoints/agent_1_ep2.pt").exists():
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    last = find_latest_checkpoint(out, 1)
    done = int(last.stem.split("_ep")[1])
    assert done >= 2 and not (out / "agent_1_final.pt").exists()
    torch.load(last, weights_only=True)  # the newest checkpoint is whole (atomic write)
    cmd[cmd.index("--num-episodes") + 1] = str(done + 1)
    run = subprocess.run([*cmd, "--config", str(cfg), "--resume", str(out)], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"resumed from {last}" in run.stdout
    stats = json.loads((out / "logs/training_stats.json").read_text())
    assert stats["episodes"]["episode"] == [float(e) for e in range(1, done + 2)]


def test_cli_bad_input_is_one_clear_error(h5, tmp_path, capsys):
    from tradelab.cli import main

    base = ["train", "sac", "--output-dir", str(tmp_path / "x"), "--device", "cpu", "--no-progress"]
    assert main([*base, "--h5-path", str(tmp_path / "missing.h5")]) == 2
    assert "missing.h5" in capsys.readouterr().err
    assert main([*base, "--h5-path", str(h5), "--asset", "NOPE"]) == 2
    assert "'NOPE' is not in the file; it holds ['SYN']" in capsys.readouterr().err
    assert main([*base, "--h5-path", str(h5), "--resume", str(tmp_path / "nothing_here")]) == 2
    assert "no checkpoints/agent_1_ep<N>.pt" in capsys.readouterr().err


def test_kaggle_script_takes_the_cli_flags(capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_sac_kaggle", ROOT / "kaggle" / "train_sac_kaggle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--h5-path", "--output-dir", "--num-episodes", "--eval-frequency", "--checkpoint-frequency",
                 "--agent-id", "--device", "--asset", "--episode-length", "--warmup-steps", "--seed", "--resume",
                 "--config", "--threads"):
        assert flag in text, flag
    flat = " ".join(text.split())  # help lines wrap anywhere
    assert "(default: 100)" in flat and "(default: auto)" in flat
