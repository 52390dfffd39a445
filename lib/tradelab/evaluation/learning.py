"""One result shape for every learner on a planted-signal market (benchmarks/learning.py, demo, tests).

Every learner runner (SAC agents 1/2/3, PPO V3, curriculum stage 1, Morningstar's signal head, the
logistic-regression baseline) returns a :class:`LearnerResult`; the benchmark and the demo's planted
section only read this shape, so a new learner plugs in by returning one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LearnerResult", "market_asset", "build_market_h5", "PLANTED_PERIODS_PER_YEAR", "mean_std", "fmt_mean_std", "pooled_sharpe_ci", "curve_text",
           "plot_curves", "validation_gate_threshold", "apply_validation_gate"]


@dataclass
class LearnerResult:
    """A learner's outcome on one planted market and seed, evaluated on the test split at 1x costs.

    ``curve`` is the learning curve: ``(training steps or epochs, validation metric)`` pairs in the
    order they were measured; ``curve_metric`` names the metric (e.g. ``"val_sharpe"``).
    """

    learner: str
    market: str
    seed: int
    test_sharpe: float
    test_return: float
    wall_s: float
    steps: int
    curve: list[tuple[float, float]] = field(default_factory=list)
    curve_metric: str = "val_sharpe"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- summaries shared by benchmarks/learning.py and the demo's planted section ----------------------

#: planted markets are business-day bars (tradelab.data.synthetic)
PLANTED_PERIODS_PER_YEAR = 252.0


def market_asset(market: str, seed: int) -> str:
    """A planted kind ("momentum") and seed → ``PLANTED_MOMENTUM_S<seed>``; any other name upper-cased."""
    from tradelab.data.synthetic import PLANTED_KINDS, planted_asset_name

    return planted_asset_name(market, seed) if market in PLANTED_KINDS else str(market).upper()


def build_market_h5(market: str, seed: int, workdir: str | Path) -> Path:
    """``workdir/<asset>/processed_data.h5`` built through the normal data build (reused when present)."""
    from tradelab.data.build import build_processed
    from tradelab.data.store import H5_NAME

    asset = market_asset(market, seed)
    folder = Path(workdir) / asset.lower()
    h5 = folder / H5_NAME
    if not h5.is_file():
        build_processed(assets=[asset], out_dir=folder)
    return h5


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample std (0 for one value) of the finite ``values``; (nan, nan) when none."""
    import math

    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return float("nan"), float("nan")
    mean = sum(finite) / len(finite)
    var = sum((v - mean) ** 2 for v in finite) / (len(finite) - 1) if len(finite) > 1 else 0.0
    return mean, math.sqrt(var)


def fmt_mean_std(values: list[float], digits: int = 2) -> str:
    """``"1.23 ± 0.45"`` (``"–"`` when nothing is finite)."""
    import math

    mean, std = mean_std(values)
    return "–" if math.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def pooled_sharpe_ci(results: list[LearnerResult], n_boot: int = 1000,
                     periods: float = PLANTED_PERIODS_PER_YEAR, key: str = "test_returns") -> tuple[float, float] | None:
    """Bootstrap interval of the Sharpe of the test bar returns pooled over seeds.

    Uses :func:`tradelab.evaluation.metrics.bootstrap_sharpe_ci` on ``extra[key]`` (``"raw_test_returns"``:
    the ungated figures of :func:`apply_validation_gate`); None when no result carries its returns.
    """
    import numpy as np

    from tradelab.evaluation.metrics import bootstrap_sharpe_ci

    parts = [np.asarray(r.extra[key], dtype=np.float64) for r in results if r.extra.get(key)]
    if not parts:
        return None
    return bootstrap_sharpe_ci(np.concatenate(parts), periods, n_boot=n_boot)


