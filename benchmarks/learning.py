"""Does each learner learn? Every learner × every planted market × seeds, under a fixed CPU budget.

Learners: SAC agents 1/2/3 (:mod:`tradelab.training.learners_sac`), PPO V3 and curriculum stage 1
(:mod:`tradelab.training.learners_ppo`), Morningstar's signal head and a logistic regression
(:mod:`tradelab.training.learners_supervised`). A runner module that is absent on this branch gives a
"not available on this branch" row instead of a failure. Markets: the planted kinds of
:mod:`tradelab.data.synthetic` (momentum, mean_reversion, nonlinear, null).

One table: test Sharpe and total return at 1x costs as mean ± std over seeds, beside the oracle,
the market's simple rule, buy-and-hold and flat (same env, same costs), with wall time and steps.
Then the learning curve per learner (validation metric against steps, as text and one PNG per
market), and on the null market how often each learner "beat buy-and-hold" with a bootstrap
interval of the Sharpe of its test returns pooled over seeds. Everything runs on one thread.

Validation gate (``--val-gate-z``, default 2): a learner trades on test only when its best validation
Sharpe (the figure it was selected on) clears z standard errors of a zero Sharpe over the validation
bars (0.75 on the planted markets' 1,800 validation days); otherwise it stays flat, as a researcher would
not deploy a model that never beat flat out of sample. The table shows the gated figure and, beside it,
the ungated best-validation checkpoint's, so neither hides the other; ``--val-gate-z 0`` switches it off.

    .venv/bin/python benchmarks/learning.py [--markets momentum,null] [--learners sac1,ppo_v3]
        [--seeds 3] [--budget-s 600] [--val-gate-z 2] [--out outputs/bench_learning]
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "TRADELAB_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: learner key → (module, function, fixed keyword arguments)
LEARNERS: dict[str, tuple[str, str, dict]] = {
    "sac1": ("tradelab.training.learners_sac", "run_sac", {"agent_id": 1}),
    "sac2": ("tradelab.training.learners_sac", "run_sac", {"agent_id": 2}),
    "sac3": ("tradelab.training.learners_sac", "run_sac", {"agent_id": 3}),
    "ppo_v3": ("tradelab.training.learners_ppo", "run_ppo", {}),
    "curriculum1": ("tradelab.training.learners_ppo", "run_curriculum_stage1", {}),
    "morningstar": ("tradelab.training.learners_supervised", "run_morningstar", {}),
    "logreg": ("tradelab.training.learners_supervised", "run_logreg", {}),
}
MARKETS = ("momentum", "mean_reversion", "nonlinear", "null")
REFERENCES = ("oracle", "main_rule", "buy_and_hold", "flat")


def runner(key: str):
    """The learner's runner function, or None when its module is not on this branch."""
    module, func, fixed = LEARNERS[key]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise
    fn = getattr(mod, func, None)
    return None if fn is None else (lambda market, seed, **kw: fn(market, seed, **fixed, **kw))


def _csv(text: str, allowed: tuple[str, ...] | list[str], what: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in allowed]
    if bad:
        sys.exit(f"--{what}: unknown {bad}; choose from {','.join(allowed)}")
    return items


def val_bars(market: str, seed: int, workdir: Path) -> int:
    """Bars in the market's validation split (the normal data build, shared with the learners)."""
    from tradelab.agents.sac_data import load_split_data
    from tradelab.evaluation.learning import build_market_h5

    return len(load_split_data(build_market_h5(market, seed, workdir)).frames["val"])


