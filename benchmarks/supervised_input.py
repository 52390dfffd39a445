"""Input pipeline of the supervised model: tf.data windows on the fly vs all windows materialised in numpy.

1M rows × 60 features, window 60, batch 256. Each side runs in its own subprocess so its peak
RSS (``VmHWM``) is its own. The tf.data side is tradelab's real ``DataLoader`` (labels and
balanced sample weights included) and iterates ``--tf-windows`` windows of the 1M-row split.
The numpy side materialises ``(N, 60, 60)`` float32 windows with ``sliding_window_view(...).copy()``
(the reference approach) and then iterates its batches; at 1M rows that array is 14.4 GB, so it
runs on ``--numpy-rows`` rows (default 40,000 → 576 MB) and its memory is extrapolated linearly
(the array dominates and grows linearly with rows). Both print windows/s beside each other.

    .venv/bin/python benchmarks/supervised_input.py [--rows 1000000] [--numpy-rows 40000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return -1


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _features(rows: int, feats: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((rows, feats), dtype=np.float32)


def run_tfdata(rows: int, feats: int, window: int, batch: int, max_windows: int) -> dict:
    import pandas as pd
    import tensorflow as tf  # noqa: F401  (threads are set right after import, before TF runs ops)

    from tradelab.features.scaling import FeatureScaler
    from tradelab.training.supervised_data import DataLoader, SplitData
    from tradelab.utils import set_threads

    set_threads(None)
    rng = np.random.default_rng(1)
    names = [f"f{i}" for i in range(feats)]
    frame = pd.DataFrame(_features(rows, feats), columns=names, copy=False)
    frame["label_signal"], frame["label_regime"] = rng.integers(0, 3, rows), rng.integers(0, 3, rows)
    frame["label_volatility"] = rng.random(rows)
    small = frame.iloc[: window * 2]
    data = SplitData("bench", Path("bench"), names, {"train": frame, "val": small, "test": small},
                     FeatureScaler.fit(frame[names].iloc[:50_000], columns=names))
    loader = DataLoader(data, time_window=window, batch_size=batch, shuffle=True, seed=0)
    data.scaled("train")
    del frame
    base_kb = _status_kb("VmRSS")
    _reset_peak()
    setup = time.perf_counter()
    batches = iter(loader.dataset("train"))
    next(batches)  # pipeline construction + first batch: reported apart from the steady rate
    start, n = time.perf_counter(), 0
    for x, _y, _w in batches:
        n += int(x.shape[0])
        if n >= max_windows:
            break
    seconds = time.perf_counter() - start
    peak_mb = _status_kb("VmHWM") / 1024
    return {"side": "tf.data (DataLoader)", "rows": rows, "windows": n, "seconds": seconds,
            "windows_per_s": n / seconds, "base_rss_mb": base_kb / 1024, "peak_rss_mb": peak_mb,
            "grown_mb": peak_mb - base_kb / 1024, "full_rows_grown_mb": peak_mb - base_kb / 1024,
            "note": f"iterated {n:,} of {rows - window + 1:,} windows after a first batch that took "
                    f"{start - setup:.2f} s (pipeline set-up); base RSS holds TF and the {rows:,}-row frame"}


def run_numpy(rows: int, feats: int, window: int, batch: int, full_rows: int) -> dict:
    x = _features(rows, feats)
    base_kb = _status_kb("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    windows = np.lib.stride_tricks.sliding_window_view(x, (window, feats))[:, 0].copy()  # (N-W+1, W, F)
    n = 0
    for i in range(0, len(windows), batch):
        n += len(windows[i : i + batch])
    seconds = time.perf_counter() - start
    peak_mb = _status_kb("VmHWM") / 1024
    grown_mb = peak_mb - base_kb / 1024
    full_windows = full_rows - window + 1
    return {"side": "numpy (materialised)", "rows": rows, "windows": n, "seconds": seconds,
            "windows_per_s": n / seconds, "base_rss_mb": base_kb / 1024, "peak_rss_mb": peak_mb,
            "grown_mb": grown_mb, "full_rows_grown_mb": grown_mb * full_windows / n,
            "note": f"measured on {rows:,} rows (window array {windows.nbytes / 2**20:,.0f} MB); "
                    f"the growth at {full_rows:,} rows is extrapolated linearly"}


def _child(args: argparse.Namespace, side: str) -> dict:
    cmd = [sys.executable, __file__, "--child", side, "--rows", str(args.rows), "--numpy-rows", str(args.numpy_rows),
           "--features", str(args.features), "--window", str(args.window), "--batch", str(args.batch),
           "--tf-windows", str(args.tf_windows)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--numpy-rows", type=int, default=40_000)
    p.add_argument("--features", type=int, default=60)
    p.add_argument("--window", type=int, default=60)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--tf-windows", type=int, default=200_000, help="windows the tf.data side iterates")
    p.add_argument("--child", choices=("tfdata", "numpy"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child == "tfdata":
        print(json.dumps(run_tfdata(args.rows, args.features, args.window, args.batch, args.tf_windows)))
        return
    if args.child == "numpy":
        print(json.dumps(run_numpy(args.numpy_rows, args.features, args.window, args.batch, args.rows)))
        return
    results = [_child(args, "tfdata"), _child(args, "numpy")]
    full_gb = (args.rows - args.window + 1) * args.window * args.features * 4 / 2**30
    print(f"rows={args.rows:,} features={args.features} window={args.window} batch={args.batch} "
          f"threads={os.environ.get('TRADELAB_THREADS', '1')}; full window tensor would be {full_gb:.1f} GiB")
    print(f"{'pipeline':<22}{'rows run':>10}{'windows':>10}{'s':>8}{'windows/s':>12}{'base MB':>9}"
          f"{'peak MB':>9}{'growth MB':>11} {f'growth @{args.rows:,} rows MB':>24}")
    for r in results:
        print(f"{r['side']:<22}{r['rows']:>10,}{r['windows']:>10,}{r['seconds']:>8.2f}{r['windows_per_s']:>12,.0f}"
              f"{r['base_rss_mb']:>9,.0f}{r['peak_rss_mb']:>9,.0f}{r['grown_mb']:>11,.0f} {r['full_rows_grown_mb']:>24,.0f}")
    for r in results:
        print(f"  {r['side']}: {r['note']}")


if __name__ == "__main__":
    main()
