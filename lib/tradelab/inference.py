"""Local inference: a lone SAC ``.pt`` checkpoint backtested on an h5 split or a user CSV.

The checkpoint carries everything needed (feature names, the train-fitted scaler, the env
config, the agent variant), so no run folder is read. It is loaded with
``torch.load(..., weights_only=True)``. The backtest is deterministic and goes through
:func:`tradelab.evaluation.report.evaluate_against_baselines` (``metrics.json``,
``equity.csv``, plots vs buy-and-hold); ``actions.csv`` adds the agent's action and position
per bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradelab.errors import CheckpointError, DataError

__all__ = ["InferenceData", "load_checkpoint", "load_agent", "inference_data", "run_inference", "check_market",
           "missing_checkpoint_message"]

REQUIRED_KEYS = ("feature_names", "scaler", "env_config", "sac_config", "state_dicts")


@dataclass(frozen=True)
class InferenceData:
    """Bars and scaled features the agent will trade on."""

    ohlcv: pd.DataFrame
    """canonical OHLCV of the bars traded"""
    features: Any
    """observation features: scaled with the checkpoint's scaler (plus regimes for agent 3)"""
    source: str
    """where the bars came from (``h5:PATH:split/ASSET`` or ``csv:PATH``)"""
    asset: str
    """asset name"""
    history: Any = None
    """scaled features of the bars just before ``ohlcv`` (the first observation windows), or None"""
    data_hash: str | None = None
    """the processed h5's content hash (None for a CSV)"""


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a SAC ``.pt`` with weights-only loading and check it carries the inference spec."""
    from tradelab.agents.checkpoint import read_checkpoint

    if not Path(path).is_file():
        raise CheckpointError(missing_checkpoint_message(path))
    return read_checkpoint(path, "cpu", required=REQUIRED_KEYS)


def missing_checkpoint_message(path: str | Path) -> str:
    """What to run to get a checkpoint at ``path`` (and any SAC checkpoints already under ``outputs/``)."""
    found = sorted(Path("outputs").glob("**/agent_*_best.pt"))[:3] if Path("outputs").is_dir() else []
    seen = f" Found under outputs/: {', '.join(map(str, found))}." if found else ""
    return (f"checkpoint not found: {path}. A SAC checkpoint is written by notebooks/02_sac.ipynb "
            "(output_dir/agent_1_best.pt; smoke = True takes seconds) or `tradelab train sac --output-dir DIR` "
            "(DIR/agent_1_best.pt), or pulled from Kaggle by `tradelab kaggle run 02_sac` "
            f"(outputs/kaggle/<slug>/v<N>/agent_1_best.pt). Point checkpoint (CLI: --checkpoint) at one.{seen}")


def load_agent(path: str | Path, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    """The SAC agent rebuilt from ``path`` alone (its own id and config), plus the raw checkpoint."""
    from tradelab.agents.sac import SACAgent

    ckpt = load_checkpoint(path)
    return SACAgent.from_checkpoint(path, device=device, ckpt=ckpt), ckpt


def _match_features(ckpt: dict[str, Any], available: list[str], source: str) -> list[str]:
    names = list(ckpt["feature_names"])
    missing = [n for n in names if n not in available]
    if missing:
        extra = sorted(set(available) - set(names))
        raise CheckpointError(
            f"the checkpoint's feature set does not match {source}: {len(missing)} of its {len(names)} "
            f"features are absent ({missing[:8]}{'...' if len(missing) > 8 else ''}); the data has "
            f"{len(extra)} feature(s) the agent never saw. Rebuild the data with the tradelab version "
            f"that trained the agent (checkpoint written by {ckpt.get('tradelab_version', 'unknown')}), "
            "or retrain on this feature set"
        )
    return names


def _observation_features(agent: Any, ckpt: dict[str, Any], ohlcv: pd.DataFrame, unscaled: pd.DataFrame,
                          source: str) -> Any:
    """Check the feature set, then scale (and, for agent 3, add regimes) as the agent saw in training."""
    names = _match_features(ckpt, list(unscaled.columns), source)
    return agent.prepare_features(ohlcv, unscaled[names])


def inference_data(
    agent: Any,
    ckpt: dict[str, Any],
    h5_path: str | Path | None = None,
    split: str = "test",
    asset: str | None = None,
    csv_path: str | Path | None = None,
    allow_other_market: bool = False,
) -> InferenceData:
    """Bars plus the agent's observation features from a user CSV (when given) or an h5 split.

    The h5 asset defaults to the one the agent was trained on. Another asset, or bars of another frequency
    (hourly vs daily), is refused unless ``allow_other_market``: a choice, never a fallback.
    """
    if csv_path is not None:
        from tradelab.data import load_file
        from tradelab.features import compute_features

        ohlcv = load_file(csv_path, asset=asset)
        unscaled = compute_features(ohlcv).dropna()
        if len(unscaled) < 2:
            raise DataError(f"{csv_path}: only {len(unscaled)} rows left after the feature warm-up; supply more bars")
        ohlcv, source = ohlcv.loc[unscaled.index], f"csv:{csv_path}"
        from tradelab.data.calendar import infer_frequency

        check_market(ckpt, None, infer_frequency(ohlcv.index), allow_other_market, str(csv_path))
        features = _observation_features(agent, ckpt, ohlcv, unscaled, source)
        return InferenceData(ohlcv, features, source, asset or Path(csv_path).stem)
    if h5_path is None:
        raise DataError("inference needs data: pass h5_path (processed_data.h5) or csv_path (OHLCV CSV)")
    from tradelab.data.store import read_processed_h5

    store = read_processed_h5(h5_path)
    trained_on = ckpt.get("asset")
    if asset is None:  # the asset it was trained on; another one only by choice (never a fallback)
        if trained_on is None:
            raise DataError(f"{checkpoint_name(ckpt)} does not record the asset it was trained on. Fix: choose one "
                            f"of {store.assets} (asset = NAME; CLI: --asset NAME)")
        if store.resolve_asset(trained_on) is None:
            raise DataError(
                f"{h5_path} does not hold {trained_on}, the asset the agent was trained on (it holds {store.assets}). "
                f"Fix: build it there (00_data: assets including {trained_on!r}; CLI: tradelab data build --assets "
                f"{trained_on} ...), point h5_path (--h5-path) at a file that holds it, or trade another asset on "
                "purpose: asset = NAME and allow_other_market = True (CLI: --asset NAME --allow-other-market)")
        asset = trained_on
    asset = store.resolve_asset(asset) or asset
    if asset not in store.assets:
        raise DataError(f"{h5_path}: asset {asset!r} not stored; available: {store.assets} (asset = NAME; CLI: --asset)")
    if split not in ("train", "val", "test"):
        raise DataError(f"split must be train, val or test, got {split!r}")
    frequency = store.metadata.get("frequency")  # one for the file, or per asset
    if isinstance(frequency, dict):
        frequency = frequency.get(asset)
    check_market(ckpt, asset, frequency, allow_other_market, f"{h5_path} ({split}/{asset})")
    ohlcv, source = store.frame(split, asset), f"h5:{h5_path}:{split}/{asset}"
    features = _observation_features(agent, ckpt, ohlcv, store.features(split, asset), source)
    history = None
    if store.has_history(split, asset):  # the purge-gap bars before the split: real first windows
        history = _observation_features(agent, ckpt, store.frame(f"history_{split}", asset),
                                        store.features(f"history_{split}", asset), source)
    return InferenceData(ohlcv, features, source, asset, history, store.metadata.get("content_hash"))


def checkpoint_name(ckpt: dict[str, Any]) -> str:
    """``the agent-1 checkpoint (SAC)`` for messages."""
    return f"the agent-{ckpt.get('agent_id', '?')} checkpoint ({ckpt.get('agent_variant', 'SAC')})"


def check_market(ckpt: dict[str, Any], asset: str | None, frequency: str | None, allow: bool, where: str) -> None:
    """Refuse bars of an asset or bar frequency the agent was not trained on, unless ``allow`` (then say so).

    ``asset`` None (a user CSV) compares the frequency only; a checkpoint without a recorded frequency
    (written before it was recorded) is compared by asset.
    """
    trained_asset, trained_freq = ckpt.get("asset"), ckpt.get("frequency")
    diffs = []
    if asset is not None and trained_asset is not None and str(asset).upper() != str(trained_asset).upper():
        diffs.append(f"asset {asset} (trained on {trained_asset})")
    if frequency and trained_freq and frequency != trained_freq:
        diffs.append(f"{frequency} bars (trained on {trained_freq})")
    if not diffs:
        return
    if allow:
        print(f"note: allow_other_market: trading {' and '.join(diffs)} from {where}")
        return
    raise DataError(
        f"{where}: {checkpoint_name(ckpt)} would trade {' and '.join(diffs)}. An agent is judged on the market it "
        "learned; choose one of these: data of that market (asset/h5_path/csv_path; CLI: --asset/--h5-path/--csv), "
        "or trade this one on purpose with allow_other_market = True (CLI: --allow-other-market)")


def _tail(data: InferenceData, n: int) -> InferenceData:
    features = data.features.iloc[-n:] if hasattr(data.features, "iloc") else data.features[-n:]
    history = data.features.iloc[:-n] if hasattr(data.features, "iloc") else data.features[:-n]
    return InferenceData(data.ohlcv.iloc[-n:], features, data.source, data.asset, history, data.data_hash)


class _Recorder:
    """Wraps the agent so the 1x backtest's actions can be written to ``actions.csv``."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.actions: list[float] = []

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        action = np.asarray(self.agent.select_action(obs, evaluate=True), dtype=np.float32).reshape(-1)
        self.actions.append(float(action[0]))
        return action


