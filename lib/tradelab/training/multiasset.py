"""Multi-asset data for PPO/curriculum: load, align on common timestamps, split, scale on train.

One helper, :func:`prepare_data`, gives ``{split: {asset: (ohlcv, scaled features)}}`` for the
portfolio env. Features are computed on each asset's full (causal) history, assets are aligned on
their common timestamps, rows are split in time with a purge gap, and one
:class:`~tradelab.features.scaling.FeatureScaler` per asset is fitted on the TRAIN rows only.
Every split is read through :func:`load_split`, so a caller that asks only for train/val never
touches the test rows (the tuner relies on this; a test patches :func:`load_split` to prove it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradelab.data.calendar import infer_frequency
from tradelab.errors import DataError

__all__ = ["SPLITS", "SplitData", "PreparedData", "align_assets", "load_split", "prepare_data", "save_scalers"]

SPLITS = ("train", "val", "test")
#: Most feature rows kept from before a split for its first observation windows (window - 1 are used).
HISTORY_ROWS = 256


@dataclass
class SplitData:
    """One split: canonical OHLCV and scaled features per asset, all on the same timestamps."""

    ohlcv: dict[str, pd.DataFrame]
    features: dict[str, pd.DataFrame]
    history: dict[str, Any] | None = None
    """scaled features of the bars just before the split (purge gap), for the first observation windows"""


@dataclass
class PreparedData:
    """Splits that were asked for, the train-fitted scalers and where the data came from."""

    assets: list[str]
    feature_names: list[str]
    scalers: dict[str, Any]
    source: str
    boundaries: dict[str, Any] = field(default_factory=dict)
    splits: dict[str, SplitData] = field(default_factory=dict)
    reader: Any = field(default=None, repr=False)

    @property
    def data_hash(self) -> str | None:
        """The processed h5's content hash (None for embedded data, which has no file)."""
        store = getattr(self.reader, "data", None)
        return getattr(store, "metadata", {}).get("content_hash") if store is not None else None

    def load(self, name: str) -> SplitData:
        """Read and scale split ``name`` now (the test split is read this way, once, at the end)."""
        if name not in self.splits:
            if self.reader is None:
                raise DataError(f"split {name!r} is not loaded and this PreparedData has no reader")
            ohlcv, feats = load_split(self.reader, name)
            scaled = {a: self.scalers[a].transform(feats[a]) for a in self.assets}
            past = getattr(self.reader, "history", lambda split: None)(name)
            history = {a: self.scalers[a].transform(past[a]) for a in self.assets} if past else None
            self.splits[name] = SplitData(ohlcv=ohlcv, features=scaled, history=history)
        return self.splits[name]

    def split(self, name: str) -> SplitData:
        if name not in self.splits:
            raise DataError(f"split {name!r} was not prepared (have {sorted(self.splits)}); "
                            f"pass splits=(..., {name!r}) to prepare_data")
        return self.splits[name]


def align_assets(frames: dict[str, pd.DataFrame], min_rows: int = 100) -> dict[str, pd.DataFrame]:
    """Keep each asset's rows on the timestamps all assets share.

    Mixed bar frequencies or fewer than ``min_rows`` common timestamps raise :class:`DataError`.
    """
    if not frames:
        raise DataError("no assets given: set data.assets (e.g. [SPX, NDX]) in the config")
    freqs = {name: infer_frequency(df.index) for name, df in frames.items()}
    if len(set(freqs.values())) > 1:
        raise DataError(
            f"assets have mixed bar frequencies {freqs}; resample them to one bar size "
            "or train them in separate stages"
        )
    common = None
    for df in frames.values():
        common = df.index if common is None else common.intersection(df.index)
    if len(common) < min_rows:
        spans = {n: f"{df.index[0].date()}..{df.index[-1].date()}" for n, df in frames.items() if len(df)}
        raise DataError(
            f"assets {list(frames)} share only {len(common)} common timestamps (spans {spans}); "
            f"need at least {min_rows}: choose assets whose histories overlap or lower data.min_overlap"
        )
    return {name: df.loc[common] for name, df in frames.items()}


