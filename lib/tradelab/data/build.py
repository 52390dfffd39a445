"""Build the processed stores from embedded assets and/or user files.

Per asset: load + validate → features on the FULL history (causal) → drop the warm-up rows →
temporal split with purge gaps → label spec (regime thresholds) fitted on train → write
``processed_data.h5`` (all assets), ``{asset}_final.parquet`` and ``feature_spec.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tradelab.data import store
from tradelab.data.calendar import infer_frequency
from tradelab.data.sources import EMBEDDED_ASSETS, asset_source, load_asset, load_file
from tradelab.data.split import MIN_SPLIT_ROWS, SPLITS, SplitResult, default_purge_gap, temporal_split
from tradelab.data.validate import OHLCV_COLUMNS, require_rows
from tradelab.errors import ConfigError, DataError
from tradelab.features.labels import LabelSpec, fit_label_spec, make_labels
from tradelab.features.scaling import FeatureScaler
from tradelab.features.technical import FEATURE_GROUPS, WARMUP_BARS, compute_features, feature_names

__all__ = ["build_processed", "resolve_inputs", "stored_assets", "SPEC_NAME"]

SPEC_NAME = store.SPEC_NAME


def resolve_inputs(assets: Iterable[str] | None, csv: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str | None]]:
    """(NAME, path or None for embedded): neither given → all four embedded; only csv → only files."""
    csv = [(str(p), str(n)) for p, n in csv]
    names = list(assets) if assets else ([] if csv else list(EMBEDDED_ASSETS))
    items: list[tuple[str, str | None]] = [(n.strip().upper(), None) for n in names]
    items += [(n.strip().upper(), p) for p, n in csv]
    seen = [n for n, _ in items]
    dupes = sorted({n for n in seen if seen.count(n) > 1})
    if dupes:
        raise ConfigError(f"asset name(s) {dupes} given twice. Fix: give each --csv file a distinct --asset NAME.")
    return items


def _load(name: str, path: str | None) -> tuple[pd.DataFrame, str]:
    if path is None:
        frame = load_asset(name)
        return frame, asset_source(name)
    return load_file(path, asset=name), str(Path(path).resolve())


def _process(name: str, ohlcv: pd.DataFrame, source: str, fractions: Sequence[float], horizon: int,
             dates: Sequence[str] | None, purge_gap: int | None) -> dict[str, Any]:
    gap = default_purge_gap(horizon) if purge_gap is None else purge_gap
    require_rows(len(ohlcv), WARMUP_BARS + 2 * gap + 3 * MIN_SPLIT_ROWS, f"asset {name} ({source})",
                 f"{WARMUP_BARS} warm-up bars, two purge gaps of {gap} and three splits of >= {MIN_SPLIT_ROWS}")
    feats = compute_features(ohlcv)
    full = pd.concat([ohlcv, feats], axis=1).iloc[WARMUP_BARS:]
    split: SplitResult = temporal_split(full, fractions, purge_gap=gap, dates=dates, horizon=horizon,
                                        source=f"asset {name}")
    spec: LabelSpec = fit_label_spec(split.train[list(OHLCV_COLUMNS)], horizon=horizon)
    labels = make_labels(ohlcv, spec)
    rows = []
    for part_name, part in split.parts().items():
        rows.append(part.join(labels).assign(split=part_name))
    final = pd.concat(rows)
    final = final[final["label_signal"] >= 0]
    scaler = FeatureScaler.fit(split.train[feature_names()])
    parts = split.parts()  # the purge-gap bars before val and test, for their first observation windows
    gaps = {f"history_{s}": full[(full.index > parts[prev].index[-1]) & (full.index < parts[s].index[0])]
            for prev, s in (("train", "val"), ("val", "test"))}
    return {"split": split, "spec": spec, "final": final, "scaler": scaler, "gaps": gaps,
            "frequency": infer_frequency(ohlcv.index), "source": source}


def _per_asset(built: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        n: {
            "source": b["source"],
            "frequency": b["frequency"],
            "boundaries": b["split"].boundaries,
            "rows": {s: len(b["split"].parts()[s]) for s in SPLITS},
            "label_spec": b["spec"].to_dict(),
            "scaler": b["scaler"].to_dict(),
        }
        for n, b in built.items()
    }


def _h5_metadata(common: dict[str, Any], per_asset: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        **{k: v for k, v in common.items() if k != "split_dates_requested"},
        "assets": list(per_asset),
        "split_dates": {n: a["boundaries"] for n, a in per_asset.items()},
        "frequency": {n: a["frequency"] for n, a in per_asset.items()},
        "source": {n: a["source"] for n, a in per_asset.items()},
        "label_specs": {n: a["label_spec"] for n, a in per_asset.items()},
    }


def build_processed(
    assets: Iterable[str] | None = None,
    csv: Iterable[tuple[str, str]] = (),
    out_dir: str | Path = store.DEFAULT_PROCESSED_DIR,
    fractions: Sequence[float] = (0.7, 0.15, 0.15),
    horizon: int = 5,
    seed: int = 0,
    dates: Sequence[str] | None = None,
    purge_gap: int | None = None,
    progress: bool = False,
    replace: bool = False,
) -> dict[str, Any]:
    """Build the h5 store, one ``{asset}_final.parquet`` per asset and ``feature_spec.json``.

    ``csv`` holds (path, asset name) pairs. Returns a summary (paths, rows per split, hash).
    The build is deterministic; ``seed`` is recorded for provenance. ``progress`` shows a tqdm bar.

    One build at a time per folder (a lock; a second gets a clear error). Every file carries the
    build's ``build_id`` and readers refuse a folder that mixes builds; ``feature_spec.json`` is
    removed first and written last. Temp files left by a killed build are removed.

    A folder that already holds assets not in this build (other runs read them) is refused with a
    :class:`DataError` naming them, unless ``replace`` (then their files are removed, said so).
    """
    from tqdm.auto import tqdm

    from tradelab.utils.lock import run_lock

    out_dir = Path(out_dir)
    inputs = resolve_inputs(assets, csv)
    names = [n for n, _ in inputs]
    _refuse_dropping(out_dir, names, replace)  # before minutes of feature work
    built = {name: _process(name, *_load(name, path), fractions, horizon, dates, purge_gap)
             for name, path in tqdm(inputs, desc="assets", unit="asset", disable=not progress)}
    with run_lock(out_dir, "data build"):
        _refuse_dropping(out_dir, names, replace)  # again under the lock: another build may have finished
        return _write_locked(built, inputs, out_dir, fractions, horizon, seed, dates)


def stored_assets(out_dir: str | Path) -> list[str]:
    """Assets a folder's stores hold now: the h5's (``metadata.assets``) and every ``{asset}_final.parquet``."""
    import h5py

    out_dir = Path(out_dir)
    found: list[str] = []
    h5 = out_dir / store.H5_NAME
    if h5.is_file():
        try:
            with h5py.File(h5, "r") as fh:
                raw = fh["metadata"].attrs.get("assets", [])
                found += [v.decode() if isinstance(v, bytes) else str(v) for v in list(raw)]
        except (OSError, KeyError, ValueError):
            pass  # an unreadable or foreign h5: nothing of a build to keep
    found += [p.name[: -len("_final.parquet")].upper() for p in sorted(out_dir.glob("*_final.parquet"))]
    return list(dict.fromkeys(n.upper() for n in found))


def _refuse_dropping(out_dir: Path, names: list[str], replace: bool) -> None:
    dropped = [n for n in stored_assets(out_dir) if n not in {m.upper() for m in names}]
    if not dropped or replace:
        return
    keep = " ".join(dict.fromkeys([*names, *dropped]))
    raise DataError(
        f"{out_dir} holds {dropped} from an earlier build, which this build of {names} would drop (processed_data.h5 "
        f"is rewritten with only the assets built; runs and notebooks trained on them read this folder). Nothing was "
        f"written. Fix: build them too (00_data: assets = {keep.split()}; CLI: --assets {keep}), write to another "
        "folder (00_data: out_dir; CLI: --out), or drop them on purpose (00_data: replace = True; CLI: --replace)"
    )


def _write_locked(built: dict, inputs: list, out_dir: Path, fractions: Sequence[float], horizon: int, seed: int,
                  dates: Sequence[str] | None) -> dict[str, Any]:
    import hashlib
    import json

    from tradelab.utils import atomic_write_json, run_metadata
    from tradelab.utils.io import remove_stale_temps

    remove_stale_temps(out_dir)
    names = feature_names()
    h5_splits = {n: {s: b["split"].parts()[s][[*OHLCV_COLUMNS, *names]] for s in SPLITS} for n, b in built.items()}
    for n, b in built.items():
        h5_splits[n].update({k: g[[*OHLCV_COLUMNS, *names]] for k, g in b["gaps"].items()})
    common = {
        "feature_names": names,
        "feature_groups": dict(FEATURE_GROUPS),
        "warmup_bars": WARMUP_BARS,
        "label_horizon": horizon,
        "purge_gap": next(iter(built.values()))["split"].purge_gap,
        "fractions": list(fractions),
        "split_dates_requested": list(dates) if dates else None,
        "content_hash": store.content_hash(h5_splits),
        "seed": seed,
    }
    # Same inputs and settings -> same id (rebuilding identical data changes no file); else a new one.
    common["build_id"] = hashlib.sha256(json.dumps([common, inputs], sort_keys=True, default=str).encode()).hexdigest()[:12]
    (out_dir / SPEC_NAME).unlink(missing_ok=True)  # no spec = no complete build, until the end
    for old in out_dir.glob("*_final.parquet"):
        if old.name not in {store.final_parquet_path(out_dir, n).name for n in built}:
            old.unlink()
            print(f"note: removed {old.name}: its asset is not in this build (replace=True; it would not match the new h5)")
    per_asset = _per_asset(built)
    h5_path = store.write_processed_h5(out_dir / store.H5_NAME, h5_splits, _h5_metadata(common, per_asset))
    parquets = {}
    for n, b in built.items():
        spec = {**common, "asset": n, **{k: v for k, v in per_asset[n].items() if k != "scaler"}}
        parquets[n] = str(store.write_final_parquet(store.final_parquet_path(out_dir, n), b["final"], spec))
    spec_path = atomic_write_json(out_dir / SPEC_NAME, {**common, "assets": per_asset, "run": run_metadata()})
    return {
        "out_dir": str(out_dir),
        "h5": str(h5_path),
        "parquet": parquets,
        "feature_spec": str(spec_path),
        "n_features": len(names),
        "rows": {n: a["rows"] for n, a in per_asset.items()},
        "labelled_rows": {n: int(len(b["final"])) for n, b in built.items()},
        "content_hash": common["content_hash"],
        "purge_gap": common["purge_gap"],
    }
