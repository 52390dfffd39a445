"""W&B as the seeds use it, offline (issue 12.13): a PPO run logs to a local W&B run folder, no network."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from test_ppo_train import TINY, write_assets

wandb = pytest.importorskip("wandb", reason="wandb is an optional extra: pip install -e .[wandb]")

HEADER = 7  # ":W&B" + 2-byte magic + 1-byte version
BLOCK = 32 * 1024  # records are chunked in 32 KiB blocks, each chunk: crc32 (4) length (2) type (1)


def read_records(path: Path) -> list:
    """The protobuf ``Record``s of a ``run-*.wandb`` transaction log (W&B's own message type)."""
    from wandb.proto import wandb_internal_pb2 as pb

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    records, pending, pos = [], b"", HEADER
    while pos + 7 <= len(data):
        room = BLOCK - pos % BLOCK
        if room < 7:  # block trailer padding
            pos += room
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            break
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):  # FULL or LAST: one complete record
            record = pb.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def history(records: list) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for record in records:
        if record.WhichOneof("record_type") == "history":
            for item in record.history.item:
                key = item.key or "/".join(item.nested_key)
                try:
                    out.setdefault(key, []).append(float(json.loads(item.value_json)))
                except (TypeError, ValueError):
                    pass
    return out


@pytest.mark.slow
def test_ppo_run_logs_metrics_to_an_offline_wandb_run(tmp_path, monkeypatch):
    from tradelab.cli import main

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_API_KEY", "")
    assets = write_assets(tmp_path, names=("AAA",))
    out = tmp_path / "run"
    assert main(["train", "ppo", "--total-timesteps", "256", "--output-dir", str(out), "--skip-test",
                 "--set", f"data.assets={json.dumps(assets)}", "--set", "data.min_overlap=100",
                 "--set", "training.wandb=true", "--set", "training.wandb_project=Ploutos_Curriculum", *TINY]) == 0
    runs = sorted((out / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1, "one offline W&B run in the run folder"
    records = read_records(runs[0])
    run = next(r.run for r in records if r.WhichOneof("record_type") == "run")
    assert run.project == "Ploutos_Curriculum"
    logged = history(records)
    for key in ("train/approx_kl", "train/explained_variance", "trading/equity", "resources/rss_mb"):
        assert key in logged, f"{key} missing from the W&B run; logged: {sorted(logged)}"
    assert min(logged["resources/rss_mb"]) > 10


def test_reader_rejects_a_file_that_is_not_a_wandb_run(tmp_path):
    bogus = tmp_path / "run-x.wandb"
    bogus.write_bytes(b"not a run")
    with pytest.raises(AssertionError, match="not a W&B run file"):
        read_records(bogus)
