"""Every bad-input case ends in one DataError naming the source, the problem, the row and the fix."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tradelab.data import EMBEDDED_ASSETS, load_asset, load_file, validate_ohlcv
from tradelab.data.split import temporal_split
from tradelab.errors import DataError


def _yahoo(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns=str.title).assign(**{"Adj Close": frame["close"] * 0.9})
    out.index = out.index.tz_localize(None).rename("Date")
    return out[["Open", "High", "Low", "Close", "Adj Close", "Volume"]]


def test_yahoo_csv_becomes_canonical_frame(tmp_path, ohlcv_small):
    path = tmp_path / "yahoo.csv"
    _yahoo(ohlcv_small).to_csv(path)
    assert path.read_text().splitlines()[0] == "Date,Open,High,Low,Close,Adj Close,Volume"
    frame = load_file(path)
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.index.name == "timestamp" and str(frame.index.tz) == "UTC"
    assert (frame.dtypes == "float64").all()
    np.testing.assert_allclose(frame["close"].to_numpy(), ohlcv_small["close"].to_numpy())  # Close, not Adj Close


def test_lowercase_parquet_becomes_canonical_frame(tmp_path, ohlcv_small):
    path = tmp_path / "lower.parquet"
    ohlcv_small.tz_convert("America/New_York").to_parquet(path)
    frame = load_file(path, asset="X")
    pd.testing.assert_frame_equal(frame, ohlcv_small.set_axis(ohlcv_small.index.as_unit("ns")), check_freq=False)


def test_unix_epoch_timestamps(tmp_path, ohlcv_small):
    raw = ohlcv_small.reset_index()
    raw["timestamp"] = ohlcv_small.index.as_unit("s").asi8  # Unix seconds, as many crypto exports have
    raw.to_csv(tmp_path / "epoch.csv", index=False)
    assert load_file(tmp_path / "epoch.csv").index.equals(ohlcv_small.index.as_unit("ns"))


def test_mixed_case_columns_with_timestamp_column(tmp_path, ohlcv_small):
    raw = ohlcv_small.reset_index().rename(columns={"timestamp": "DateTime", "open": "OPEN", "volume": "Vol"})
    path = tmp_path / "mixed.csv"
    raw.to_csv(path, index=False)
    assert len(load_file(path)) == len(ohlcv_small)


@pytest.mark.parametrize("name", sorted(EMBEDDED_ASSETS))
def test_embedded_assets_load(name):
    frame = load_asset(name.lower())
    assert len(frame) > 2000 and frame.index.is_monotonic_increasing
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]


def test_unknown_asset_lists_known():
    with pytest.raises(DataError, match=r"unknown asset 'FOO'.*EURUSD.*GOOG.*NDX.*SPX"):
        load_asset("FOO")


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv.*file not found.*Fix"):
        load_file(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty\.csv.*empty.*Fix"):
        load_file(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("Date,Open,High,Low,Close,Volume\n")
    with pytest.raises(DataError, match=r"header\.csv.*0 rows"):
        load_file(tmp_path / "header.csv")


def test_missing_columns_lists_found_and_needed(tmp_path):
    path = tmp_path / "cols.csv"
    pd.DataFrame({"Date": ["2020-01-01"], "Open": [1.0], "Close": [1.0]}).to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        load_file(path)
    msg = str(err.value)
    assert "cols.csv" in msg and "['high', 'low', 'volume']" in msg and "'Open'" in msg and "Fix" in msg


def _broken(ohlcv: pd.DataFrame, row: int, **values: float) -> pd.DataFrame:
    frame = ohlcv.copy()
    for col, val in values.items():
        frame.iloc[row, frame.columns.get_loc(col)] = val
    return frame


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"close": np.nan}, "NaN or infinite"),
        ({"volume": np.inf}, "NaN or infinite"),
        ({"low": -1.0}, "non-positive prices"),
        ({"open": 0.0}, "non-positive prices"),
        ({"volume": -5.0}, "negative volume"),
        ({"high": 1.0, "low": 2.0}, "high < low"),
        ({"close": 1e6}, r"open/close outside \[low, high\]"),
    ],
)
def test_bad_values_name_source_row_and_fix(ohlcv_small, changes, problem):
    bad = _broken(ohlcv_small, 17, **changes)
    stamp = re.escape(str(bad.index[17]))
    with pytest.raises(DataError, match=rf"my\.csv: {problem}.*first at row 17 \(timestamp {stamp}\).*Fix: "):
        validate_ohlcv(bad, "my.csv")


def test_duplicate_and_unsorted_timestamps(ohlcv_small):
    idx = ohlcv_small.index.to_list()
    idx[10] = idx[9]
    with pytest.raises(DataError, match=r"src: duplicate timestamps.*row 10.*Fix"):
        validate_ohlcv(ohlcv_small.set_axis(pd.DatetimeIndex(idx), axis=0), "src")
    swapped = ohlcv_small.iloc[[*range(20), 21, 20, *range(22, len(ohlcv_small))]]
    with pytest.raises(DataError, match=r"src: timestamps out of order.*row 21.*Fix"):
        validate_ohlcv(swapped, "src")


def test_bad_cells_in_file_name_the_file(tmp_path, ohlcv_small):
    raw = _yahoo(ohlcv_small).astype({"Close": object})
    raw.iloc[5, raw.columns.get_loc("Close")] = "12,5"
    path = tmp_path / "text.csv"
    raw.to_csv(path)
    with pytest.raises(DataError, match=r"text\.csv.*'close'.*'12,5' at row 5"):
        load_file(path)
    (tmp_path / "dates.csv").write_text("Date,Open,High,Low,Close,Volume\nnot-a-date,1,1,1,1,1\n")
    with pytest.raises(DataError, match=r"dates\.csv.*cannot be parsed as dates"):
        load_file(tmp_path / "dates.csv")


def test_too_few_rows_for_splits(ohlcv_small):
    with pytest.raises(DataError, match=r"tiny: too few rows: 400 available, \d+ needed.*Fix"):
        temporal_split(ohlcv_small, source="tiny")


def test_too_few_rows_for_warmup_and_splits_in_build(tmp_path, ohlcv_small):
    from tradelab.data.build import build_processed

    path = tmp_path / "short.csv"
    _yahoo(ohlcv_small).to_csv(path)
    with pytest.raises(DataError, match=r"asset SHORT .*short\.csv.*too few rows: 400 available.*252 warm-up bars.*Fix"):
        build_processed(csv=[(str(path), "short")], out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()
