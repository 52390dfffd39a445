"""Market data → what a SAC agent observes: train-fitted scaler, agent 3's regime columns, agent 2's target.

The inference spec (``feature_names``, ``scaler``, ``hmm``, ``env_config``, ``asset``) is built
here from TRAIN rows only and travels inside the agent's ``.pt`` so :func:`prepare_features`
rebuilds exactly the observation features on any later split or live data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from tradelab.agents.aux import NEXT_RETURN_KEY
from tradelab.errors import CheckpointError, DataError

__all__ = ["SplitData", "resolve_h5", "load_split_data", "build_spec", "prepare_features", "history_features",
           "NextReturnInfo", "REGIME_PREFIX"]

REGIME_PREFIX = "regime_p"


@dataclass
class SplitData:
    """One asset's canonical OHLCV and UNSCALED features per split."""

    asset: str
    frames: dict[str, pd.DataFrame]
    features: dict[str, pd.DataFrame]
    feature_names: list[str]
    metadata: dict[str, Any]
    history: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict)
    """Per evaluation split ("val", "test"): OHLCV and UNSCALED features of the purge-gap bars just before
    it, for the first observation windows (files built before this existed have none: zero padding)."""


def resolve_h5(h5_path: str | Path, build_if_missing: bool = False, asset: str | None = "EURUSD") -> Path:
    """A path or glob pattern (first match, sorted) → the h5 file; optionally build it from embedded data."""
    import glob

    text = str(h5_path)
    matches = sorted(glob.glob(text, recursive=True)) if any(c in text for c in "*?[") else []
    path = Path(matches[0]) if matches else Path(text)
    if path.is_file():
        return path
    if not build_if_missing or any(c in text for c in "*?["):
        raise DataError(f"processed data not found: {text}; build it with `tradelab data build` "
                        "(or pass build_data_if_missing=True)")
    from tradelab.data.build import build_processed

    build_processed(assets=[asset or "EURUSD"], out_dir=path.parent)
    built = path.parent / "processed_data.h5"
    if built != path:
        built.replace(path)
    return path


def load_split_data(h5_path: str | Path, asset: str | None = None) -> SplitData:
    """Read ``processed_data.h5``; ``asset=None`` takes the first asset in the file."""
    from tradelab.data.store import read_processed_h5

    data = read_processed_h5(h5_path)
    if asset is None:
        asset = data.assets[0]
    match = data.resolve_asset(asset)
    if match is None:
        raise DataError(f"{h5_path}: asset {asset!r} is not in the file; it holds {list(data.assets)} (use --asset)")
    splits = ("train", "val", "test")
    return SplitData(
        asset=match,
        frames={s: data.frame(s, match) for s in splits},
        features={s: data.features(s, match) for s in splits},
        feature_names=list(data.feature_names),
        metadata=dict(data.metadata),
        history={s: (data.frame(f"history_{s}", match), data.features(f"history_{s}", match))
                 for s in ("val", "test") if data.has_history(s, match)},
    )


def history_features(data: SplitData, split: str, spec: dict[str, Any]) -> pd.DataFrame | None:
    """Scaled observation features of the bars before ``split`` (its first windows), or None when not stored."""
    if split not in data.history:
        return None
    frame, features = data.history[split]
    return prepare_features(frame, features, spec) if len(frame) else None


def build_spec(
    data: SplitData, agent_id: int, env_config: dict[str, Any], n_regimes: int = 3, seed: int = 0
) -> dict[str, Any]:
    """Fit the scaler (and agent 3's HMM) on the TRAIN split only; return the inference spec."""
    from tradelab.features.scaling import FeatureScaler

    scaler = FeatureScaler.fit(data.features["train"][data.feature_names], columns=data.feature_names)
    hmm = None
    if agent_id == 3:
        from tradelab.agents.regime import RegimeHMM

        hmm = RegimeHMM.fit(data.frames["train"], n_regimes=n_regimes, seed=seed).to_dict()
    return {
        "feature_names": list(data.feature_names),
        "scaler": scaler.to_dict(),
        "hmm": hmm,
        "env_config": env_config,
        "asset": data.asset,
        "frequency": _frequency(data),
    }


def _frequency(data: SplitData) -> str | None:
    """The asset's bar frequency from the h5 metadata (a per-asset dict since format 1), e.g. "hourly"."""
    freq = data.metadata.get("frequency")
    return freq.get(data.asset) if isinstance(freq, dict) else freq


def prepare_features(ohlcv: pd.DataFrame, features: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """UNSCALED features → scaled (train scaler) + regime probabilities (agent 3), same index as ``ohlcv``."""
    from tradelab.features.scaling import FeatureScaler

    if not spec.get("scaler"):
        raise CheckpointError("this agent carries no scaler spec; load a .pt written by the SAC trainer")
    names = list(spec["feature_names"])
    missing = [n for n in names if n not in features.columns]
    if missing:
        raise DataError(f"features are missing {len(missing)} column(s) the agent was trained on, e.g. {missing[:5]}; "
                        "compute them with tradelab.features.compute_features")
    scaled = FeatureScaler.from_dict(spec["scaler"]).transform(features[names])
    scaled = pd.DataFrame(np.asarray(scaled, dtype=np.float32), index=features.index, columns=names)
    if spec.get("hmm"):
        from tradelab.agents.regime import RegimeHMM

        probs = RegimeHMM.from_dict(spec["hmm"]).filter(ohlcv)
        for k in range(probs.shape[1]):
            scaled[f"{REGIME_PREFIX}{k}"] = probs[:, k]
    return scaled


class NextReturnInfo(gym.Wrapper):
    """Adds ``info["next_return"]``: close-to-close return of the bar after the decision.

    The env fills a decision made at bar t on bar t+1, so after ``step`` the return
    ``close[t+1] / close[t] - 1`` is known; it is the auxiliary target of agent 2 (never observed).
    """

    def __init__(self, env: gym.Env, close: np.ndarray) -> None:
        super().__init__(env)
        self._close = np.asarray(close, dtype=np.float64)

    def step(self, action):
        t = self.env.unwrapped.t  # TradingEnvironment's decision bar
        obs, reward, terminated, truncated, info = self.env.step(action)
        nxt = min(t + 1, len(self._close) - 1)
        info = dict(info)
        info[NEXT_RETURN_KEY] = float(self._close[nxt] / self._close[t] - 1.0)
        return obs, reward, terminated, truncated, info