class _EmbeddedSource:
    """Embedded/CSV assets: features on the full history, aligned, split with a purge gap."""

    def __init__(self, assets: list[str], fractions: tuple[float, ...], purge_gap: int | None,
                 min_overlap: int) -> None:
        from tradelab.data import load_asset
        from tradelab.data.split import temporal_split
        from tradelab.features import compute_features

        frames, feats = {}, {}
        for name in assets:
            ohlcv = _load_one(name, load_asset)
            f = compute_features(ohlcv).replace([np.inf, -np.inf], np.nan).dropna()
            frames[name], feats[name] = ohlcv.loc[f.index], f
        aligned = align_assets(frames, min_overlap)
        self.feats = {n: feats[n].loc[aligned[n].index] for n in assets}
        self.frames = aligned
        kwargs: dict[str, Any] = {"fractions": tuple(fractions), "source": f"assets {assets} (common timestamps)"}
        if purge_gap is not None:
            kwargs["purge_gap"] = purge_gap
        parts = temporal_split(aligned[assets[0]], **kwargs)
        self.index = {s: getattr(parts, s).index for s in SPLITS}
        self.boundaries = dict(getattr(parts, "boundaries", {}))
        self.boundaries["purge_gap"] = getattr(parts, "purge_gap", purge_gap)
        self.feature_names = list(next(iter(feats.values())).columns)
        self.source = f"embedded:{','.join(assets)}"

    def history(self, split: str) -> dict[str, pd.DataFrame] | None:
        """Unscaled features of the bars before ``split`` (up to HISTORY_ROWS), None when there are none."""
        first = self.index[split][0]
        past = {n: f.loc[f.index < first].iloc[-HISTORY_ROWS:] for n, f in self.feats.items()}
        return past if all(len(p) for p in past.values()) else None

    def get(self, split: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
        idx = self.index[split]
        return ({n: df.loc[idx] for n, df in self.frames.items()},
                {n: f.loc[idx] for n, f in self.feats.items()})


def _load_one(name: str, load_asset) -> pd.DataFrame:
    path = Path(name)
    if path.suffix.lower() in (".csv", ".parquet") or path.is_file():
        from tradelab.data import load_file

        return load_file(path)
    return load_asset(name)


class _H5Source:
    """A processed_data.h5 (built by ``tradelab data build``): splits are read one at a time."""

    def __init__(self, path: str | Path, assets: list[str], min_overlap: int) -> None:
        from tradelab.data.store import read_processed_h5

        self.data = read_processed_h5(path)
        known = {a.upper(): a for a in self.data.assets}
        missing = [a for a in assets if a.upper() not in known]
        if missing:
            raise DataError(f"{path}: assets {missing} not in the file (it holds {self.data.assets}); "
                            "set data.assets or rebuild with `tradelab data build`")
        self.assets = [known[a.upper()] for a in assets]
        self.min_overlap = min_overlap
        self.feature_names = list(self.data.feature_names)
        self.boundaries = dict(self.data.metadata.get("split_dates", {}) or {})
        self.source = f"h5:{path}"

    def history(self, split: str) -> dict[str, pd.DataFrame] | None:
        """The purge-gap features stored before ``split`` (files built before they existed: None)."""
        if not all(self.data.has_history(split, a) for a in self.assets):
            return None
        return {a: self.data.features(f"history_{split}", a).iloc[-HISTORY_ROWS:] for a in self.assets}

    def get(self, split: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
        frames = {a: self.data.frame(split, a) for a in self.assets}
        feats = {a: self.data.features(split, a) for a in self.assets}
        aligned = align_assets(frames, min_rows=min(self.min_overlap, 10) if split != "train" else self.min_overlap)
        return aligned, {a: feats[a].loc[aligned[a].index] for a in self.assets}


def load_split(source: Any, split: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The one accessor through which every split's rows are read (unscaled features)."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of {SPLITS}")
    return source.get(split)


def prepare_data(
    assets: list[str] | tuple[str, ...],
    h5_path: str | Path | None = None,
    fractions: tuple[float, ...] = (0.7, 0.15, 0.15),
    purge_gap: int | None = None,
    min_overlap: int = 200,
    splits: tuple[str, ...] = SPLITS,
) -> PreparedData:
    """Load ``assets`` and return the requested ``splits`` scaled with train-only scalers."""
    from tradelab.features.scaling import FeatureScaler

    assets = [str(a) for a in assets]
    if h5_path:
        source: Any = _H5Source(h5_path, assets, min_overlap)
        assets = source.assets
    else:
        source = _EmbeddedSource(assets, fractions, purge_gap, min_overlap)
    train = load_split(source, "train")
    train_feats = train[1]
    scalers = {a: FeatureScaler.fit(train_feats[a], columns=source.feature_names) for a in assets}
    out = PreparedData(assets=assets, feature_names=source.feature_names, scalers=scalers,
                       source=source.source, boundaries=source.boundaries, reader=source)
    out.splits["train"] = SplitData(ohlcv=train[0], features={a: scalers[a].transform(train[1][a]) for a in assets})
    for name in splits:
        out.load(name)
    return out


def save_scalers(prepared: PreparedData, path: str | Path) -> Path:
    """Write the train-fitted scalers (one per asset) and the feature list as JSON."""
    from tradelab.utils import atomic_write_text

    payload = {
        "assets": prepared.assets,
        "feature_names": prepared.feature_names,
        "source": prepared.source,
        "boundaries": {k: str(v) for k, v in prepared.boundaries.items()},
        "scalers": {a: s.to_dict() for a, s in prepared.scalers.items()},
    }
    return atomic_write_text(path, json.dumps(payload, indent=2, default=str) + "\n")


def evaluate_portfolio_against_baselines(policy: Any, data: dict[str, pd.DataFrame], features: dict[str, Any],
                                         config: Any, out_dir: str | Path, name: str = "agent",
                                         cost_multipliers: tuple[float, ...] = (0, 1, 2), seed: int = 0,
                                         history: dict[str, Any] | None = None,
                                         run_meta: dict[str, Any] | None = None) -> Any:
    """Portfolio twin of :func:`tradelab.evaluation.report.evaluate_against_baselines`.

    Same outputs (``metrics.json`` as a :class:`~tradelab.results.RunResult`, returned; ``equity.csv``,
    equity/drawdown/position PNGs, ``report_meta.json``); each baseline (buy-and-hold, flat, SMA
    crossover, random) holds an equal share of every asset, run through the same PortfolioEnv, fills
    and costs as the agent. ``run_meta``: the meta fields only the caller knows (workflow, data_hash, ...).
    """
    from tradelab.evaluation.baselines import baseline_exposures
    from tradelab.evaluation.report import write_strategy_report

    assets = list(data)
    n_bars = len(data[assets[0]])
    per_asset = {a: baseline_exposures(data[a], long_only=config.long_only, seed=seed) for a in assets}
    strategies: dict[str, Any] = {name: policy}
    for base in per_asset[assets[0]]:
        weights = np.zeros((n_bars, config.max_assets))
        for j, a in enumerate(assets):
            weights[:, j] = np.asarray(per_asset[a][base], dtype=float).reshape(-1) / len(assets)
        strategies[base] = weights
    index = data[assets[0]].index
    meta = {"assets": assets, "n_bars": n_bars, "start": index[0].isoformat(), "end": index[-1].isoformat(),
            "baselines": "equal share of each asset's baseline exposure"}
    titles = (f"{name} vs equal-weight baselines (1x costs)", "drawdown (1x costs)", "gross position")
    return write_strategy_report(strategies, data, features, config, out_dir, cost_multipliers, name, titles, meta,
                                 history=history, run_meta={"asset": assets, **(run_meta or {})})
