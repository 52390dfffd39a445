"""Resource monitoring (CPU %, RSS, GPU memory) and per-run log files in every trainer (issue 12.9, 12.12)."""

from __future__ import annotations

import io
import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from tradelab.training.monitor import RESOURCE_KEYS, ResourceMonitor, format_postfix

ROOT = Path(__file__).resolve().parents[1]


def test_sampler_sees_cpu_work_and_memory():
    monitor = ResourceMonitor()
    time.sleep(0.3)
    idle = monitor.sample()
    end, x = time.perf_counter() + 0.4, 0
    while time.perf_counter() < end:  # a busy loop: this process uses a whole core
        x += 1
    busy = monitor.sample()
    assert set(busy) == set(RESOURCE_KEYS)
    assert busy["cpu_percent"] > max(10.0, 3 * idle["cpu_percent"])  # shared cores: a busy loop may get < 100%
    blob = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB touched
    grown = monitor.sample()
    assert grown["rss_mb"] - busy["rss_mb"] > 40 and blob.sum() > 0
    assert math.isnan(busy["gpu_mem_mb"]) == (monitor.gpu_source is None)


def test_postfix_shows_gpu_only_when_there_is_one():
    assert format_postfix({"cpu_percent": 97.4, "rss_mb": 811.6, "gpu_mem_mb": float("nan")}) == \
        {"cpu": "97%", "rss": "812M"}
    assert format_postfix({"cpu_percent": 5, "rss_mb": 1, "gpu_mem_mb": 1234.0})["gpu"] == "1234M"


def test_keras_one_line_per_epoch_off_a_terminal_and_resources_in_history():
    import keras

    from tradelab.training.monitor import keras_callback
    from tradelab.training.supervised import fit_verbose

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert fit_verbose(1, io.StringIO()) == 2 and fit_verbose(1, Tty()) == 1
    assert fit_verbose(0, io.StringIO()) == 0 and fit_verbose(2, Tty()) == 2
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    hist = model.fit(np.ones((32, 3)), np.ones(32), epochs=2, verbose=0, callbacks=[keras_callback()])
    assert len(hist.history["rss_mb"]) == 2 and min(hist.history["rss_mb"]) > 10
    assert len(hist.history["cpu_percent"]) == 2


def test_sac_run_logs_resources_stats_tensorboard_and_log_file(tmp_path):
    from tradelab.data.build import build_processed
    from tradelab.data.synthetic import regime_switching_gbm
    from tradelab.training.callbacks import read_scalars
    from tradelab.training.sac_trainer import KaggleTrainer, SACTrainingConfig

    regime_switching_gbm(n_bars=1200, seed=5).to_parquet(tmp_path / "syn.parquet")
    build_processed(csv=[(str(tmp_path / "syn.parquet"), "SYN")], out_dir=tmp_path)
    cfg = SACTrainingConfig.from_yaml(ROOT / "configs" / "sac.yaml", **{
        "sac.hidden_dims": [16, 16], "sac.batch_size": 16, "sac.buffer_capacity": 1000, "env.window": 8,
        "final_test": False})
    out = tmp_path / "sac"
    KaggleTrainer(tmp_path / "processed_data.h5", out, num_episodes=2, eval_frequency=1, checkpoint_frequency=1,
                  device="cpu", episode_length=32, warmup_steps=16, config=cfg, progress=False).run_training()
    stats = json.loads((out / "logs" / "training_stats.json").read_text())
    for key in RESOURCE_KEYS:
        assert len(stats["episodes"][key]) == 2
    assert min(stats["episodes"]["rss_mb"]) > 10
    tags = set(read_scalars(out / "tensorboard")["tag"])
    assert {"resources/cpu_percent", "resources/rss_mb", "train/reward", "eval/sharpe_ratio"} <= tags
    text = (out / "logs" / "training.log").read_text()
    assert "episode 2 train:" in text and "rss_mb=" in text and "finished: best val Sharpe" in text


@pytest.mark.slow
def test_ppo_run_logs_resources_and_training_v3_log(tmp_path):
    from test_ppo_train import TINY, write_assets

    from tradelab.cli import main
    from tradelab.training.callbacks import read_scalars

    assets = write_assets(tmp_path, names=("AAA",))
    out = tmp_path / "run"
    assert main(["train", "ppo", "--total-timesteps", "256", "--output-dir", str(out), "--skip-test",
                 "--set", f"data.assets={json.dumps(assets)}", "--set", "data.min_overlap=100", *TINY]) == 0
    samples = json.loads((out / "logs" / "resources.json").read_text())
    assert samples["timesteps"] == [128, 256] and min(samples["rss_mb"]) > 10
    assert {"resources/cpu_percent", "resources/rss_mb"} <= set(read_scalars(out / "tensorboard")["tag"])
    text = (out / "logs" / "training_v3.log").read_text()
    assert "ppo_v3: 256 steps" in text and "step 256:" in text and "cpu_percent=" in text
