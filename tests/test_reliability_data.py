"""Issue 13 item 4: `data build` as a whole — build ids checked on read, subset builds, temps, one build at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import lock_held_by_another_process

from tradelab.data.build import build_processed
from tradelab.data.store import build_ids, read_final_parquet, read_processed_h5
from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import DataError
from tradelab.utils.lock import RunLockedError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> list[tuple[str, str]]:
    root = tmp_path_factory.mktemp("raw")
    out = []
    for i, name in enumerate(("AAA", "BBB")):
        regime_switching_gbm(n_bars=1300, seed=30 + i).to_parquet(root / f"{name}.parquet")
        out.append((str(root / f"{name}.parquet"), name))
    return out


def test_interrupted_build_is_detected_not_mixed_silently(files, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build_processed(csv=files, out_dir=a, horizon=5)
    build_processed(csv=files, out_dir=b, horizon=7)
    ids = build_ids(a)
    assert len(set(ids.values())) == 1 and set(ids) == {"processed_data.h5", "aaa_final.parquet",
                                                         "bbb_final.parquet", "feature_spec.json"}
    # What a kill right after the new h5's rename leaves: new h5, old parquets, spec already removed.
    shutil.copy(b / "processed_data.h5", a / "processed_data.h5")
    (a / "feature_spec.json").unlink()
    with pytest.raises(DataError, match="mixes two builds.*rerun `tradelab data build"):
        read_processed_h5(a / "processed_data.h5")
    with pytest.raises(DataError, match="mixes two builds"):
        read_final_parquet(a / "aaa_final.parquet")
    # Rebuilding repairs it; an identical rebuild keeps the same id (no file changes needlessly).
    build_processed(csv=files, out_dir=a, horizon=5)
    assert build_ids(a) == ids
    assert read_processed_h5(a).metadata["label_horizon"] == 5


def test_subset_build_is_refused_unless_replace(files, tmp_path):
    out = tmp_path / "p"
    build_processed(csv=files, out_dir=out)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.raises(DataError, match=r"holds \['BBB'\].*would drop.*Nothing was written.*--replace"):
        build_processed(csv=files[:1], out_dir=out)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert read_processed_h5(out).assets == ["AAA", "BBB"]
    build_processed(csv=files, out_dir=out)  # the same assets again: nothing dropped, no refusal


def test_subset_build_with_replace_drops_other_assets_and_stale_temps(files, tmp_path, capsys):
    out = tmp_path / "p"
    build_processed(csv=files, out_dir=out)
    stale = out / ".processed_data.h5.k1ll3d00.tmp"
    stale.write_bytes(b"\0" * 1000)
    build_processed(csv=files[:1], out_dir=out, replace=True)
    printed = capsys.readouterr().out
    assert not stale.exists() and "removed 1 temp file(s)" in printed
    assert not (out / "bbb_final.parquet").exists() and "bbb_final.parquet: its asset is not in this build" in printed
    assert read_processed_h5(out).assets == ["AAA"]
    read_final_parquet(out / "aaa_final.parquet")


def test_two_builds_into_one_folder(files, tmp_path):
    out = tmp_path / "busy"
    with lock_held_by_another_process(out, "data build") as proc:
        with pytest.raises(RunLockedError, match=f"in use by another data build: pid {proc.pid}"):
            build_processed(csv=files[:1], out_dir=out)
    assert not (out / "processed_data.h5").exists()
