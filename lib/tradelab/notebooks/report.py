"""The run report: ``report.md`` and ``report.html`` for a pipeline's run folder.

It says what ran with which parameters (``pipeline.json``), the data hash and package version,
shows ONE table of every trading model's test metrics beside buy-and-hold, flat and SMA
crossover at each cost multiplier (read from exactly the RunResult files, :mod:`tradelab.results`,
that ``pipeline.json`` names per stage; a named file that is missing is reported, never guessed), the supervised model's test metrics beside its naive baselines, an
honest sentence per agent against buy-and-hold, and links to every PNG the notebooks wrote.
The tables hold only figures from the run, so a seeded re-run gives the same tables.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tradelab.errors import ConfigError
from tradelab.results import RunResult

__all__ = ["TradingRow", "metrics_table", "render_markdown", "trading_rows", "verdicts", "write_report"]

BASELINES = ("buy_and_hold", "flat", "sma_crossover")
_SKIP_STRATEGIES = {"random"}
_NOT_TRADING = {"supervised", "data", "tune"}  # their strategies (if any) are not a trading model's test


class TradingRow(dict):
    """One table row: model, asset, strategy, and ``{cost: metrics}``."""


def _cost_of(key: Any) -> float | None:
    match = re.search(r"\d+(\.\d+)?", str(key))
    return float(match.group()) if match else None


#: ``(stage name, path relative to the run folder, RunResult)`` for each result pipeline.json names
Named = list[tuple[str, str, RunResult]]


def read_named_results(run_dir: Path, info: dict[str, Any]) -> tuple[Named, list[str]]:
    """Every RunResult ``pipeline.json`` names (each stage's ``results``), read once in stage order, and a
    line per named file that is missing or unreadable and per finished stage that names no list: the
    report shows what is there and says what is not, never guesses."""
    found: Named = []
    problems = []
    for stage in info.get("stages", []):
        if stage.get("status") == "ok" and "results" not in stage:
            problems.append(f"**{stage['name']}: pipeline.json names no results** (recorded before tradelab kept "
                            "that list): its metrics are not in this report; re-run the pipeline")
        for rel in stage.get("results") or []:
            try:
                found.append((stage["name"], rel, RunResult.read(run_dir / rel)))
            except ConfigError as exc:
                problems.append(f"**{stage['name']}: result `{rel}` named in pipeline.json could not be read** ({exc})")
    return found, problems


def _by_cost(result: RunResult) -> dict[str, dict[float, dict[str, Any]]]:
    """``{strategy: {cost: metrics}}``; the 1x strategies alone when no sweep was recorded."""
    out: dict[str, dict[float, dict[str, Any]]] = {}
    for key, table in result.by_cost.items():
        cost = _cost_of(key)
        for strategy, m in table.items():
            if cost is not None:
                out.setdefault(str(strategy), {})[cost] = m
    return out or {k: {1.0: v} for k, v in result.strategies.items()}


def _asset(result: RunResult) -> str:
    value = result.asset
    return ",".join(map(str, value)) if isinstance(value, list) else str(value) if value else "?"


def _period(result: RunResult) -> str:
    """``start → end (n bars)`` from ``meta.period``."""
    period = result.meta.get("period")
    if not isinstance(period, dict):
        return "–"
    start, end = str(period.get("start", ""))[:10], str(period.get("end", ""))[:10]
    return f"{start} → {end} ({period.get('n_bars', '?')} bars)"


def trading_rows(run_dir: str | Path, info: dict[str, Any], named: Named | None = None) -> list[TradingRow]:
    """Rows for every strategy of every trading RunResult that ``pipeline.json`` names, stage by stage.

    Baseline rows repeated with identical figures (same asset and bars) are kept once, and so is a
    row a stage's own result repeats from its test result (PPO's ``metrics.json`` and ``test/metrics.json``).
    The supervised sign-rule rows are not here (the supervised section notes them). ``named``: the
    results already read by :func:`read_named_results` (read here when not given).
    """
    named = read_named_results(Path(run_dir), info)[0] if named is None else named
    rows: list[TradingRow] = []
    seen: set[str] = set()
    for stage, rel, result in named:
        if result.workflow in _NOT_TRADING:
            continue
        asset = _asset(result)
        for strategy, by_cost in _by_cost(result).items():
            if strategy in _SKIP_STRATEGIES:
                continue
            key = json.dumps([asset, strategy, by_cost], sort_keys=True, default=str)
            if (stage, key) in seen or (strategy in BASELINES and key in seen):
                continue
            seen |= {key, (stage, key)}
            rows.append(TradingRow(model=stage, asset=asset, strategy=strategy, by_cost=by_cost,
                                   period=_period(result), source=rel))
    return rows


def _fmt(value: Any, pct: bool = False, fixed: bool = True) -> str:
    """``12.34%`` for returns, ``0.123`` for ratios; ``fixed=False`` keeps 3 significant digits."""
    if not isinstance(value, int | float):
        return "–"
    if pct:
        return f"{100 * value:.2f}%"
    return f"{value:.3f}" if fixed or value == 0 or abs(value) >= 0.1 else f"{value:.3g}"


def metrics_table(rows: list[TradingRow]) -> str:
    """Markdown table: return and Sharpe per cost multiplier, max drawdown and trades at 1x."""
    costs = sorted({c for r in rows for c in r["by_cost"]})
    head = ["model", "asset", "test period", "strategy"]
    head += [f"return {c:g}×" for c in costs] + [f"Sharpe {c:g}×" for c in costs] + ["max DD 1×", "trades 1×"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        one = r["by_cost"].get(1.0) or next(iter(r["by_cost"].values()))
        cells = [r["model"], r["asset"], r.get("period", "–"), r["strategy"].replace("_", " ")]
        cells += [_fmt(r["by_cost"].get(c, {}).get("total_return"), pct=True) for c in costs]
        cells += [_fmt(r["by_cost"].get(c, {}).get("sharpe_ratio")) for c in costs]
        cells += [_fmt(one.get("max_drawdown"), pct=True), str(one.get("n_trades", "–"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdicts(rows: list[TradingRow]) -> list[str]:
    """One honest sentence per agent row against buy-and-hold on the same asset at 1x costs."""
    holds = {r["asset"]: r["by_cost"].get(1.0, {}) for r in rows if r["strategy"] == "buy_and_hold"}
    out = []
    for r in rows:
        if r["strategy"] in BASELINES or r["asset"] not in holds:
            continue
        agent, bh = r["by_cost"].get(1.0, {}), holds[r["asset"]]
        a_ret, b_ret = agent.get("total_return"), bh.get("total_return")
        if not isinstance(a_ret, int | float) or not isinstance(b_ret, int | float):
            continue
        figures = (f"return {_fmt(a_ret, True)} vs {_fmt(b_ret, True)}, Sharpe {_fmt(agent.get('sharpe_ratio'))} "
                   f"vs {_fmt(bh.get('sharpe_ratio'))}")
        a_sh, b_sh = agent.get("sharpe_ratio"), bh.get("sharpe_ratio")
        better_sharpe = isinstance(a_sh, int | float) and isinstance(b_sh, int | float) and a_sh > b_sh
        if a_ret <= b_ret and not better_sharpe:
            out.append(f"**{r['model']} ({r['strategy']}) did not beat buy-and-hold** on {r['asset']} test bars "
                       f"at 1× costs ({figures}).")
        elif a_ret <= b_ret:
            out.append(f"**{r['model']} ({r['strategy']}) did not beat buy-and-hold on return** on {r['asset']} "
                       f"test bars at 1× costs; only its Sharpe is higher ({figures}).")
        else:
            out.append(f"{r['model']} ({r['strategy']}) beat buy-and-hold on {r['asset']} test bars at 1× costs "
                       f"({figures}) — one seed on one short test window, not evidence of an edge.")
    return out


def _supervised_verdict(stage: str, head: str, key: str, h: dict[str, Any]) -> str | None:
    model = h["model"].get(key)
    bases = {n: b.get(key) for n, b in (h.get("baselines") or {}).items() if isinstance(b.get(key), int | float)}
    if not isinstance(model, int | float) or not bases:
        return None
    lower_better = key == "rmse"
    best_name = (min if lower_better else max)(bases, key=bases.get)
    beaten = model < bases[best_name] if lower_better else model > bases[best_name]
    if beaten:
        return None
    return (f"**{stage} {head} did not beat its best naive baseline** ({best_name}: {key} "
            f"{_fmt(bases[best_name], fixed=False)} vs model {_fmt(model, fixed=False)}).")


def _sign_rule_note(stage: str, rows: dict[str, Any]) -> str | None:
    """The signal head's causal sign rule (and the logistic regression's) at 1x costs, beside buy-and-hold and flat."""
    if not rows:
        return None
    parts = ", ".join(f"{name} {_fmt(r.get('sharpe_ratio'))}" for name, r in rows.items() if isinstance(r, dict))
    return f"{stage} signal head traded by its sign rule, test Sharpe at 1× costs: {parts}."


def _supervised_table(named: Named) -> str:
    """Test metrics per head of every supervised RunResult (model beside naive baselines)."""
    lines, notes = [], []
    for stage, _, result in named:
        test = (result.meta.get("heads") or {}).get("test")
        if result.workflow != "supervised" or not isinstance(test, dict):
            continue
        notes.append(_sign_rule_note(stage, result.strategies))
        for head, h in test.items():
            if not isinstance(h, dict) or "model" not in h:
                continue
            key = "rmse" if "rmse" in h["model"] else "accuracy"
            base = ", ".join(f"{n} {_fmt(b.get(key), fixed=False)}" for n, b in (h.get("baselines") or {}).items())
            lines.append(f"| {stage} | {head} | {key} | {_fmt(h['model'].get(key), fixed=False)} | {base or '–'} |")
            notes.append(_supervised_verdict(stage, head, key, h))
    if not lines:
        return ""
    table = ["| stage | head | metric | model | naive baselines |", "|---|---|---|---|---|", *lines]
    return "\n".join([*table, "", *[f"- {n}" for n in notes if n]])


def _data_hash(named: Named) -> str:
    """The processed data's content hash: the first ``meta.data_hash`` of the named results (00_data's)."""
    return next((str(r.meta["data_hash"]) for _, _, r in named if r.meta.get("data_hash")), "unknown")



def _stages_section(info: dict[str, Any]) -> list[str]:
    lines = ["| # | notebook | status | seconds | parameters |", "|---|---|---|---|---|"]
    for i, s in enumerate(info.get("stages", []), start=1):
        params = ", ".join(f"`{k}={v}`" for k, v in s.get("parameters", {}).items())
        link = f"[{s['name']}]({s['executed']})" if s.get("executed") else s["name"]
        lines.append(f"| {i} | {link} | {s['status']} | {s.get('seconds', '–')} | {params} |")
    for s in info.get("stages", []):
        if s.get("error"):
            lines += ["", f"**{s['name']} failed:** {s['error']}"]
    return lines


TRAINING_TAGS = ("rollout/ep_rew_mean", "train/value_loss", "train/entropy_loss", "train/approx_kl",
                 "eval/mean_reward", "trading/total_return")


def training_curves(folder: Path) -> Path | None:
    """``training_curves.png`` from a stage's TensorBoard scalars (PPO writes no PNG of its own)."""
    logdir = folder / "tensorboard"
    if not logdir.is_dir() or list(folder.glob("*training*.png")):
        return None
    from tradelab.training.callbacks import read_scalars

    scalars = read_scalars(logdir)
    tags = [t for t in TRAINING_TAGS if t in set(scalars["tag"])]
    if not tags:
        return None
    from matplotlib.figure import Figure  # no pyplot: no backend switch, no global figure registry

    fig = Figure(figsize=(3.2 * len(tags), 2.8))
    axes = fig.subplots(1, len(tags), squeeze=False)
    for ax, tag in zip(axes.flat, tags):
        part = scalars[scalars["tag"] == tag].sort_values("step")
        ax.plot(part["step"], part["value"], marker=".")
        ax.set_title(tag, fontsize=9)
        ax.set_xlabel("timesteps", fontsize=8)
    fig.tight_layout()
    path = folder / "training_curves.png"
    fig.savefig(path, dpi=80)
    return path


