"""On-disk stores: ``processed_data.h5`` (seed layout + features) and ``{asset}_final.parquet``.

h5 layout: ``/train|val|test/{ASSET}/`` datasets ``timestamp`` (int64 ns UTC), ``open high low
close volume`` (float64) and ``features`` (float32, rows x F, attribute ``names``);
``/metadata`` attributes (dicts stored as JSON strings, listed in attribute ``_json_keys``).

One ``tradelab data build`` writes the h5, the parquets and ``feature_spec.json`` with the same
``build_id`` (h5 metadata attribute, parquet spec, spec field). Reading any of them checks the
tradelab files beside it: a file from another build (an interrupted or partial build left a mix)
is refused with both ids named (:func:`check_build`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradelab.data.split import SPLITS
from tradelab.data.validate import OHLCV_COLUMNS
from tradelab.errors import DataError
from tradelab.utils.io import atomic_path

__all__ = [
    "DEFAULT_PROCESSED_DIR", "H5_NAME", "FORMAT_VERSION", "REQUIRED_METADATA", "ProcessedData",
    "write_processed_h5", "read_processed_h5", "write_final_parquet", "read_final_parquet",
    "final_parquet_path", "content_hash",
]

DEFAULT_PROCESSED_DIR = Path("data/processed")
H5_NAME = "processed_data.h5"
FORMAT_VERSION = 1
REQUIRED_METADATA = ("assets", "split_dates", "purge_gap", "frequency", "source", "format_version",
                     "content_hash", "feature_names", "label_horizon")
#: Splits stored with the purge-gap bars before them (``/history/{split}/{asset}``), read as "history_{split}".
HISTORY_SPLITS = ("val", "test")
_BUILD_HINT = "Fix: run `tradelab data build` (or notebooks/00_data.ipynb) to create it"
_PARQUET_KEY = b"tradelab"
SPEC_NAME = "feature_spec.json"


def content_hash(splits: dict[str, dict[str, pd.DataFrame]]) -> str:
    """SHA-256 over every asset's split arrays (timestamps, OHLCV, features) and column names."""
    h = hashlib.sha256()
    for asset in sorted(splits):
        for split in SPLITS:
            frame = splits[asset][split]
            h.update(f"{asset}/{split}/{','.join(map(str, frame.columns))}".encode())
            h.update(frame.index.as_unit("ns").asi8.tobytes())
            h.update(np.ascontiguousarray(frame.to_numpy(dtype="float64")).tobytes())
    return h.hexdigest()


def _attr(value: Any) -> Any:
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return np.array(value, dtype=object)
    return value


