"""Env throughput, side by side with a FinRL-style pandas reference and the issue's reference figures.

One run prints a table: single-env steps/s, batched VecEnv per-env-step cost for N = 1, 8, 64, 1024,
the reference env (per-step pandas ``.loc`` lookups, same fills and costs), and SB3 PPO training
throughput with n_envs = 8 on DummyVecEnv vs the batched VecEnv plus the env share of PPO wall time,
both with SB3's default small MlpPolicy (n_epochs 2) and with the V3 model tradelab trains
(pi/vf 1024-512-256 tanh, n_epochs 20 and the other V3 hyperparameters; shorter rollout).
Data: embedded real SPX daily OHLCV with tradelab features (scaled on the first 70 % of bars).

    .venv/bin/python benchmarks/envs.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tradelab.utils.tensorboard import skip_tensorflow  # noqa: E402

skip_tensorflow()  # this script is an entry point: SB3's TensorBoard writer without all of TensorFlow

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tradelab.envs import TradingEnvConfig, TradingEnvironment  # noqa: E402
from tradelab.envs.costs import CostParams, order_costs, wilder_atr  # noqa: E402
from tradelab.envs.vec import make_vec_env  # noqa: E402

# measured on the project's 2-core reference machine (issue 4)
REFERENCE_US = {"bare numpy env": 2.5, "gym-anytrading": 6.4, "Gym-Trading-Env": 34.0,
                "FinRL StockTradingEnv (1 stock)": 530.0}
TARGETS = {"single": 10.0, "batched_1024": 0.2, "env_share_pct": 2.0}


class PandasReferenceEnv(gym.Env):
    """FinRL-style env: every step looks prices and the feature window up with ``DataFrame.loc``.

    Same semantics as TradingEnvironment with default costs (decision at t, fill at t+1 open,
    no-trade band, the same cost formulas, mark at close) so its equity curve must match.
    """

    def __init__(self, data: pd.DataFrame, features: np.ndarray, config: TradingEnvConfig) -> None:
        self.cfg, self.costs = config, CostParams.from_config(config.costs)
        cols = [f"f{i}" for i in range(features.shape[1])]
        self.cols = cols
        self.df = pd.concat([data, pd.DataFrame(features, index=data.index, columns=cols)], axis=1)
        atr = wilder_atr(data["high"].to_numpy(), data["low"].to_numpy(), data["close"].to_numpy(),
                         config.costs.atr_window)
        self.df["atr_ratio"] = atr / data["close"].to_numpy()
        dv = data["close"] * data["volume"]
        self.df["inv_dv"] = np.where(dv > 0, 1.0 / dv.where(dv > 0, 1.0), 0.0)
        n_obs = config.window * len(cols) + 4
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (n_obs,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.dates = data.index

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.cash, self.shares, self.equity = self.cfg.window - 1, self.cfg.initial_cash, 0.0, self.cfg.initial_cash
        return self._obs(), {}

    def _obs(self):
        rows = self.dates[self.t - self.cfg.window + 1: self.t + 1]
        window = self.df.loc[rows, self.cols].to_numpy(np.float32).ravel()
        close = self.df.loc[self.dates[self.t], "close"]
        state = np.array([self.shares * close / self.equity, self.cash / self.equity, 0.0, 0.0], np.float32)
        return np.concatenate([window, state])

    def step(self, action):
        now, nxt = self.dates[self.t], self.dates[self.t + 1]
        price = self.df.loc[nxt, "open"]
        equity_open = self.cash + self.shares * price
        target = float(np.clip(action[0], -1, 1)) * equity_open / price
        delta = target - self.shares
        if abs(delta) * price > self.cfg.min_trade_fraction * equity_open:
            cost = order_costs(delta, price, self.df.loc[now, "atr_ratio"], self.df.loc[now, "inv_dv"], self.costs)
            self.cash -= delta * price + cost
            self.shares += delta
        prev, self.t = self.equity, self.t + 1
        self.equity = self.cash + self.shares * self.df.loc[nxt, "close"]
        done = self.t >= len(self.dates) - 1
        return self._obs(), self.equity / prev - 1.0, False, done, {"equity": self.equity}


def load_inputs(window: int, n_features: int | None) -> tuple[pd.DataFrame, np.ndarray, TradingEnvConfig]:
    from tradelab.data import load_asset
    from tradelab.features import compute_features
    from tradelab.features.scaling import FeatureScaler

    data = load_asset("SPX")
    feats = compute_features(data)
    keep = feats.notna().all(axis=1).to_numpy()
    data, feats = data[keep], feats[keep]
    if n_features is not None:
        feats = feats.iloc[:, :n_features]
    scaler = FeatureScaler.fit(feats.iloc[: int(0.7 * len(feats))])  # "train" rows only
    cfg = TradingEnvConfig(window=window, episode_lengths=(256,))
    return data, scaler.transform_array(feats.to_numpy()), cfg


def time_single(env: gym.Env, n_steps: int) -> tuple[float, float]:
    """(wall, CPU) µs per step, resets included."""
    acts = np.random.default_rng(0).uniform(-1, 1, (n_steps, 1)).astype(np.float32)
    env.reset(seed=0)
    start, cpu = time.perf_counter(), time.process_time()
    for a in acts:
        _, _, term, trunc, _ = env.step(a)
        if term or trunc:
            env.reset()
    return _per(start, cpu, n_steps)


def _per(start: float, cpu: float, n: int) -> tuple[float, float]:
    """(wall µs, CPU µs) per unit since ``start``/``cpu``; CPU time excludes waits for the shared cores."""
    return (time.perf_counter() - start) / n * 1e6, (time.process_time() - cpu) / n * 1e6


def time_batched(data, feats, cfg, n_envs: int, env_steps: int) -> tuple[float, float]:
    venv = make_vec_env("batched", data, feats, cfg, n_envs=n_envs, seed=0)
    venv.reset()
    acts = np.random.default_rng(0).uniform(-1, 1, (n_envs, 1)).astype(np.float32)
    steps = max(20, env_steps // n_envs)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        venv.step(acts)
    return _per(start, cpu, steps * n_envs)


def _v3_ppo_kwargs(n_steps: int, n_envs: int) -> dict:
    """PPO keyword arguments of tradelab's V3 model (configs/ppo_v3.yaml defaults): network, epochs, lr, ...

    The rollout is shorter than V3's 4096 steps per env to keep the benchmark short; the minibatch is
    then the whole rollout (V3's 8192 exceeds it). The learner's cost per collected step is set by the
    network and the epochs, which are V3's (``target_kl`` may stop an update early, as in training).
    """
    from tradelab.training.ppo import PPOParams, policy_kwargs

    p = PPOParams()
    return dict(learning_rate=p.learning_rate, n_steps=n_steps, batch_size=min(p.batch_size, n_steps * n_envs),
                n_epochs=p.n_epochs, gamma=p.gamma, gae_lambda=p.gae_lambda, clip_range=p.clip_range,
                ent_coef=p.ent_coef, vf_coef=p.vf_coef, target_kl=p.target_kl, max_grad_norm=p.max_grad_norm,
                policy_kwargs=policy_kwargs(p))


def time_ppo(kind: str, data, feats, cfg, timesteps: int, n_envs: int = 8,
             n_steps: int = 256, v3: bool = False) -> tuple[float, float, float]:
    """(PPO env-steps/s wall, per CPU-second, % of learn() CPU time spent inside the VecEnv).

    ``v3``: the V3 network and epochs (:func:`_v3_ppo_kwargs`) instead of SB3's default MlpPolicy.
    """
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecEnvWrapper

    class Timed(VecEnvWrapper):
        spent = 0.0  # CPU seconds inside the wrapped VecEnv

        def reset(self):
            return self.venv.reset()

        def step_wait(self):
            start = time.process_time()
            out = self.venv.step_wait()
            Timed.spent += time.process_time() - start
            return out

        def step_async(self, actions):
            start = time.process_time()
            self.venv.step_async(actions)
            Timed.spent += time.process_time() - start

    venv = Timed(make_vec_env(kind, data, feats, cfg, n_envs=n_envs, seed=0))
    kwargs = _v3_ppo_kwargs(n_steps, n_envs) if v3 else dict(n_steps=n_steps, batch_size=256, n_epochs=2)
    model = PPO("MlpPolicy", venv, seed=0, device="cpu", verbose=0, **kwargs)
    start, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=timesteps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return model.num_timesteps / wall, model.num_timesteps / cpu, 100.0 * Timed.spent / cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (for a smoke run)")
    args = parser.parse_args(argv)
    scale = 0.2 if args.quick else 1.0
    from tradelab.utils import set_threads

    set_threads(1)
    data, feats, cfg = load_inputs(window=10, n_features=8)
    print(f"data: SPX daily, {len(data)} bars; obs = window 10 x 8 features + 4 state = {10 * 8 + 4} floats; "
          f"machine load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (timings are noisy when shared)")
    rows: list[tuple[str, tuple[float, float], str]] = []
    single = time_single(TradingEnvironment(data, feats, cfg), int(40_000 * scale))
    rows.append(("TradingEnvironment.step (full costs, v3 reward)", single, f"target <= {TARGETS['single']}"))
    ref = time_single(PandasReferenceEnv(data, feats, cfg), int(2_000 * scale))
    rows.append(("reference FinRL-style env (pandas .loc per step)", ref, "same fills/costs"))
    for n in (1, 8, 64, 1024):
        target = f"target <= {TARGETS['batched_1024']}" if n == 1024 else ""
        rows.append((f"BatchedTradingVecEnv N={n} (per env-step)", time_batched(data, feats, cfg, n,
                                                                            int(400_000 * scale)), target))
    big_data, big_feats, big_cfg = load_inputs(window=30, n_features=None)
    rows.append((f"BatchedTradingVecEnv N=1024, obs {big_feats.shape[1] * 30 + 4} floats",
                 time_batched(big_data, big_feats, big_cfg, 1024, int(400_000 * scale)), "obs copy bound"))
    print(f"\n{'env':<56}{'wall µs':>9}{'CPU µs':>9}{'steps/s(CPU)':>14}  note")
    for name, (wall, cpu), note in rows:
        print(f"{name:<56}{wall:>9.3f}{cpu:>9.3f}{1e6 / cpu:>14,.0f}  {note}")
    for name, us in REFERENCE_US.items():
        print(f"{'reference (issue): ' + name:<56}{us:>9.3f}{'':>9}{1e6 / us:>14,.0f}  from the issue")
    print(f"\nreference env agrees with TradingEnvironment: {_same_equity(data, feats, cfg)}")
    ts = int(8 * 256 * (4 if not args.quick else 1))
    print(f"\nSB3 PPO (MlpPolicy, n_envs=8, n_steps=256, n_epochs=2, {ts} timesteps, 1 torch thread)")
    print(f"{'vec env':<12}{'steps/s wall':>14}{'steps/CPU-s':>13}{'env % of CPU':>14}")
    for kind in ("dummy", "batched"):
        sps, sps_cpu, share = time_ppo(kind, data, feats, cfg, ts)
        print(f"{kind:<12}{sps:>14,.0f}{sps_cpu:>13,.0f}{share:>14.2f}   target < {TARGETS['env_share_pct']} %")
    sps, sps_cpu, share = time_ppo("batched", data, feats, cfg, ts * 2, n_envs=256, n_steps=16)
    print(f"{'batched256':<12}{sps:>14,.0f}{sps_cpu:>13,.0f}{share:>14.2f}   (n_envs=256, n_steps=16: same rollout size x2)")
    v3 = _v3_ppo_kwargs(256, 8)
    ts_v3 = 8 * 256 * (2 if not args.quick else 1)
    print(f"\nSB3 PPO with tradelab's V3 model (pi/vf {v3['policy_kwargs']['net_arch']['pi']} tanh, n_epochs "
          f"{v3['n_epochs']}, target_kl {v3['target_kl']}, lr {v3['learning_rate']}; n_envs=8, n_steps=256, "
          f"batch {v3['batch_size']}, {ts_v3} timesteps, 1 torch thread)")
    print(f"{'vec env':<12}{'steps/s wall':>14}{'steps/CPU-s':>13}{'env % of CPU':>14}")
    for kind in ("dummy", "batched"):
        sps, sps_cpu, share = time_ppo(kind, data, feats, cfg, ts_v3, v3=True)
        print(f"{kind + ' V3':<12}{sps:>14,.0f}{sps_cpu:>13,.0f}{share:>14.2f}   target < {TARGETS['env_share_pct']} %")
    return 0


def _same_equity(data, feats, cfg) -> str:
    """Run both envs from bar window-1 with the same actions; report the largest equity difference."""
    acts = np.random.default_rng(5).uniform(-1, 1, (300, 1)).astype(np.float32)
    ref = PandasReferenceEnv(data, feats, cfg)
    ref.reset(seed=0)
    ours = TradingEnvironment(data, feats, cfg, eval_mode=True)
    ours.reset(seed=0)
    for _ in range(cfg.window - 1):  # align: the reference starts at the first full window
        ours.step(np.zeros(1, np.float32))
    worst = 0.0
    for a in acts:
        e1 = ref.step(a)[4]["equity"]
        e2 = ours.step(a)[4]["equity"]
        worst = max(worst, abs(e1 - e2))
    return f"max |equity difference| over 300 steps = {worst:.3e}"


if __name__ == "__main__":
    sys.exit(main())
