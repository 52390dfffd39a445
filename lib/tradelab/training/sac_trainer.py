"""KaggleTrainer: processed_data.h5 in, ``agent_{id}_best.pt`` out, resumable after a kill.

Train split for learning (random episode starts), whole val split for deterministic evaluation
every ``eval_frequency`` episodes (best val Sharpe → ``agent_{id}_best.pt``), the test split once
at the end (best agent vs buy-and-hold / flat / SMA at 0/1/2× costs). Output layout::

    output_dir/agent_{id}_best.pt  agent_{id}_final.pt  config.json  metrics.json  equity.csv  *.png
    output_dir/checkpoints/agent_{id}_ep{N}.pt  metrics_ep{N}.json  agent_{id}_ep{N}.buffer.pt (latest only)
    output_dir/logs/training_stats.json  training_stats.npz  training.log
    output_dir/tensorboard/  (train/*, eval/*, resources/*: CPU %, RSS, GPU memory per episode)
    output_dir/plots/training_rewards.png  training_actor_loss.png  training_alpha.png

Each episode is one SB3 ``learn`` call of ``episode_length`` steps after reseeding everything
with ``seed * 100_003 + episode``: a resumed run therefore repeats the uninterrupted run.

This module is the trainer (set-up, episode loop, checkpoints, resume, final report). Its config is in
:mod:`tradelab.training.sac_config`, its run folder (defaults, resume point, best agent on disk) in
:mod:`tradelab.training.sac_folder`, its statistics and reporting (TensorBoard, log file,
resources) in :mod:`tradelab.training.sac_stats`; their public names are re-exported here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tradelab.agents.sac import SACAgent
from tradelab.errors import ConfigError
from tradelab.results import RunResult, make_meta
from tradelab.training.sac_config import DEFAULT_CONFIG, SMOKE_OVERRIDES, SACTrainingConfig, load_config
from tradelab.training.sac_folder import (
    adopt_previous_best,
    best_on_disk,
    default_paths,
    find_latest_checkpoint,
    start_point,
)
from tradelab.training.sac_stats import (
    FLAT_STATS_KEYS,
    EpisodeStatsCallback,
    RunMonitor,
    evaluate_policy_on,
    new_stats,
    write_npz,
    write_stats,
)
from tradelab.utils import atomic_write_json, run_metadata, seed_everything, set_threads

__all__ = ["SMOKE_OVERRIDES", "SACTrainingConfig", "KaggleTrainer", "load_config", "train", "EpisodeStatsCallback", "find_latest_checkpoint",
           "default_paths", "DEFAULT_CONFIG", "FLAT_STATS_KEYS", "evaluate_policy_on"]

log = logging.getLogger("tradelab.sac")


def train(config: SACTrainingConfig) -> RunResult:
    """The SAC workflow (`tradelab train sac`, notebook 02): train, validate, test the best agent once;
    returns the run's ``metrics.json`` as a :class:`~tradelab.results.RunResult` (``model``: the agent)."""
    trainer = KaggleTrainer.from_config(config)
    agent, _ = trainer.run_training()
    result = RunResult.read(trainer.output_dir / "metrics.json")
    result.model = agent
    return result


