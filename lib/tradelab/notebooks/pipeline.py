"""Pipelines: several notebooks run in order into one run folder, then a report.

``configs/pipeline.yaml`` lists, per pipeline, the notebooks and their parameters; a ``smoke``
section overrides parameters per notebook for a much smaller run (tests). Parameter strings
may use ``{run_dir}`` (the run folder) and ``{seed}``; a value that is exactly ``"{seed}"``
becomes the integer seed. Each notebook writes into ``run_dir/<notebook>/`` and its executed
copy is saved there; ``pipeline.json`` records what ran and, per stage, the RunResult files it
wrote (``results``: see :mod:`tradelab.results`), and ``report.md``/``report.html`` summarise them (:mod:`tradelab.notebooks.report`). A ``planted:`` entry first trains a few learners
on a planted-signal market (:mod:`tradelab.notebooks.planted`) so the report shows whether they
can learn at all before it judges real data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradelab.config import CONFIG_DIR, load_yaml
from tradelab.errors import ConfigError, NotebookError

__all__ = ["PIPELINE_CONFIG", "Stage", "load_stages", "load_planted", "run_pipeline", "stage_results"]

#: Default pipeline definitions.
PIPELINE_CONFIG = CONFIG_DIR / "pipeline.yaml"


@dataclass(frozen=True)
class Stage:
    """One notebook of a pipeline."""

    name: str
    """stage name (also the sub-folder of the run folder), e.g. ``02_sac``"""
    notebook: str
    """notebook to run (name under ``notebooks/``)"""
    parameters: dict[str, Any]
    """parameters injected into the notebook (templates already filled in)"""


def _fill(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, str):
        if value == "{seed}":
            return variables["seed"]
        for name, sub in variables.items():
            value = value.replace("{" + name + "}", str(sub))
        return value
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    return value


def _section(config: dict[str, Any], pipeline: str, path: Path) -> dict[str, Any]:
    section = config.get(pipeline)
    if not isinstance(section, dict) or not isinstance(section.get("stages"), list):
        known = sorted(k for k, v in config.items() if isinstance(v, dict))
        raise ConfigError(f"{path}: no pipeline {pipeline!r} with a 'stages' list; defined: {known}")
    return section


def load_stages(
    pipeline: str = "demo",
    run_dir: str | Path = "outputs/demo",
    smoke: bool = False,
    seed: int = 0,
    config_path: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> list[Stage]:
    """The stages of ``pipeline`` with smoke overrides applied and templates filled.

    ``{data_dir}`` is where 00_data writes the processed stores and later stages read them:
    ``data_dir`` when given (``make demo`` uses ``data/processed``), else ``run_dir/processed``.
    """
    path = Path(config_path or PIPELINE_CONFIG)
    section = _section(load_yaml(path), pipeline, path)
    overrides = section.get("smoke", {}) if smoke else {}
    run_dir = Path(run_dir).resolve()
    data_dir = Path(data_dir).resolve() if data_dir is not None else run_dir / "processed"
    variables = {"run_dir": run_dir, "data_dir": data_dir, "seed": seed}
    stages = []
    for i, entry in enumerate(section["stages"]):
        if not isinstance(entry, dict) or "notebook" not in entry:
            raise ConfigError(f"{path}: {pipeline}.stages[{i}] needs a 'notebook' key, got {entry!r}")
        name = str(entry.get("name", entry["notebook"]))
        params = {**(entry.get("parameters") or {}), **(overrides.get(name) or {})}
        stages.append(Stage(name, str(entry["notebook"]), _fill(params, variables)))
    unknown = sorted(set(overrides) - {s.name for s in stages} - {"planted"})
    if unknown:
        raise ConfigError(f"{path}: {pipeline}.smoke names unknown stage(s) {unknown}; stages: {[s.name for s in stages]}")
    return stages


def stage_results(run_dir: Path, output_dir: Path) -> list[str]:
    """The RunResult files a stage wrote, relative to ``run_dir``: ``output_dir/metrics.json`` when
    present, then (recursively) the files its ``meta.results`` names. The report reads exactly these."""
    from tradelab.results import METRICS_FILE, result_files

    if not (output_dir / METRICS_FILE).is_file():
        return []
    return [p.relative_to(run_dir.resolve()).as_posix() for p in result_files(output_dir)]


def _record(run_dir: Path, info: dict[str, Any]) -> None:
    from tradelab.utils import atomic_write_json

    atomic_write_json(run_dir / "pipeline.json", info)


def _clear_previous(run_dir: Path) -> None:
    """Remove the stage folders a previous pipeline run left in ``run_dir`` (and only those).

    A re-run then starts clean (no stale checkpoints, TensorBoard runs or studies mixed in),
    so the same seed gives the same report.
    """
    import json
    import shutil

    record = run_dir / "pipeline.json"
    if not record.is_file():
        return
    try:
        previous = json.loads(record.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return
    for stage in previous.get("stages", []):
        folder = run_dir / str(stage.get("name", ""))
        if stage.get("name") and folder.is_dir() and folder.parent == run_dir:
            shutil.rmtree(folder)
    planted = run_dir / "planted"
    if previous.get("planted") and planted.is_dir():
        shutil.rmtree(planted)
    for name in ("pipeline.json", "report.md", "report.html"):
        (run_dir / name).unlink(missing_ok=True)


def load_planted(pipeline: str = "demo", smoke: bool = False, seed: int = 0,
                 config_path: str | Path | None = None) -> dict[str, Any] | None:
    """The pipeline's ``planted:`` section (smoke overrides under ``smoke.planted`` merged), or None."""
    path = Path(config_path or PIPELINE_CONFIG)
    section = _section(load_yaml(path), pipeline, path)
    spec = section.get("planted")
    if not spec:
        return None
    if not isinstance(spec, dict):
        raise ConfigError(f"{path}: {pipeline}.planted must be a mapping (market, learners), got {spec!r}")
    smoke_spec = (section.get("smoke") or {}).get("planted") if smoke else None
    if smoke_spec:
        learners = {k: {**(spec.get("learners") or {}).get(k, {}), **(v or {})}
                    for k, v in (smoke_spec.get("learners") or {}).items()}
        spec = {**spec, **{k: v for k, v in smoke_spec.items() if k != "learners"},
                "learners": {**(spec.get("learners") or {}), **learners}}
    return _fill(spec, {"seed": seed})