def _plots_section(run_dir: Path, info: dict[str, Any], per_stage: int = 12) -> list[str]:
    lines: list[str] = []
    for stage in info.get("stages", []):
        folder = run_dir / stage["name"]
        if folder.is_dir():
            training_curves(folder)
        pngs = sorted(folder.rglob("*.png"))[:per_stage] if folder.is_dir() else []
        if pngs:
            lines += ["", f"### {stage['name']}", ""]
            lines += [f"![{p.stem}]({p.relative_to(run_dir).as_posix()})" for p in pngs]
    return lines or ["", "(no plots were written)"]


def _artifacts(run_dir: Path) -> list[str]:
    patterns = ("agent_*_best.pt", "*.keras", "*final*.zip", "model*.zip", "processed_data.h5")
    found = sorted({p for pat in patterns for p in run_dir.rglob(pat)})
    return [f"- `{p.relative_to(run_dir).as_posix()}` ({p.stat().st_size / 1e6:.2f} MB)" for p in found]


def _planted_section(run_dir: Path) -> list[str]:
    from tradelab.notebooks.planted import planted_markdown

    return planted_markdown(run_dir)


def render_markdown(run_dir: str | Path, info: dict[str, Any]) -> str:
    """The report as markdown text."""
    run_dir = Path(run_dir)
    meta = info.get("metadata", {})
    named, missing = read_named_results(run_dir, info)
    rows = trading_rows(run_dir, info, named)
    lines = [
        f"# tradelab {info.get('pipeline', 'pipeline')} report",
        "",
        f"- run folder: `{run_dir}` · status **{info.get('status')}** · wall time {info.get('seconds', '–')} s",
        f"- seed {info.get('seed')} · smoke configuration: {info.get('smoke')}",
        f"- tradelab {meta.get('tradelab_version')} · git commit `{meta.get('git_commit')}` · python {meta.get('python')}",
        f"- processed data content hash: `{_data_hash(named)}`",
        "",
        "## What ran",
        "",
        *_stages_section(info),
        "",
        *_planted_section(run_dir),
        "## Test metrics beside baselines (0/1/2× costs)",
        "",
        "Total return over the test window and Sharpe (annualised by bar frequency) at 0×, 1× and 2× the "
        "configured trading costs; every strategy trades the same bars with the same cost model "
        "(decision at a bar's close, fill at the next open).",
        "",
        metrics_table(rows) if rows else "(no backtest result is named in pipeline.json)",
        "",
        *[f"- {v}" for v in verdicts(rows)],
    ]
    if missing:
        lines += ["", "**Missing results:**", "", *[f"- {m}" for m in missing]]
    supervised = _supervised_table(named)
    if supervised:
        lines += ["", "## Supervised model, test split (beside naive baselines)", "", supervised]
    lines += ["", "## Artifacts", "", *(_artifacts(run_dir) or ["(none)"]), "", "## Plots", *_plots_section(run_dir, info)]
    return "\n".join(lines) + "\n"


def write_report(run_dir: str | Path, info: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``run_dir``; returns both paths."""
    import markdown

    from tradelab.utils import atomic_write_text

    run_dir = Path(run_dir)
    text = render_markdown(run_dir, info)
    body = markdown.markdown(text, extensions=["tables"])
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><title>tradelab report</title><style>"
        "body{font-family:sans-serif;max-width:1200px;margin:2em auto}table{border-collapse:collapse;font-size:90%}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}img{max-width:48%;margin:4px}"
        f"</style></head><body>{body}</body></html>\n"
    )
    return atomic_write_text(run_dir / "report.md", text), atomic_write_text(run_dir / "report.html", html)
