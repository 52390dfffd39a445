"""Temporal split with purge gaps, the h5 layout round trip and its missing-item report."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from tradelab.data import store
from tradelab.data.split import default_purge_gap, temporal_split
from tradelab.errors import ConfigError, DataError
from tradelab.features import WARMUP_BARS


def test_split_fractions_and_purge_gap(ohlcv):
    s = temporal_split(ohlcv, (0.6, 0.2, 0.2), horizon=5)
    assert s.purge_gap == default_purge_gap(5) == 5 + WARMUP_BARS
    pos = {k: ohlcv.index.get_indexer(v.index) for k, v in s.parts().items()}
    assert pos["val"][0] - pos["train"][-1] - 1 == s.purge_gap
    assert pos["test"][0] - pos["val"][-1] - 1 == s.purge_gap
    assert pos["test"][-1] == len(ohlcv) - 1
    usable = len(ohlcv) - 2 * s.purge_gap
    assert len(s.train) == int(usable * 0.6) and len(s.val) == int(usable * 0.2)
    assert s.boundaries["val_start"] == s.val.index[0].isoformat()


def test_split_by_dates(ohlcv):
    val_start, test_start = ohlcv.index[700], ohlcv.index[1100]
    s = temporal_split(ohlcv, dates=(str(val_start.date()), str(test_start.date())))
    assert s.val.index[0] == val_start and s.test.index[0] == test_start
    assert s.train.index[-1] == ohlcv.index[700 - s.purge_gap - 1]


def test_split_rejects_small_gap_and_bad_fractions(ohlcv):
    with pytest.raises(ConfigError, match="purge_gap=10 is below"):
        temporal_split(ohlcv, purge_gap=10)
    with pytest.raises(ConfigError, match="sum"):
        temporal_split(ohlcv, (0.5, 0.2, 0.2))


def _splits(ohlcv: pd.DataFrame) -> dict:
    feats = pd.DataFrame({"f1": np.arange(len(ohlcv), dtype=float), "f2": 1.5}, index=ohlcv.index)
    parts = temporal_split(ohlcv.join(feats)).parts()
    return {"SYN": parts}


def test_h5_round_trip_seed_layout(tmp_path, ohlcv):
    splits = _splits(ohlcv)
    meta = {"assets": ["SYN"], "split_dates": {"SYN": {"a": "b"}}, "purge_gap": 257, "frequency": {"SYN": "daily"},
            "source": {"SYN": "synthetic"}, "content_hash": store.content_hash(splits),
            "feature_names": ["f1", "f2"], "label_horizon": 5}
    path = store.write_processed_h5(tmp_path / store.H5_NAME, splits, meta)
    with h5py.File(path) as fh:
        for split in ("train", "val", "test"):
            g = fh[f"{split}/SYN"]
            assert g["timestamp"].dtype == np.int64 and g["close"].dtype == np.float64
            assert g["features"].dtype == np.float32 and list(g["features"].attrs["names"]) == ["f1", "f2"]
        assert fh["metadata"].attrs["format_version"] == store.FORMAT_VERSION
    data = store.read_processed_h5(tmp_path)  # a folder resolves to processed_data.h5
    assert data.assets == ["SYN"] and data.feature_names == ["f1", "f2"]
    assert data.metadata["split_dates"] == {"SYN": {"a": "b"}} and data.metadata["purge_gap"] == 257
    for split, part in splits["SYN"].items():
        pd.testing.assert_frame_equal(data.frame(split, "SYN"), part[["open", "high", "low", "close", "volume"]],
                                      check_freq=False, check_index_type=False)
        np.testing.assert_array_equal(data.features(split, "SYN").to_numpy(), part[["f1", "f2"]].to_numpy("float32"))


def test_h5_reader_reports_exactly_what_is_missing(tmp_path, ohlcv):
    splits = _splits(ohlcv)
    meta = {"assets": ["SYN"], "feature_names": ["f1", "f2"], "label_horizon": 5}
    path = store.write_processed_h5(tmp_path / "p.h5", splits, meta)
    with h5py.File(path, "a") as fh:
        del fh["val/SYN/close"]
        del fh["test/SYN"]
    with pytest.raises(DataError) as err:
        store.read_processed_h5(path)
    msg = str(err.value)
    for item in ("/val/SYN/close", "group /test/SYN", "'split_dates'", "'purge_gap'", "'content_hash'", "tradelab data build"):
        assert item in msg
    assert "/train/SYN" not in msg and "'label_horizon'" not in msg


def test_missing_and_corrupt_stores(tmp_path):
    with pytest.raises(DataError, match=r"processed data not found: .*processed_data\.h5.*tradelab data build"):
        store.read_processed_h5(tmp_path / store.H5_NAME)
    (tmp_path / "junk.h5").write_text("not hdf5")
    with pytest.raises(DataError, match=r"junk\.h5 is not a readable HDF5"):
        store.read_processed_h5(tmp_path / "junk.h5")
    with pytest.raises(DataError, match=r"goog_final\.parquet.*tradelab data build"):
        store.read_final_parquet(store.final_parquet_path(tmp_path, "GOOG"))