def run_pipeline(
    pipeline: str = "demo",
    output_dir: str | Path = "outputs/demo",
    smoke: bool = False,
    seed: int = 0,
    config_path: str | Path | None = None,
    progress_bar: bool = True,
    data_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Run every stage in order into ``output_dir``, then write the report; returns ``pipeline.json``.

    A failing notebook stops the pipeline: the report is still written for the stages that ran,
    then the :class:`NotebookError` is raised. A previous pipeline run in ``output_dir`` is
    cleared first (its stage folders only).
    """
    from tradelab.notebooks.report import write_report
    from tradelab.notebooks.runner import run
    from tradelab.utils import run_metadata

    run_dir = Path(output_dir).resolve()
    stages = load_stages(pipeline, run_dir, smoke, seed, config_path, data_dir)
    planted = load_planted(pipeline, smoke, seed, config_path)
    _clear_previous(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {
        "pipeline": pipeline, "smoke": smoke, "seed": seed, "run_dir": str(run_dir),
        "metadata": run_metadata(), "stages": [], "status": "running",
    }
    start = time.perf_counter()
    failure: NotebookError | None = None
    if planted:  # first prove the learners learn on a market with a known edge (tradelab.notebooks.planted)
        from tradelab.notebooks.planted import run_planted

        print(f"[planted] {planted.get('market', 'momentum')}: {', '.join(planted.get('learners', {}))}", flush=True)
        t0 = time.perf_counter()
        run_planted(planted, run_dir, seed)
        info["planted"] = {"spec": planted, "seconds": round(time.perf_counter() - t0, 1)}
        _record(run_dir, info)
    for i, stage in enumerate(stages, start=1):
        print(f"[{i}/{len(stages)}] {stage.name}", flush=True)
        entry = {"name": stage.name, "notebook": stage.notebook, "parameters": stage.parameters}
        try:
            result = run(stage.notebook, stage.parameters, run_dir / stage.name, progress_bar=progress_bar)
        except NotebookError as exc:
            info["stages"].append({**entry, "status": "failed", "error": str(exc)})
            failure = exc
            break
        info["stages"].append({**entry, "status": "ok", "seconds": round(result.seconds, 1),
                               "executed": str(result.executed.relative_to(run_dir)),
                               "results": stage_results(run_dir, run_dir / stage.name)})
        _record(run_dir, info)
    info["status"] = "failed" if failure else "ok"
    info["seconds"] = round(time.perf_counter() - start, 1)
    _record(run_dir, info)
    write_report(run_dir, info)
    if failure is not None:
        raise failure
    return info
