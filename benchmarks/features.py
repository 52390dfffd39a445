"""Benchmark: every tradelab feature on 1,000,000 synthetic bars (wall time, peak memory), beside
the reference `ta.add_all_ta_features` (ta's own all-indicator wrapper) on the same bars at a
smaller size (it is far slower). Each measurement runs in a fresh subprocess so its peak RSS is
its own.

    .venv/bin/python benchmarks/features.py [--bars 1000000] [--ref-bars 20000]

Timings on a shared machine are noisy; the figures are measured in the run, never hard-coded.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings


def _peak_rss_mib() -> float:
    scale = 1024 if sys.platform != "darwin" else 1  # ru_maxrss: KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _child(kind: str, bars: int) -> None:
    """Measure one implementation on ``bars`` bars; print one JSON line."""
    import numpy as np

    from tradelab.data.synthetic import regime_switching_gbm

    ohlcv = regime_switching_gbm(n_bars=bars, seed=0, freq="min")
    base = _peak_rss_mib()
    t0 = time.perf_counter()
    if kind == "tradelab":
        from tradelab.features import WARMUP_BARS, compute_features

        out = compute_features(ohlcv)
        ok = bool(np.isfinite(out.iloc[WARMUP_BARS:].to_numpy()).all())
        n_cols = out.shape[1]
    else:
        from ta import add_all_ta_features

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = add_all_ta_features(ohlcv.copy(), "open", "high", "low", "close", "volume")
        ok, n_cols = True, out.shape[1] - 5
    wall = time.perf_counter() - t0
    print(json.dumps({"kind": kind, "bars": bars, "wall_s": wall, "peak_rss_mib": _peak_rss_mib(),
                      "rss_before_mib": base, "columns": n_cols, "complete_after_warmup": ok}))


def _measure(kind: str, bars: int) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", kind, "--bars", str(bars)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _by_group(bars: int) -> None:
    from tradelab.data.synthetic import regime_switching_gbm
    from tradelab.features import custom, technical

    ohlcv = regime_switching_gbm(n_bars=bars, seed=0, freq="min")
    o, h, low, c, v = (ohlcv[k] for k in ("open", "high", "low", "close", "volume"))
    calls = {
        "trend (ta)": lambda: technical._trend(h, low, c),
        "momentum (ta)": lambda: technical._momentum(h, low, c, v),
        "volatility (ta)": lambda: technical._volatility(h, low, c),
        "volume (ta)": lambda: technical._volume(h, low, c, v),
        "support/resistance": lambda: custom.support_resistance(o, h, low, c),
        "statistical": lambda: custom.statistical(c),
        "price action": lambda: custom.price_action(o, h, low, c),
    }
    print(f"where tradelab's time goes ({bars:,} bars):", flush=True)
    for name, fn in calls.items():
        t0 = time.perf_counter()
        fn()
        print(f"  {name:20s} {time.perf_counter() - t0:7.2f} s", flush=True)


def _row(label: str, m: dict) -> str:
    return (f"  {label:30s} {m['bars']:>10,} {m['columns']:>5d} {m['wall_s']:9.2f} {m['bars'] / m['wall_s']:>12,.0f} "
            f"{m['peak_rss_mib']:9.0f} {m['peak_rss_mib'] - m['rss_before_mib']:9.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=1_000_000, help="bars for the main run")
    parser.add_argument("--ref-bars", type=int, default=20_000, help="bars for the side-by-side reference run")
    parser.add_argument("--child", choices=["tradelab", "ta"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.bars)
        return 0
    header = (f"  {'':30s} {'bars':>10s} {'cols':>5s} {'wall s':>9s} {'bars/s':>12s} {'peak MiB':>9s} "
              f"{'+MiB':>9s}")
    print("feature benchmark (each row a fresh process; peak = max RSS, +MiB = growth during the call)")
    print(header)
    main_run = _measure("tradelab", args.bars)
    print(_row("tradelab.compute_features", main_run), flush=True)
    print(_row("tradelab.compute_features", _measure("tradelab", args.ref_bars)), flush=True)
    print(_row("ta.add_all_ta_features (ref)", _measure("ta", args.ref_bars)), flush=True)
    print(f"rows after warm-up complete at {args.bars:,} bars: {main_run['complete_after_warmup']}")
    _by_group(args.ref_bars)
    return 0


if __name__ == "__main__":
    sys.exit(main())
