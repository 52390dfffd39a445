"""PPO V3 training throughput: the batched VecEnv vs SB3's DummyVecEnv, in the same run.

Both runs train SB3 PPO with the V3 network (separate pi/vf MLPs 1024-512-256, tanh) on the
PortfolioEnv over the embedded daily SPX, NDX and GOOG (full V3 cost model, train split, scalers
fitted on train), n_envs = 4, and report steps/s of ``model.learn`` (rollouts + updates) and of the
rollout phase alone. The reference is the figure measured for the issue on this kind of CPU: SB3 PPO
with the same net on a DummyVecEnv of 4 gym-anytrading envs ≈ 245 steps/s; target ≥ 300 steps/s.

    .venv/bin/python benchmarks/ppo.py [--timesteps 2048] [--n-steps 512] [--n-epochs 10] [--repeats 2]
        [--threads 1 2]

Timings on a shared machine are noisy; the figures are printed, never hard-coded.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tradelab.utils.tensorboard import skip_tensorflow  # noqa: E402

skip_tensorflow()  # this script is an entry point: SB3's TensorBoard writer without all of TensorFlow

from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402

from tradelab.config import CONFIG_DIR  # noqa: E402
from tradelab.training.multiasset import prepare_data  # noqa: E402
from tradelab.training.ppo import PPOV3Config, build_model, make_train_env  # noqa: E402
from tradelab.utils import set_threads  # noqa: E402

REFERENCE_STEPS_S = 245.0  # SB3 PPO 1024-512-256, DummyVecEnv of 4 gym-anytrading envs (issue 6)
TARGET_STEPS_S = 300.0


class RolloutTimer(BaseCallback):
    """Wall time spent collecting rollouts (between rollout start and end)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.seconds, self._t0 = 0.0, 0.0

    def _on_rollout_start(self) -> None:
        self._t0 = time.perf_counter()

    def _on_rollout_end(self) -> None:
        self.seconds += time.perf_counter() - self._t0

    def _on_step(self) -> bool:
        return True


def measure(kind: str, cfg: PPOV3Config, prepared, timesteps: int) -> dict[str, float]:
    env = make_train_env(cfg, prepared.split("train"), kind=kind)
    model = build_model(cfg, env)
    model.learn(total_timesteps=cfg.ppo.n_steps * cfg.training.n_envs)  # warm-up rollout + update
    timer = RolloutTimer()
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps, callback=timer, reset_num_timesteps=True)
    wall = time.perf_counter() - start
    steps = model.num_timesteps
    env.close()
    return {"obs_dim": float(env.observation_space.shape[0]), "steps": steps, "learn_steps_s": steps / wall, "rollout_steps_s": steps / max(timer.seconds, 1e-9),
            "wall_s": wall}


def env_only(kind: str, cfg: PPOV3Config, prepared, steps: int = 2000) -> float:
    """Vec-env steps/s with random actions (no network): the env's own share of the cost."""
    import numpy as np

    env = make_train_env(cfg, prepared.split("train"), kind=kind)
    env.reset()
    rng = np.random.default_rng(0)
    n = env.num_envs
    start = time.perf_counter()
    for _ in range(steps // n):
        env.step(rng.uniform(-1, 1, (n, *env.action_space.shape)).astype(np.float32))
    seconds = time.perf_counter() - start
    env.close()
    return (steps // n) * n / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timesteps", type=int, default=2048)
    parser.add_argument("--n-steps", type=int, default=512, help="rollout length per env")
    parser.add_argument("--n-epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="torch thread counts to measure side by side (e.g. 1 2); tradelab's default is 1")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs per kind; the best is kept")
    args = parser.parse_args()
    for threads in args.threads:
        run(args, threads)


def run(args: argparse.Namespace, threads: int) -> None:
    """One table (both vec envs) with ``threads`` torch threads."""
    set_threads(threads)
    cfg = PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml", **{
        "ppo.n_steps": args.n_steps, "ppo.n_epochs": args.n_epochs, "ppo.batch_size": args.batch_size,
        "training.n_envs": args.n_envs, "training.device": "cpu", "training.threads": threads})
    d = cfg.data
    prepared = prepare_data(d.assets, fractions=d.fractions, min_overlap=d.min_overlap, splits=("train",))
    print(f"\nPPO V3 net pi/vf {list(cfg.ppo.net_arch_pi)} tanh; assets {prepared.assets}; n_envs {args.n_envs}, "
          f"n_steps {args.n_steps}, batch {args.batch_size}, n_epochs {args.n_epochs}, target_kl "
          f"{cfg.ppo.target_kl}; {args.timesteps} timed steps, torch threads {threads}, CPU "
          f"(machine load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    runs: dict[str, list[dict[str, float]]] = {"batched": [], "dummy": []}
    for _ in range(args.repeats):  # alternate so both kinds see the same machine load
        for kind in runs:
            runs[kind].append(measure(kind, cfg, prepared, args.timesteps))
    rows = {kind: max(r, key=lambda x: x["learn_steps_s"]) for kind, r in runs.items()}
    print(f"{'vec env':<10}{'learn steps/s':>15}{'rollout steps/s':>17}{'env-only steps/s':>18}  (best of {args.repeats})")
    for kind, r in rows.items():
        print(f"{kind:<10}{r['learn_steps_s']:>15.1f}{r['rollout_steps_s']:>17.1f}"
              f"{env_only(kind, cfg, prepared):>18.0f}")
    print(f"{'reference':<10}{REFERENCE_STEPS_S:>15.1f}{'':>17}{'':>18}  (SB3 PPO same net, DummyVecEnv of 4 "
          "gym-anytrading envs, measured for the issue)")
    best = rows["batched"]["learn_steps_s"]
    print(f"observation width {rows['batched']['obs_dim']:.0f} (window x max_assets x features + state); "
          "the first 1024-unit layers of pi and vf dominate both rollouts and updates")
    print(f"batched / dummy learn speed-up: {best / rows['dummy']['learn_steps_s']:.2f}x; target >= "
          f"{TARGET_STEPS_S:.0f} steps/s: {'met' if best >= TARGET_STEPS_S else 'NOT met'} ({best:.1f}, "
          f"{threads} torch thread{'s' if threads > 1 else ''})")


if __name__ == "__main__":
    main()
