"""The demo's planted section: prove the learners learn on a market with a known edge, before real data.

``configs/pipeline.yaml``'s ``planted:`` entry names one planted market (``momentum``) and the learners
to train there at small budgets (one SAC agent and PPO). :func:`run_planted` trains them through
their benchmark runners, backtests the references (oracle, the simple rule, buy-and-hold, flat) on the
same test bars and costs, and writes ``run_dir/planted/planted.json`` and ``curves.png``;
:func:`planted_markdown` renders the report section, with one honest verdict per learner against the
simple rule's floor.

PPO comes from :func:`tradelab.training.learners_ppo.run_ppo` when that module exists, else from
:func:`run_ppo_fallback` (the normal ``train_ppo`` entry point on the same processed data).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tradelab.errors import ConfigError
from tradelab.evaluation.learning import LearnerResult

__all__ = ["PLANTED_DIR", "run_planted", "planted_markdown", "run_ppo_fallback", "ppo_runner"]

PLANTED_DIR = "planted"
_RUNNERS = ("sac", "ppo")


def run_ppo_fallback(market: str, seed: int, *, budget_s: float | None = None, timesteps: int | None = None,
                     workdir: str | Path | None = None, **overrides: Any) -> LearnerResult:
    """PPO V3 through :func:`tradelab.training.ppo.train_ppo` on the planted market's processed data.

    ``timesteps`` (default 20480) sets the budget; ``budget_s`` is not enforced here (recorded only).
    """
    import numpy as np

    from tradelab.config import CONFIG_DIR
    from tradelab.training.learners_sac import build_market_h5, market_asset
    from tradelab.training.multiasset import prepare_data
    from tradelab.training.ppo import PPOV3Config, RunLayout, evaluate_split, train_ppo

    if workdir is None:
        raise ConfigError("run_ppo_fallback needs a workdir")
    h5 = build_market_h5(market, seed, workdir)
    out = Path(workdir) / f"ppo_{market_asset(market, seed).lower()}"
    sets = {"data.h5_path": str(h5), "data.assets": [market_asset(market, seed)], "training.seed": int(seed),
            "training.total_timesteps": int(timesteps or 20480), "training.progress_bar": False,
            "training.tensorboard": False, "output_dir": str(out), **overrides}
    cfg = PPOV3Config.from_yaml(CONFIG_DIR / "ppo_v3.yaml", **sets)
    t0 = time.perf_counter()
    prepared = prepare_data(cfg.data.assets, cfg.data.h5_path, splits=("train", "val"))
    result = train_ppo(cfg, RunLayout.default(out), prepared)
    wall = time.perf_counter() - t0
    test = evaluate_split(result["model"], cfg, prepared.load("test"))
    curve: list[tuple[float, float]] = []
    evals = RunLayout.default(out).best_dir / "eval" / "evaluations.npz"
    if evals.is_file():
        with np.load(evals) as npz:
            curve = [(float(s), float(np.mean(r))) for s, r in zip(npz["timesteps"], npz["results"], strict=True)]
    return LearnerResult("ppo_v3", market, int(seed), float(test["sharpe_ratio"]), float(test["total_return"]), wall,
                         int(result["num_timesteps"]), curve, "val_reward",
                         {"runner": "tradelab.training.ppo.train_ppo (fallback)", "budget_s": budget_s})


def ppo_runner() -> Any:
    """``learners_ppo.run_ppo`` when that module is on this branch, else :func:`run_ppo_fallback`."""
    try:
        from tradelab.training.learners_ppo import run_ppo
    except ImportError:
        return run_ppo_fallback
    return run_ppo


def run_planted(spec: dict[str, Any], run_dir: str | Path, seed: int = 0) -> dict[str, Any]:
    """Train the ``spec``'s learners on its planted market; write and return ``planted/planted.json``.

    ``spec``: ``{"market": "momentum", "learners": {name: {"runner": "sac"|"ppo", **runner kwargs}}}``.
    """
    from tradelab.evaluation.learning import plot_curves
    from tradelab.training.learners_sac import reference_results, run_sac
    from tradelab.utils import atomic_write_json

    market = str(spec.get("market", "momentum"))
    learners = spec.get("learners") or {}
    if not isinstance(learners, dict) or not learners:
        raise ConfigError("pipeline planted.learners: give a mapping name -> {runner: sac|ppo, budget...}")
    folder = Path(run_dir) / PLANTED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    work = folder / "work"
    refs = reference_results(market, seed, workdir=work)
    results: dict[str, LearnerResult] = {}
    for name, kwargs in learners.items():
        kwargs = dict(kwargs or {})
        kind = kwargs.pop("runner", None)
        if kind not in _RUNNERS:
            raise ConfigError(f"pipeline planted.learners.{name}.runner = {kind!r}: use one of {_RUNNERS}")
        print(f"planted {market}: {name}", flush=True)
        fn = run_sac if kind == "sac" else ppo_runner()
        results[name] = fn(market, seed, workdir=work, **kwargs)
    floor = refs["main_rule"]["sharpe_ratio"]
    png = plot_curves({k: [v] for k, v in results.items()}, folder / "curves.png",
                      title=f"planted {market}: validation metric vs steps", floor=floor)
    info = {
        "market": market, "seed": seed, "rule": refs["main_rule"]["name"], "floor_sharpe": floor,
        "references": {k: {"sharpe_ratio": v["sharpe_ratio"], "total_return": v["total_return"]}
                       for k, v in refs.items() if k != "main_rule"},
        "learners": {k: {kk: vv for kk, vv in v.to_dict().items() if kk != "extra"}
                     | {"extra": {kk: vv for kk, vv in v.extra.items() if kk != "test_returns"}}
                     for k, v in results.items()},
        "curves_png": png.name,
    }
    atomic_write_json(folder / "planted.json", info)
    return info


def _verdict(name: str, r: dict[str, Any], info: dict[str, Any]) -> str:
    refs, floor = info["references"], info["floor_sharpe"]
    s = r["test_sharpe"]
    bh, flat = refs["buy_and_hold"]["sharpe_ratio"], refs["flat"]["sharpe_ratio"]
    if s > floor:
        return f"{name} beat the simple rule's floor ({info['rule']}, Sharpe {floor:.2f}) with a test Sharpe of {s:.2f}."
    if s > max(bh, flat) + 0.5:
        return (f"**{name} learned the planted signal but stayed under the simple rule's floor**: test Sharpe {s:.2f} "
                f"vs rule {floor:.2f}, buy-and-hold {bh:.2f}, flat {flat:.2f} (small demo budget).")
    return (f"**{name} did not learn the planted signal at this budget**: test Sharpe {s:.2f} vs rule {floor:.2f}, "
            f"buy-and-hold {bh:.2f}, flat {flat:.2f}; real-data results below say little about this learner.")


def planted_markdown(run_dir: str | Path) -> list[str]:
    """The report's planted section (empty when the run has none)."""
    path = Path(run_dir) / PLANTED_DIR / "planted.json"
    if not path.is_file():
        return []
    info = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        f"## First: can the learners learn? Planted {info['market']} market (seed {info['seed']})",
        "",
        "A synthetic market with a known, learnable edge (tradelab.data.synthetic). A learner that cannot beat "
        "buy-and-hold and flat here cannot be judged on real data. Test split, 1× costs, same env and costs for all.",
        "",
        "| strategy | test Sharpe 1× | test return 1× | steps | train s | learning curve (steps:val) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in info["references"].items():
        lines.append(f"| {name.replace('_', ' ')} (reference) | {r['sharpe_ratio']:.2f} | {100 * r['total_return']:.1f}% "
                     "| – | – | – |")
    for name, r in info["learners"].items():
        curve = " ".join(f"{int(s)}:{v:.2f}" for s, v in r["curve"][-6:]) or "–"
        lines.append(f"| **{name}** | {r['test_sharpe']:.2f} | {100 * r['test_return']:.1f}% | {r['steps']} | "
                     f"{r['wall_s']:.0f} | {curve} ({r['curve_metric']}) |")
    lines += ["", *[f"- {_verdict(n, r, info)}" for n, r in info["learners"].items()], "",
              f"![planted learning curves]({PLANTED_DIR}/{info['curves_png']})", ""]
    return lines