def write_processed_h5(path: str | Path, splits: dict[str, dict[str, pd.DataFrame]], metadata: dict[str, Any]) -> Path:
    """Write ``splits[asset][split]`` frames (OHLCV + feature columns) atomically.

    Feature columns are ``metadata["feature_names"]`` when given, else every non-OHLCV column.
    """
    import h5py

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(metadata.get("feature_names") or [])
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as fh:
        str_dt = h5py.string_dtype()
        for asset, parts in splits.items():
            # optional "history_val"/"history_test": the purge-gap bars before a split (first windows)
            for split, group in [(s, s) for s in SPLITS] + [(f"history_{s}", f"history/{s}") for s in HISTORY_SPLITS
                                                          if f"history_{s}" in parts]:
                frame = parts[split]
                cols = names or [c for c in frame.columns if c not in OHLCV_COLUMNS]
                g = fh.create_group(f"{group}/{asset}")
                g.create_dataset("timestamp", data=frame.index.as_unit("ns").asi8.astype("int64"))
                for c in OHLCV_COLUMNS:
                    g.create_dataset(c, data=frame[c].to_numpy(dtype="float64"))
                if cols:
                    ds = g.create_dataset("features", data=frame[cols].to_numpy(dtype="float32"))
                    ds.attrs.create("names", np.array(cols, dtype=object), dtype=str_dt)
        meta = fh.create_group("metadata")
        json_keys = []
        for key, value in {"format_version": FORMAT_VERSION, **metadata}.items():
            if isinstance(value, dict) or (isinstance(value, list | tuple) and not all(isinstance(v, str) for v in value)):
                value, _ = json.dumps(value, default=str), json_keys.append(key)
            value = _attr(value)
            if isinstance(value, np.ndarray) and value.dtype == object:
                meta.attrs.create(key, value, dtype=str_dt)
            else:
                meta.attrs[key] = value
        meta.attrs.create("_json_keys", np.array(json_keys, dtype=object), dtype=str_dt)
    return path


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return [_decode(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class ProcessedData:
    """In-memory view of ``processed_data.h5``."""

    path: Path
    """the file read"""
    assets: list[str]
    """asset names, as stored"""
    metadata: dict[str, Any]
    """/metadata attributes (JSON strings decoded)"""
    feature_names: list[str]
    """feature column order of every ``features`` dataset"""
    _arrays: dict[tuple[str, str], dict[str, np.ndarray]]

    def resolve_asset(self, name: str | None) -> str | None:
        """The stored spelling of asset ``name`` (case-insensitive), or None when it is not stored."""
        if name is None:
            return None
        return {a.upper(): a for a in self.assets}.get(str(name).upper())

    def _get(self, split: str, asset: str) -> dict[str, np.ndarray]:
        key = (split, asset)
        if key not in self._arrays:
            raise DataError(
                f"{self.path}: no /{split}/{asset}; splits are {list(SPLITS)}, assets {self.assets}. "
                "Fix: pick one of those or rebuild with --assets."
            )
        return self._arrays[key]

    def has_history(self, split: str, asset: str) -> bool:
        """Whether the purge-gap bars before ``split`` are stored (read them as split ``"history_" + split``)."""
        return (f"history_{split}", asset) in self._arrays

    def frame(self, split: str, asset: str) -> pd.DataFrame:
        """Canonical OHLCV frame of one split."""
        arr = self._get(split, asset)
        index = pd.DatetimeIndex(pd.to_datetime(arr["timestamp"], utc=True), name="timestamp")
        return pd.DataFrame({c: arr[c] for c in OHLCV_COLUMNS}, index=index)

    def features(self, split: str, asset: str) -> pd.DataFrame:
        """UNSCALED features, same index as :meth:`frame`, columns in ``feature_names`` order."""
        arr = self._get(split, asset)
        if "features" not in arr:
            raise DataError(f"{self.path}: /{split}/{asset} has no 'features' dataset. {_BUILD_HINT}.")
        return pd.DataFrame(arr["features"], index=self.frame(split, asset).index, columns=self.feature_names)


def _open_h5(path: Path):
    import h5py

    if not path.is_file():
        raise DataError(f"processed data not found: {path}. {_BUILD_HINT} (--out {path.parent}).")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"{path} is not a readable HDF5 file ({exc}). {_BUILD_HINT}.") from exc


def _read_metadata(fh: Any, problems: list[str]) -> dict[str, Any]:
    if "metadata" not in fh:
        problems.append("group /metadata")
        return {}
    attrs = fh["metadata"].attrs
    json_keys = set(_decode(attrs.get("_json_keys", np.array([]))))
    meta = {k: _decode(v) for k, v in attrs.items() if k != "_json_keys"}
    for k in json_keys & set(meta):
        meta[k] = json.loads(meta[k])
    problems.extend(f"/metadata attribute '{k}'" for k in REQUIRED_METADATA if k not in meta)
    return meta


def _h5_build_id(path: Path) -> str | None:
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            value = fh["metadata"].attrs.get("build_id") if "metadata" in fh else None
    except (OSError, KeyError):
        return None
    return _decode(value) if value is not None else None


def _parquet_build_id(path: Path) -> str | None:
    import pyarrow.parquet as pq

    try:
        raw = (pq.read_schema(path).metadata or {}).get(_PARQUET_KEY)
        return json.loads(raw).get("build_id") if raw else None
    except (OSError, ValueError, Exception):  # noqa: BLE001 - unreadable sibling: its own reader will say so
        return None


def _spec_build_id(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("build_id")
    except (OSError, ValueError, AttributeError):
        return None


def build_ids(folder: str | Path) -> dict[str, str | None]:
    """``{file name: build_id}`` of the tradelab build files in ``folder`` (None: written before build ids)."""
    folder = Path(folder)
    out: dict[str, str | None] = {}
    if (folder / H5_NAME).is_file():
        out[H5_NAME] = _h5_build_id(folder / H5_NAME)
    for p in sorted(folder.glob("*_final.parquet")):
        out[p.name] = _parquet_build_id(p)
    if (folder / SPEC_NAME).is_file():
        out[SPEC_NAME] = _spec_build_id(folder / SPEC_NAME)
    return out


def check_build(path: str | Path, own_id: str | None) -> None:
    """Refuse ``path`` when a tradelab file beside it comes from another build (DataError naming both)."""
    if own_id is None:  # written before build ids: nothing to compare
        return
    path = Path(path)
    others = {n: b for n, b in build_ids(path.parent).items() if n != path.name and b is not None and b != own_id}
    if others:
        listed = ", ".join(f"{n} (build {b})" for n, b in list(others.items())[:4])
        raise DataError(
            f"{path.parent} mixes two builds: {path.name} is build {own_id}, but {listed}; a `tradelab data build` "
            f"was interrupted or wrote another set of files there. Fix: rerun `tradelab data build --out {path.parent}` "
            "(or move the other files away)")


def _read_group(fh: Any, split: str, asset: str, n_features: int, problems: list[str]) -> dict[str, np.ndarray]:
    name = f"{split}/{asset}"
    if name not in fh:
        problems.append(f"group /{name}")
        return {}
    g = fh[name]
    arrays = {}
    for ds in ("timestamp", *OHLCV_COLUMNS, "features"):
        if ds not in g:
            problems.append(f"dataset /{name}/{ds}")
        else:
            arrays[ds] = g[ds][()]
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) > 1:
        problems.append(f"/{name} datasets of unequal length {sorted(lengths)}")
    if "features" in arrays and arrays["features"].shape[1:] != (n_features,):
        problems.append(f"/{name}/features shape {arrays['features'].shape}, expected (rows, {n_features})")
    return arrays


def read_processed_h5(path: str | Path) -> ProcessedData:
    """Read and validate ``processed_data.h5``; anything missing is listed in one :class:`DataError`."""
    path = Path(path)
    if path.is_dir():
        path = path / H5_NAME
    problems: list[str] = []
    with _open_h5(path) as fh:
        meta = _read_metadata(fh, problems)
        assets = [str(a) for a in meta.get("assets", [])]
        names = [str(n) for n in meta.get("feature_names", [])]
        arrays = {(s, a): _read_group(fh, s, a, len(names), problems) for s in SPLITS for a in assets}
        for s in HISTORY_SPLITS:  # optional (files built before they existed have none)
            for a in assets:
                if f"history/{s}/{a}" in fh:
                    arrays[(f"history_{s}", a)] = _read_group(fh, f"history/{s}", a, len(names), problems)
    if problems:
        raise DataError(f"{path} is incomplete: missing or invalid {', '.join(problems)}. {_BUILD_HINT}.")
    for key, arr in arrays.items():
        feats = arr.get("features")
        if feats is not None and not np.issubdtype(feats.dtype, np.number):
            raise DataError(f"{path}: /{key[0]}/{key[1]}/features holds {feats.dtype} values, not numbers; the file "
                            f"was not written by tradelab or is damaged. {_BUILD_HINT}.")
        for col in OHLCV_COLUMNS:
            if col in arr and not np.issubdtype(arr[col].dtype, np.number):
                raise DataError(f"{path}: /{key[0]}/{key[1]}/{col} holds {arr[col].dtype} values, not numbers. "
                                f"{_BUILD_HINT}.")
    check_build(path, meta.get("build_id"))
    return ProcessedData(path, assets, meta, names, arrays)


def final_parquet_path(out_dir: str | Path, asset: str) -> Path:
    """``{out_dir}/{asset lower}_final.parquet``."""
    return Path(out_dir) / f"{asset.lower()}_final.parquet"


def write_final_parquet(path: str | Path, frame: pd.DataFrame, spec: dict[str, Any]) -> Path:
    """Write the features+labels frame with ``spec`` as JSON in the parquet schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=True)
    meta = dict(table.schema.metadata or {})
    meta[_PARQUET_KEY] = json.dumps(spec, default=str).encode()
    table = table.replace_schema_metadata(meta)
    path = Path(path)
    with atomic_path(path) as tmp:  # unique temp name: concurrent writers never share one
        pq.write_table(table, tmp)
    return path


def read_final_parquet(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read ``{asset}_final.parquet`` → (frame indexed by UTC timestamp, spec dict)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise DataError(f"processed parquet not found: {path}. {_BUILD_HINT} (--out {path.parent}).")
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise DataError(f"{path} is not a readable parquet file ({exc}). {_BUILD_HINT}.") from exc
    raw = (table.schema.metadata or {}).get(_PARQUET_KEY)
    if raw is None:
        raise DataError(f"{path} has no tradelab spec in its metadata (not written by tradelab). {_BUILD_HINT}.")
    spec = json.loads(raw)
    check_build(path, spec.get("build_id"))
    frame = table.to_pandas()
    needed = [*OHLCV_COLUMNS, *spec.get("feature_names", []), "label_signal", "label_volatility", "label_regime", "split"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks columns {missing}. {_BUILD_HINT}.")
    return frame, spec