def _write_actions(result: Any, actions: list[float], out: Path) -> Path:
    """``actions.csv``: per decision bar, the action (filled at the next open), equity and position held."""
    from tradelab.utils import atomic_write_text

    frame = result.equity.iloc[: len(actions)][["equity", "position"]].copy()
    frame.insert(0, "action", actions[: len(frame)])
    frame.index.name = "timestamp"
    return atomic_write_text(out / "actions.csv", frame.to_csv())


def run_inference(
    checkpoint: str | Path,
    output_dir: str | Path,
    h5_path: str | Path | None = None,
    split: str = "test",
    asset: str | None = None,
    csv_path: str | Path | None = None,
    cost_multipliers: tuple[float, ...] = (0.0, 1.0, 2.0),
    seed: int = 0,
    max_bars: int | None = None,
    allow_other_market: bool = False,
) -> Any:
    """Backtest the checkpoint on the chosen data vs baselines; returns the RunResult written (``metrics.json``).

    ``max_bars`` keeps only the last bars (quick checks); None trades every bar. ``allow_other_market``:
    see :func:`inference_data`.
    """
    from tradelab.envs.config import TradingEnvConfig
    from tradelab.evaluation.backtest import backtest
    from tradelab.evaluation.report import evaluate_against_baselines
    from tradelab.utils import run_metadata, seed_everything, set_threads

    if max_bars is not None and (isinstance(max_bars, bool) or not isinstance(max_bars, int) or max_bars < 2):
        from tradelab.errors import ConfigError

        raise ConfigError(f"max_bars = {max_bars!r}: give a whole number of bars >= 2 (the last N bars are "
                          "traded), or leave it unset to trade every bar")
    set_threads()
    seed_everything(seed)
    agent, ckpt = load_agent(checkpoint)
    data = inference_data(agent, ckpt, h5_path, split, asset, csv_path, allow_other_market)
    if max_bars is not None and len(data.ohlcv) > max_bars:
        data = _tail(data, max_bars)
    env_config = TradingEnvConfig.from_dict(ckpt["env_config"])
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    recorder = _Recorder(agent)
    result = backtest(recorder, data.ohlcv, data.features, env_config, cost_multiplier=1.0, history=data.history)
    _write_actions(result, recorder.actions, out)
    result = evaluate_against_baselines(
        recorder, data.ohlcv, data.features, env_config, out, name=f"sac_agent_{ckpt.get('agent_id', 1)}",
        cost_multipliers=cost_multipliers, seed=seed, title=f"{ckpt.get('agent_variant', 'sac')} on {data.asset}",
        history=data.history, run_meta={"workflow": "inference", "asset": data.asset,
                                        "split": None if csv_path else split, "data_hash": data.data_hash},
    )
    result.meta["inference"] = run_metadata(
        checkpoint=str(Path(checkpoint).resolve()),
        agent_id=ckpt.get("agent_id"),
        agent_variant=ckpt.get("agent_variant"),
        source=data.source,
        asset=data.asset,
        trained_on=ckpt.get("asset"),
        allow_other_market=bool(allow_other_market),
        n_bars=len(data.ohlcv),
        start=data.ohlcv.index[0].isoformat(),
        end=data.ohlcv.index[-1].isoformat(),
    )
    result.write()
    return result