class KaggleTrainer:
    """The seed guide's trainer (files written: module docstring): a facade over :class:`SACTrainingConfig`,
    which holds every setting below (``configs/sac.yaml``); a keyword left at None keeps the config's value.

    ``h5_path``, ``output_dir``, ``asset``, ``agent_id`` (1 SAC, 2 + auxiliary next-return head, 3 + HMM
    regimes), ``num_episodes`` (a resumed run continues up to it), ``eval_frequency`` (validate every N
    episodes and after the last), ``checkpoint_frequency``, ``episode_length``, ``seed``, ``threads``,
    ``resume_from`` (a ``.pt``, a run/checkpoints folder or a glob), ``progress``, ``max_runtime`` (seconds
    or "11h": checkpoint and return; the next ``run_training`` continues) are config keys of the same name;
    ``device`` and ``warmup_steps`` set ``sac.device`` and ``sac.warmup_steps``; ``config`` is a
    :class:`SACTrainingConfig` or a YAML path. ``fresh``: start over although ``output_dir`` holds
    checkpoints (removed; ``agent_{id}_best.pt`` is only ever replaced by a better agent, across runs too).
    """

    def __init__(
        self,
        h5_path: str | Path | None = None,
        output_dir: str | Path | None = None,
        num_episodes: int | None = None,
        eval_frequency: int | None = None,
        checkpoint_frequency: int | None = None,
        agent_id: int | None = None,
        device: str | None = None,
        asset: str | None = None,
        episode_length: int | None = None,
        warmup_steps: int | None = None,
        seed: int | None = None,
        threads: int | None = None,
        resume_from: str | Path | None = None,
        config: SACTrainingConfig | str | Path | None = None,
        progress: bool | None = None,
        fresh: bool | None = None,
        max_runtime: str | float | None = None,
    ) -> None:
        for name, value in (("num_episodes", num_episodes), ("eval_frequency", eval_frequency),
                            ("checkpoint_frequency", checkpoint_frequency)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | np.integer) or int(value) < 1):
                raise ConfigError(f"{name} = {value!r} must be a whole number >= 1")
        base = config if isinstance(config, SACTrainingConfig) else load_config(config)
        given = {"h5_path": h5_path, "output_dir": output_dir, "num_episodes": num_episodes,
                 "eval_frequency": eval_frequency, "checkpoint_frequency": checkpoint_frequency,
                 "agent_id": agent_id, "asset": asset, "episode_length": episode_length, "seed": seed,
                 "threads": threads, "resume_from": resume_from, "progress": progress, "fresh": fresh,
                 "max_runtime": max_runtime}
        changes = {k: (str(v) if isinstance(v, Path) else int(v) if isinstance(v, np.integer) else v)
                   for k, v in given.items() if v is not None}
        sac = {k: v for k, v in {"device": device, "warmup_steps": warmup_steps}.items() if v is not None}
        cfg = base.replace(**changes)
        self._adopt(cfg.replace(sac={**cfg.sac.to_dict(), **sac}) if sac else cfg)

    @classmethod
    def from_config(cls, config: SACTrainingConfig) -> KaggleTrainer:
        """The trainer of a resolved config (what :func:`train` and ``tradelab train sac`` use)."""
        trainer = cls.__new__(cls)
        trainer._adopt(config)
        return trainer

    def _adopt(self, config: SACTrainingConfig) -> None:
        """Take every setting from ``config`` (the agent's seed follows the run's)."""
        self.config = config.replace(sac={**config.sac.to_dict(), "seed": config.seed})
        default_h5, default_out = default_paths()
        self.h5_path = Path(config.h5_path) if config.h5_path is not None else default_h5
        self.output_dir = Path(config.output_dir) if config.output_dir is not None else default_out
        self.num_episodes, self.eval_frequency = config.num_episodes, config.eval_frequency
        self.checkpoint_frequency, self.agent_id = config.checkpoint_frequency, config.agent_id
        self.asset, self.resume_from, self.progress = config.asset, config.resume_from, config.progress
        self.fresh = config.fresh
        self.agent: SACAgent | None = None
        self.stats: dict[str, Any] = {}

    # -- setup ------------------------------------------------------------------------------------
    def _setup(self) -> None:
        from tradelab.agents.sac_data import build_spec, load_split_data

        set_threads(self.config.threads)
        seed_everything(self.config.seed)
        self.data = load_split_data(self.h5_path, self.asset)
        cfg = self.config
        n_train = len(self.data.frames["train"])
        length = min(cfg.episode_length, n_train - cfg.env.window - 2)
        if length < 2:
            raise ConfigError(f"{self.h5_path}: train split of {self.data.asset} has {n_train} bars, too few for "
                              f"window={cfg.env.window}; build more data or lower env.window")
        if length != cfg.episode_length:
            print(f"episode_length {cfg.episode_length} > train split ({n_train} bars): using {length}")
        self.episode_length = length
        total = length * self.num_episodes
        if cfg.sac.warmup_steps >= total:
            print(f"note: warmup_steps={cfg.sac.warmup_steps} >= {total} total steps ({self.num_episodes} x {length}): "
                  "no gradient updates will happen; lower --warmup-steps or add episodes")
        self.env_config = cfg.env.replace(episode_lengths=[length])
        self.spec = build_spec(self.data, self.agent_id, self.env_config.to_dict(), cfg.sac.n_regimes, cfg.seed)
        self.train_env = self._make_env("train", eval_mode=False)
        self.val_env = self._make_env("val", eval_mode=True)
        self.agent = SACAgent(cfg.sac, agent_id=self.agent_id, env=self.train_env)
        self.agent.spec = dict(self.spec)

    def _make_env(self, split: str, eval_mode: bool) -> Any:
        from tradelab.agents.sac_data import NextReturnInfo, history_features, prepare_features
        from tradelab.envs.risk import wrap_env
        from tradelab.envs.trading_env import TradingEnvironment

        frame = self.data.frames[split]
        feats = prepare_features(frame, self.data.features[split], self.spec)
        past = history_features(self.data, split, self.spec) if eval_mode else None  # no zero-padded windows
        env = TradingEnvironment(frame, feats, config=self.env_config, eval_mode=eval_mode, history=past)
        env = wrap_env(env, self.env_config)  # the risk manager, when env.risk.enabled
        if self.agent_id == 2 and not eval_mode:
            env = NextReturnInfo(env, frame["close"].to_numpy())
        return env

    def _resume(self, path: Path) -> int:
        from tradelab.utils.lock import check_identity

        agent = self.agent
        agent.load(path)
        found = agent.extra.get("identity") or {"asset": agent.spec.get("asset"), "agent_id": agent.agent_id}
        check_identity(self._identity(), found, path)
        agent.spec = dict(self.spec)  # refitted on the same train rows: identical to the saved one
        adopt_previous_best(path, self.output_dir, self.agent_id)
        buffer = path.with_suffix(".buffer.pt")
        if buffer.is_file():
            agent.load_replay_buffer(buffer)
        else:
            print(f"resume: no replay buffer beside {path.name}; continuing with an empty buffer")
        self.stats = agent.extra.get("stats") or new_stats()
        self.stats.setdefault("resumed_from", []).append(str(path))
        print(f"resumed from {path} at episode {agent.episodes_done + 1}")
        return agent.episodes_done

    # -- training ---------------------------------------------------------------------------------
    def run_training(self, stop_after: Callable[[int, dict[str, float]], bool] | None = None,
                     ) -> tuple[SACAgent, dict[str, Any]]:
        """Train, evaluate, checkpoint; returns the final agent and the training stats.

        :param stop_after: called with (episode, training row) after each episode; True ends the run there as
            if ``num_episodes`` were that episode (evaluated, best/final saved, e.g. a CPU-time budget).
        """
        from tqdm.auto import tqdm

        from tradelab.utils.lock import run_lock
        from tradelab.utils.runtime import parse_max_runtime

        t0 = time.monotonic()
        budget = parse_max_runtime(self.config.max_runtime)
        self._setup()
        with run_lock(self.output_dir, "SAC run"):
            self._start_monitoring()
            try:
                resume_path = start_point(self.output_dir, self.agent_id, self.fresh, self.resume_from,
                                          self._identity)
                start = self._resume(resume_path) if resume_path else 0
                if not resume_path:
                    self.stats = new_stats()
                self._disk_best = best_on_disk(self.output_dir, self.agent_id)
                atomic_write_json(self.output_dir / "config.json", self._run_info())
                bar = tqdm(range(start + 1, self.num_episodes + 1), desc=f"SAC agent {self.agent_id}",
                           unit="ep", disable=not self.progress, initial=start, total=self.num_episodes)
                stopped = False
                for episode in bar:
                    row = self._train_episode(episode)
                    last = stop_after is not None and bool(stop_after(episode, row))
                    if last:
                        self.num_episodes = episode
                    if episode % self.eval_frequency == 0 or episode == self.num_episodes:
                        row |= self._evaluate(episode)
                    if episode % self.checkpoint_frequency == 0:
                        self._checkpoint(episode)
                    bar.set_postfix({**{k: f"{v:.3g}" for k, v in row.items()
                                        if k in ("reward", "alpha", "val_sharpe")}, **self._postfix(row)})
                    if budget is not None and episode < self.num_episodes and time.monotonic() - t0 >= budget:
                        if episode % self.checkpoint_frequency:
                            self._checkpoint(episode)
                        print(f"max_runtime ({self.config.max_runtime}) reached after episode {episode} of "
                              f"{self.num_episodes}: checkpoint written; run again (same output_dir) to continue")
                        stopped = True
                        break
                    if last:
                        break
                bar.close()
                return self._finish(stopped)
            finally:
                self._stop_monitoring()

    def _train_episode(self, episode: int) -> dict[str, float]:
        agent, model = self.agent, self.agent.model
        model.set_random_seed(self.config.seed * 100_003 + episode)
        model._last_obs = None  # next learn() resets the env with the seed just set
        callback = EpisodeStatsCallback.make()
        t0 = time.perf_counter()
        model.learn(self.episode_length, callback=callback, reset_num_timesteps=False, progress_bar=False)
        wall = time.perf_counter() - t0
        losses = model.pop_losses()
        agent.episodes_done = episode
        row = {"episode": episode, "reward": callback.reward, "steps": callback.steps, "wall_s": wall,
               **{k: losses.get(k, float("nan")) for k in ("actor_loss", "critic_loss", "alpha", "aux_loss")},
               **self._monitor.sample()}
        for key, values in self.stats["episodes"].items():
            values.append(float(row[key]))
        self._log_scalars("train", row, episode)
        return row

    def _evaluate(self, episode: int) -> dict[str, float]:
        metrics = evaluate_policy_on(self.agent, self.val_env)
        ev = self.stats["eval"]
        ev["episode"].append(episode)
        for key in ("sharpe_ratio", "total_return", "max_drawdown", "n_trades", "reward"):
            ev.setdefault(key, []).append(float(metrics.get(key, float("nan"))))
        self._log_scalars("eval", metrics, episode)
        sharpe = float(metrics.get("sharpe_ratio", float("nan")))
        best = self.stats["best_val_sharpe"]
        if np.isfinite(sharpe) and (best is None or sharpe > best):
            self.stats["best_val_sharpe"], self.stats["best_episode"] = sharpe, episode
            on_disk = getattr(self, "_disk_best", None)
            if on_disk is None or sharpe > on_disk:  # never replace a better best agent (also from another run)
                self.agent.save(self.output_dir / f"agent_{self.agent_id}_best.pt", extra=self._extra())
                self._disk_best = sharpe
        return {"val_sharpe": sharpe}

    def _extra(self) -> dict[str, Any]:
        return {"stats": self.stats, "num_episodes": self.num_episodes, "h5_path": str(self.h5_path),
                "identity": self._identity()}

    def _identity(self) -> dict[str, Any]:
        """What this run is; a checkpoint from another run (asset, agent, data, config) is refused."""
        sac = {k: v for k, v in self.config.sac.to_dict().items() if k not in ("device",)}
        return {"workflow": "sac", "agent_id": self.agent_id, "asset": self.data.asset,
                "data_hash": self.data.metadata.get("content_hash"), "seed": self.config.seed,
                "episode_length": self.episode_length, "sac": sac, "env": self.env_config.to_dict()}

    def _checkpoint(self, episode: int) -> None:
        folder = self.output_dir / "checkpoints"
        path = folder / f"agent_{self.agent_id}_ep{episode}.pt"
        keep = self.config.keep_replay_buffers if self.config.save_replay_buffer else 0
        if keep:
            self.agent.save_replay_buffer(path.with_suffix(".buffer.pt"))
        self.agent.save(path, extra=self._extra())  # after the buffer: a .pt present means its buffer is too
        self._write_stats()  # the seed's monitoring snippet reads it while the run goes on
        if keep:  # only now drop older buffers, so a kill at any point leaves a complete (.pt, buffer) pair
            old = sorted(folder.glob(f"agent_{self.agent_id}_ep*.buffer.pt"),
                         key=lambda p: int(p.name.split("_ep")[1].split(".")[0]))
            for stale in old[:-keep]:
                stale.unlink(missing_ok=True)
        last = {k: v[-1] for k, v in self.stats["episodes"].items() if v}
        atomic_write_json(folder / f"metrics_ep{episode}.json", {
            "episode": episode, "train": last, "best_val_sharpe": self.stats["best_val_sharpe"],
            "best_episode": self.stats["best_episode"], "eval": self.stats["eval"],
            "num_timesteps": int(self.agent.model.num_timesteps)})

    def _finish(self, stopped: bool = False) -> tuple[SACAgent, dict[str, Any]]:
        from tradelab.training.sac_plots import plot_training

        out = self.output_dir
        best_path = out / f"agent_{self.agent_id}_best.pt"
        if not stopped:
            self.agent.save(out / f"agent_{self.agent_id}_final.pt", extra=self._extra())
            if not best_path.is_file():  # no finite val Sharpe ever: the final agent stands in
                self.agent.save(best_path, extra=self._extra())
        self._write_stats()
        write_npz(out / "logs" / "training_stats.npz", self.stats)
        self.stats["plots"] = [str(p) for p in plot_training(self.stats, out / "plots")]
        result = self._test_report(best_path) if self.config.final_test and not stopped else None
        if result is None:  # no test backtest: the file still says what ran
            result = RunResult({}, {}, make_meta("sac", focus=None, asset=self.data.asset,
                                                 data_hash=self.data.metadata.get("content_hash")), out)
        result.meta.update(training=self._summary(best_path), stopped_early=stopped)
        result.write()
        self.stats["test"] = {**result.strategies, "by_cost": result.by_cost} if result.strategies else {}
        self.stats["stopped_early"] = stopped
        self.result = result
        return self.agent, self.stats

    # -- monitoring: resources, TensorBoard, log file, stats file ----------------------------------
    def _start_monitoring(self) -> None:
        self._monitor = RunMonitor(self.output_dir)
        log.info("SAC agent %d on %s (%s): %d episodes of %d steps, device %s, output %s", self.agent_id,
                 self.data.asset, self.h5_path, self.num_episodes, self.episode_length, self.agent.device,
                 self.output_dir)

    def _stop_monitoring(self) -> None:
        if getattr(self, "_monitor", None) is None:
            return
        log.info("finished: best val Sharpe %s at episode %s", self.stats.get("best_val_sharpe"),
                 self.stats.get("best_episode"))
        self._monitor.close()
        self._monitor = None

    def _log_scalars(self, part: str, row: dict[str, float], episode: int) -> None:
        self._monitor.log_scalars(part, row, episode)

    @staticmethod
    def _postfix(row: dict[str, float]) -> dict[str, str]:
        return RunMonitor.postfix(row)

    def _write_stats(self) -> None:
        write_stats(self.output_dir / "logs" / "training_stats.json", self.stats)

    def _summary(self, best_path: Path) -> dict[str, Any]:
        ev = self.stats["eval"]
        return {
            "agent_id": self.agent_id, "asset": self.data.asset, "episodes": self.agent.episodes_done,
            "num_timesteps": int(self.agent.model.num_timesteps), "episode_length": self.episode_length,
            "best_val_sharpe": self.stats["best_val_sharpe"], "best_episode": self.stats["best_episode"],
            "val_sharpe_by_episode": dict(zip(map(str, ev["episode"]), ev["sharpe_ratio"])),
            "best_checkpoint": str(best_path), "final_checkpoint": str(self.output_dir / f"agent_{self.agent_id}_final.pt"),
            "train_seconds": float(np.sum(self.stats["episodes"]["wall_s"])),
        }

    def _test_report(self, best_path: Path) -> RunResult:
        """The one touch of the test split: best agent vs baselines at 0/1/2× costs."""
        from tradelab.agents.sac_data import history_features, prepare_features
        from tradelab.evaluation.report import evaluate_against_baselines

        best = SACAgent(self.agent.config, agent_id=self.agent_id).load(best_path)
        frame = self.data.frames["test"]
        feats = prepare_features(frame, self.data.features["test"], best.spec)
        return evaluate_against_baselines(best, frame, feats, self.env_config, self.output_dir,
                                          name=f"sac_agent_{self.agent_id}",
                                          history=history_features(self.data, "test", best.spec),
                                          run_meta={"workflow": "sac", "asset": self.data.asset, "split": "test",
                                                    "data_hash": self.data.metadata.get("content_hash")})

    def _run_info(self) -> dict[str, Any]:
        return run_metadata(
            workflow="sac", agent_id=self.agent_id, h5_path=str(self.h5_path), asset=self.data.asset,
            content_hash=self.data.metadata.get("content_hash"), feature_names=self.data.feature_names,
            num_episodes=self.num_episodes, eval_frequency=self.eval_frequency,
            checkpoint_frequency=self.checkpoint_frequency, episode_length=self.episode_length,
            config=self.config.to_dict(), resume_from=str(self.resume_from) if self.resume_from else None)
