"""SAC speed on this machine: env steps/s, gradient updates/s, one 3000-step episode, learning curve.

Runs on the embedded EURUSD hourly data (processed in a temp folder). Prints each measured figure
beside its reference: plain SB3 SAC 256×256 with one gradient step per env step (measured in the
same run, and ≈ 45 env steps/s as recorded in issue 5) and the target of ≤ 60 s per 3000-step
episode. Then a short KaggleTrainer run reports the learning curve (train reward, val Sharpe).

    .venv/bin/python benchmarks/sac.py [--device cpu] [--episode-length 3000] [--curve-episodes 6]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

ISSUE_REFERENCE_STEPS_PER_S = 45.0  # plain SB3 SAC 256x256, 1 gradient step per env step (issue 5)
TARGET_S_PER_EPISODE = 60.0


class Timer:
    """Wall and process-CPU seconds; with one thread CPU time ≈ the wall time on an idle machine."""

    def __enter__(self) -> Timer:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.w0, time.process_time() - self.c0

    def rate(self, n: int) -> tuple[float, float]:
        return n / self.wall, n / self.cpu

    def __str__(self) -> str:
        return f"{self.wall:6.1f} s wall / {self.cpu:6.1f} s CPU"


def _env(h5: Path, split: str = "train", eval_mode: bool = False, length: int = 3000):
    from tradelab.agents.sac_data import build_spec, load_split_data, prepare_features
    from tradelab.envs.config import TradingEnvConfig
    from tradelab.envs.trading_env import TradingEnvironment

    data = load_split_data(h5)
    cfg = TradingEnvConfig(episode_lengths=(length,))
    spec = build_spec(data, 1, cfg.to_dict())
    feats = prepare_features(data.frames[split], data.features[split], spec)
    return TradingEnvironment(data.frames[split], feats, cfg, eval_mode=eval_mode)


def bench_env(h5: Path, steps: int = 3000) -> tuple[float, float]:
    env = _env(h5)
    env.reset(seed=0)
    with Timer() as t:
        for _ in range(steps):
            _, _, term, trunc, _ = env.step(env.action_space.sample())
            if term or trunc:
                env.reset()
    return t.rate(steps)


def bench_reference(h5: Path, device: str, steps: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Plain SB3 SAC (train_freq=1, gradient_steps=1): env steps/s while learning, updates/s."""
    from stable_baselines3 import SAC

    model = SAC("MlpPolicy", _env(h5), policy_kwargs={"net_arch": [256, 256]}, batch_size=256,
                learning_starts=1000, buffer_size=20_000, device=device, seed=0)
    model.learn(1000)  # warm-up only (no updates)
    with Timer() as learn:
        model.learn(steps, reset_num_timesteps=False)
    with Timer() as train:
        model.train(gradient_steps=steps, batch_size=256)
    return learn.rate(steps), train.rate(steps)


def bench_default_episode(h5: Path, device: str, length: int) -> tuple[Timer, dict]:
    """Wall time of one training episode with configs/sac.yaml (after the warm-up phase)."""
    from tradelab.agents.sac import SACAgent
    from tradelab.training.sac_trainer import DEFAULT_CONFIG, SACTrainingConfig

    cfg = SACTrainingConfig.from_yaml(DEFAULT_CONFIG).sac.replace(device=device)
    agent = SACAgent(cfg, agent_id=1, env=_env(h5, length=length))
    agent.model.learn(cfg.warmup_steps)  # random warm-up, no updates
    with Timer() as t:
        agent.model.learn(length, reset_num_timesteps=False)
    return t, {"train_freq": cfg.train_freq, "gradient_steps": cfg.gradient_steps, "batch_size": cfg.batch_size,
                  "updates": agent.model._n_updates}


def learning_curve(h5: Path, out: Path, device: str, episodes: int, length: int) -> dict:
    from tradelab.training.sac_trainer import KaggleTrainer

    trainer = KaggleTrainer(h5, out, num_episodes=episodes, eval_frequency=1, checkpoint_frequency=episodes,
                            agent_id=1, device=device, episode_length=length, warmup_steps=length, seed=0)
    _, stats = trainer.run_training()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--episode-length", type=int, default=3000)
    parser.add_argument("--reference-steps", type=int, default=500)
    parser.add_argument("--curve-episodes", type=int, default=6)
    parser.add_argument("--curve-length", type=int, default=1000)
    args = parser.parse_args()

    from tradelab.data.build import build_processed
    from tradelab.utils import resolve_device, set_threads
    from tradelab.utils.tensorboard import skip_tensorflow

    skip_tensorflow()  # this script is an entry point: SB3's TensorBoard writer without all of TensorFlow

    set_threads(1)
    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        build_processed(assets=["EURUSD"], out_dir=tmp)
        h5 = Path(tmp) / "processed_data.h5"
        print(f"device: {device}; torch threads 1; data: embedded EURUSD hourly (train split)")
        obs_dim = _env(h5).observation_space.shape[0]
        print(f"observation size {obs_dim}; figures are 'wall (CPU)': CPU time ~ wall on an idle machine")
        env_w, env_c = bench_env(h5)
        print(f"env steps/s (random actions, no agent):             {env_w:8.0f} ({env_c:.0f})")
        (ref_w, ref_c), (ups_w, ups_c) = bench_reference(h5, device, args.reference_steps)
        print(f"plain SB3 SAC 256x256, 1 update/step: env steps/s  {ref_w:8.1f} ({ref_c:.1f})   "
              f"reference ~{ISSUE_REFERENCE_STEPS_PER_S:.0f} (issue 5)")
        print(f"gradient updates/s (batch 256, 256x256):            {ups_w:8.1f} ({ups_c:.1f})")
        print(f"  -> plain SB3 SAC, one {args.episode_length}-step episode: {args.episode_length / ref_w:7.1f} s "
              f"({args.episode_length / ref_c:.1f} s CPU)   target <= {TARGET_S_PER_EPISODE:.0f} s")
        t, info = bench_default_episode(h5, device, args.episode_length)
        print(f"tradelab default {info}:")
        print(f"  -> one {args.episode_length}-step episode: {t}   target <= {TARGET_S_PER_EPISODE:.0f} s")
        if args.curve_episodes:
            stats = learning_curve(h5, Path(tmp) / "curve", device, args.curve_episodes, args.curve_length)
            ep, ev = stats["episodes"], stats["eval"]
            print(f"learning curve ({args.curve_episodes} episodes x {args.curve_length} steps, warm-up "
                  f"{args.curve_length}; val = whole val split, deterministic):")
            print("  episode  train_reward  actor_loss  critic_loss  alpha   val_sharpe  val_return  s/episode")
            for i, e in enumerate(ep["episode"]):
                print(f"  {int(e):7d}  {ep['reward'][i]:12.1f}  {ep['actor_loss'][i]:10.3f}  "
                      f"{ep['critic_loss'][i]:11.2f}  {ep['alpha'][i]:.4f}  {ev['sharpe_ratio'][i]:10.2f}  "
                      f"{ev['total_return'][i]:10.3f}  {ep['wall_s'][i]:9.1f}")
            from tradelab.results import RunResult

            test = RunResult.read(Path(tmp) / "curve").strategies
            print("  test split (1x costs) Sharpe: " + ", ".join(f"{k}={v['sharpe_ratio']:.2f}" for k, v in test.items()))
    print("note: 2 shared CPU cores, other jobs running: timings are noisy.")


if __name__ == "__main__":
    main()