def run_all(markets: list[str], learners: list[str], seeds: list[int], budget_s: float, workdir: Path,
            gate_z: float = 2.0) -> dict:
    """Train and test everything; returns ``{market: {"refs": {...}, "learners": {key: [results]}}}``.

    With ``gate_z > 0`` each result goes through :func:`tradelab.evaluation.learning.apply_validation_gate`
    (flat unless its best validation Sharpe clears ``gate_z`` standard errors); the ungated figures stay
    in ``extra``.
    """
    from tradelab.evaluation.learning import apply_validation_gate, validation_gate_threshold
    from tradelab.training.learners_sac import reference_results

    out: dict = {}
    for market in markets:
        refs = {s: reference_results(market, s, workdir=workdir) for s in seeds}
        gates = {s: validation_gate_threshold(val_bars(market, s, workdir), gate_z) for s in seeds} if gate_z > 0 else {}
        entry: dict = {"refs": refs, "learners": {}, "missing": [], "errors": {}}
        for key in learners:
            fn = runner(key)
            if fn is None:
                entry["missing"].append(key)
                continue
            results = []
            for seed in seeds:
                print(f"[{market}] {key} seed {seed} (budget {budget_s:.0f}s)...", flush=True)
                try:
                    result = fn(market, seed, budget_s=budget_s, workdir=workdir / key)
                    if gates:
                        result = apply_validation_gate(result, refs[seed]["flat"], gates[seed])
                    results.append(result)
                except Exception as exc:  # one learner's failure must not hide the others' rows
                    entry["errors"][key] = f"{type(exc).__name__}: {exc}"
                    print(f"  failed: {entry['errors'][key]}", flush=True)
                    break
            entry["learners"][key] = results
        entry["gate_threshold"] = gates
        out[market] = entry
    return out


def _pct(values: list[float]) -> str:
    from tradelab.evaluation.learning import fmt_mean_std

    return fmt_mean_std([100.0 * v for v in values], digits=1) + " %"


def _seconds(results: list) -> str:
    from tradelab.evaluation.learning import mean_std

    wall = mean_std([r.wall_s for r in results])[0]
    cpu = mean_std([r.extra.get("cpu_s") for r in results])[0]
    return f"{wall:.0f}" + ("" if cpu != cpu else f" ({cpu:.0f})")


def _gate_cells(results: list) -> tuple[str, str]:
    """(ungated test Sharpe mean ± std, "passed/N") when the gate was applied, else ("", "")."""
    from tradelab.evaluation.learning import fmt_mean_std

    gated = [r for r in results if "gate" in r.extra]
    if not gated:
        return "", ""
    passed = [r.extra["gate"]["passed"] for r in gated]
    count = "n/a" if all(p is None for p in passed) else f"{sum(bool(p) for p in passed)}/{len(passed)}"
    return fmt_mean_std([r.extra["raw_test_sharpe"] for r in gated]), count


def _ci(results: list, key: str = "test_returns") -> str:
    from tradelab.evaluation.learning import pooled_sharpe_ci

    interval = pooled_sharpe_ci(results, key=key)
    return "n/a" if interval is None else f"[{interval[0]:.2f}, {interval[1]:.2f}]"