def validation_gate_threshold(n_val_bars: int, z: float, periods: float = PLANTED_PERIODS_PER_YEAR) -> float:
    """``z`` standard errors of an annualised Sharpe measured on ``n_val_bars`` bar returns when the true one is 0.

    Lo (2002): the standard error of a per-bar Sharpe estimate near 0 is ``sqrt(1 / n)``, so annualised it
    is ``sqrt(periods / n)`` (0.37 on 1,800 daily bars). A learner whose best validation Sharpe does not
    clear ``z`` of them has not shown an edge over flat on data it was not trained on.
    """
    import math

    if n_val_bars < 2:
        raise ValueError(f"validation gate: need at least 2 validation bars, got {n_val_bars}")
    return float(z) * math.sqrt(float(periods) / float(n_val_bars))


def apply_validation_gate(result: LearnerResult, flat: dict[str, Any], threshold: float) -> LearnerResult:
    """The learner's result under the deployment gate: its own test figures when its best validation
    Sharpe reaches ``threshold``, else the flat policy's (``flat``: ``sharpe_ratio``, ``total_return``,
    ``returns`` from the same backtest). The selection reads validation only; the ungated test figures stay
    in ``extra`` (``raw_test_sharpe``, ``raw_test_return``, ``raw_test_returns``) so both are reported.

    The validation figure is ``extra["best_val_sharpe"]`` (RL learners: the selected checkpoint's) or
    ``extra["val_sharpe"]`` (supervised: the selected model's sign rule); without either the gate does not
    apply and the result is returned unchanged (``extra["gate"]["passed"]`` is None).
    """
    from dataclasses import replace

    val = result.extra.get("best_val_sharpe", result.extra.get("val_sharpe"))
    passed = None if val is None else bool(float(val) >= threshold)
    extra = {**result.extra, "raw_test_sharpe": result.test_sharpe, "raw_test_return": result.test_return,
             "raw_test_returns": result.extra.get("test_returns"),
             "gate": {"threshold": float(threshold), "val_sharpe": None if val is None else float(val), "passed": passed}}
    if passed is False:
        extra["test_returns"] = [float(x) for x in flat["returns"]]
        return replace(result, test_sharpe=float(flat["sharpe_ratio"]), test_return=float(flat["total_return"]),
                       extra=extra)
    return replace(result, extra=extra)


def curve_text(results: list[LearnerResult], width: int = 8) -> str:
    """One line per seed: ``seed 0: 1000:0.41 2000:0.93 ...`` (at most ``width`` evenly spaced points)."""
    lines = []
    for r in results:
        pts = list(r.curve)
        if len(pts) > width:
            idx = sorted({round(i * (len(pts) - 1) / (width - 1)) for i in range(width)})
            pts = [pts[i] for i in idx]
        body = " ".join(f"{s:g}:{v:.2f}" for s, v in pts) or "(no curve)"  # steps, epochs or a C grid
        lines.append(f"seed {r.seed}: {body}")
    return "\n".join(lines)


def plot_curves(groups: dict[str, list[LearnerResult]], path: Any, title: str = "learning curves",
                floor: float | None = None, floor_label: str = "simple rule (test)") -> Any:
    """One line per (learner, seed) of validation metric against steps; ``floor`` as a dashed line. PNG path."""
    from pathlib import Path

    import matplotlib as mpl
    from matplotlib.figure import Figure  # no pyplot: no backend switch, no global figure registry

    from tradelab.utils.io import atomic_path

    metrics = list(dict.fromkeys(r.curve_metric for rs in groups.values() for r in rs)) or ["val_sharpe"]
    fig = Figure(figsize=(6.5 * len(metrics), 4))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, metric in enumerate(metrics):
        ax = axes[0, k]
        for i, (name, results) in enumerate(groups.items()):
            for j, r in enumerate(x for x in results if x.curve_metric == metric):
                if r.curve:
                    xs, ys = zip(*r.curve, strict=True)
                    ax.plot(xs, ys, color=colours[i % len(colours)], alpha=0.8, marker=".",
                            label=name if j == 0 else None)
        if floor is not None and metric.endswith("sharpe"):
            ax.axhline(floor, color="k", ls="--", lw=1, label=floor_label)
        ax.axhline(0.0, color="grey", lw=0.5)
        ax.set_xlabel("training steps (or epochs)")
        ax.set_ylabel(metric)
        ax.set_title(title if len(metrics) == 1 else f"{title}: {metric}", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    return path