def table(bench: dict) -> str:
    """The one table (markdown): learners and references per market."""
    from tradelab.evaluation.learning import fmt_mean_std, mean_std

    head = ("| market | learner | test Sharpe (1x) | test total return (1x) | ungated Sharpe | val gate passed | "
            "wall s (CPU s) | steps | null: beat B&H | null: Sharpe 95% CI (ungated) |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    rows = [head]
    for market, entry in bench.items():
        refs = entry["refs"]
        for name in REFERENCES:
            label = f"{refs[next(iter(refs))][name].get('name', name)} (reference)"
            rows.append(f"| {market} | {label} | {fmt_mean_std([r[name]['sharpe_ratio'] for r in refs.values()])} | "
                        f"{_pct([r[name]['total_return'] for r in refs.values()])} | | | – | – | | |")
        for key, results in entry["learners"].items():
            if not results:
                rows.append(f"| {market} | {key} | failed: {entry['errors'].get(key, '?')[:80]} | | | | | | | |")
                continue
            raw, passed = _gate_cells(results)
            beat, ci = "", ""
            if market == "null":
                bh = {s: r["buy_and_hold"]["sharpe_ratio"] for s, r in refs.items()}
                beat = f"{sum(r.test_sharpe > bh[r.seed] for r in results)}/{len(results)}"
                ci = _ci(results) + (f" ({_ci(results, 'raw_test_returns')})" if raw else "")
            rows.append(
                f"| {market} | {key} | {fmt_mean_std([r.test_sharpe for r in results])} | "
                f"{_pct([r.test_return for r in results])} | {raw} | {passed} | {_seconds(results)} | "
                f"{mean_std([r.steps for r in results])[0]:.0f} | {beat} | {ci} |")
        for key in entry["missing"]:
            rows.append(f"| {market} | {key} | not available on this branch | | | | | | | |")
    gates = {m: e.get("gate_threshold") for m, e in bench.items() if e.get("gate_threshold")}
    if gates:
        rows.append("\nValidation gate: trade on test only if the best validation Sharpe >= "
                    + ", ".join(f"{m} {mean_std(list(g.values()))[0]:.2f}" for m, g in gates.items())
                    + " (else flat); 'ungated' is the selected checkpoint's own test figure.")
    return "\n".join(rows)


def curves(bench: dict, out: Path) -> str:
    """Learning curves as text, and one PNG per market (paths listed)."""
    from tradelab.evaluation.learning import curve_text, plot_curves

    parts = []
    for market, entry in bench.items():
        groups = {k: v for k, v in entry["learners"].items() if v}
        for key, results in groups.items():
            parts.append(f"{market} / {key} ({results[0].curve_metric} vs steps):\n{curve_text(results)}")
        if groups:
            refs = entry["refs"]
            floor = sum(r["main_rule"]["sharpe_ratio"] for r in refs.values()) / len(refs)
            png = plot_curves(groups, out / f"curves_{market}.png", title=f"{market}: validation metric vs steps",
                              floor=floor)
            parts.append(f"PNG: {png}")
    return "\n\n".join(parts)


def _jsonable(bench: dict) -> dict:
    out = {}
    for market, entry in bench.items():
        refs = {s: {k: {kk: vv for kk, vv in v.items() if kk != "returns"} for k, v in r.items()}
                for s, r in entry["refs"].items()}
        learners = {k: [{kk: vv for kk, vv in r.to_dict().items()} | {"extra": {kk: vv for kk, vv in r.extra.items()
                                                                             if kk not in ("test_returns", "raw_test_returns")}}
                        for r in v]
                    for k, v in entry["learners"].items()}
        out[market] = {"refs": refs, "learners": learners, "missing": entry["missing"], "errors": entry["errors"],
                       "gate_threshold": entry.get("gate_threshold", {})}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markets", default=",".join(MARKETS), help="comma-separated planted kinds")
    parser.add_argument("--learners", default=",".join(LEARNERS), help="comma-separated learner keys")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (market seed = training seed)")
    parser.add_argument("--budget-s", type=float, default=600.0,
                        help="training CPU seconds per learner and seed (SAC counts process time)")
    parser.add_argument("--val-gate-z", type=float, default=2.0,
                        help="trade on test only when the best validation Sharpe clears this many standard errors "
                             "of a zero Sharpe (else flat); 0: off. Both figures are printed")
    parser.add_argument("--out", type=Path, default=Path("outputs/bench_learning"), help="PNG and JSON folder")
    parser.add_argument("--workdir", type=Path, help="data and run folders (default: a temporary folder)")
    args = parser.parse_args(argv)
    markets = _csv(args.markets, MARKETS, "markets")
    learners = _csv(args.learners, list(LEARNERS), "learners")
    seeds = list(range(max(1, args.seeds)))

    from tradelab.utils import atomic_write_json, set_threads
    from tradelab.utils.tensorboard import skip_tensorflow

    skip_tensorflow()  # this script is an entry point: SB3's TensorBoard writer without all of TensorFlow
    set_threads(1)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_learning_") as tmp:
        bench = run_all(markets, learners, seeds, args.budget_s, args.workdir or Path(tmp), args.val_gate_z)
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"\nLearning benchmark: {len(seeds)} seed(s), budget {args.budget_s:.0f}s per run, one thread, "
              f"test split at 1x costs (total {time.perf_counter() - t0:.0f}s)\n")
        print(table(bench))
        print("\nLearning curves\n" + curves(bench, args.out))
        atomic_write_json(args.out / "learning.json", _jsonable(bench))
    print(f"\nresults: {args.out / 'learning.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
