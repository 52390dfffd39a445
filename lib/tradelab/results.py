"""``metrics.json``: the one result file every workflow writes, and :class:`RunResult`, its reader/writer.

Schema version 2 (the only place it is documented)::

    {
      "strategies": {"sac_agent_1": {"sharpe_ratio": 0.41, "total_return": 0.05, ...},
                     "buy_and_hold": {...}, "flat": {...}, "sma_crossover": {...}, "random": {...}},
      "by_cost": {"0x": {"sac_agent_1": {...}, ...}, "1x": {...}, "2x": {...}},
      "meta": {"schema_version": 2, "workflow": "sac", "focus": "sac_agent_1", "asset": "GOOG",
               "data_hash": "3f2a...", "split": "test",
               "period": {"start": "2012-01-03T00:00:00+00:00", "end": "...", "n_bars": 280,
                          "frequency": "1D", "periods_per_year": 252.0},
               "results": [], "training": {...}, "stopped_early": false}
    }

* ``strategies`` — ``{name: metrics}`` at 1× costs (the model and the baselines; ``{}`` when the run
  traded nothing, e.g. 00_data). A metrics dict has at least ``sharpe_ratio``.
* ``by_cost`` — the same at each cost multiplier (keys from
  :func:`cost_key`: ``"0x"``, ``"1x"``, ``"2x"``); ``{}`` when none.
* ``meta`` — always: ``schema_version``; ``workflow`` (one of :data:`WORKFLOWS`); ``focus`` (the
  model's name in ``strategies``, or None); ``asset`` (str, list of str for a portfolio, or None);
  ``data_hash`` (the processed data's content hash, or None); ``split`` (the evaluated split, or None);
  ``period`` (``{start, end, n_bars, frequency, periods_per_year}`` of the evaluated bars, or None);
  ``results`` (paths, relative to this file's folder, of the other RunResult files the run wrote,
  e.g. PPO's ``["test/metrics.json"]``; ``[]`` when none).

  Workflow sections, present only where they apply:

  - ``training`` (sac): the trainer's summary (episodes, steps, best val Sharpe, checkpoints);
  - ``stopped_early`` (sac, ppo): ``training.max_runtime`` ended the run before its budget;
  - ``note`` (ppo): why there are no strategies (stopped early: resume, then the test is read);
  - ``validation`` (ppo, curriculum): validation metrics; ``final_model``, ``best_model``,
    ``num_timesteps``, ``assets`` (ppo); ``loaded_from`` (curriculum);
  - ``stage``, ``gate``, ``optimized_params`` (curriculum; ``stage`` also in a tune worker's file);
  - ``heads`` (supervised): ``{"val": ..., "test": ...}`` per head, the model beside its naive
    baselines (its ``strategies`` are the signal head's sign rule on test at 1× costs);
  - ``supervised`` (supervised): epochs run, monitor, logistic regression, ``trading.val`` (the sign
    rule on val);
  - ``inference`` (inference): checkpoint, source, asset traded and trained on, bars;
  - ``data`` (data, i.e. 00_data): rows per split, features, purge gap, paths;
  - ``tune`` (tune): the tuning worker's study summary.

Version 1 (before this module: strategies, ``by_cost`` and every other section at one level) is
upgraded on read: ``strategies`` = the top-level dicts with a ``sharpe_ratio``, ``by_cost`` = its
``by_cost``, every other key goes under ``meta`` (with the always-present keys filled, ``workflow``
None unless the file had one), and ``meta.schema_version`` is 1: the version the file was written
in (writing it back writes version 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradelab.errors import ConfigError

__all__ = ["cost_key", "SCHEMA_VERSION", "METRICS_FILE", "WORKFLOWS", "RunResult", "make_meta", "period_of", "result_files"]

SCHEMA_VERSION = 2
METRICS_FILE = "metrics.json"
WORKFLOWS = ("backtest", "sac", "ppo", "supervised", "curriculum", "inference", "data", "tune")
_ALWAYS = ("schema_version", "workflow", "focus", "asset", "data_hash", "split", "period", "results")


def cost_key(multiplier: float) -> str:
    """The ``by_cost`` key of a cost multiplier: ``0.0 → "0x"``, ``1.5 → "1.5x"``."""
    return f"{float(multiplier):g}x"


def make_meta(workflow: str, **fields: Any) -> dict[str, Any]:
    """``meta`` with every always-present key filled (None / ``[]`` unless given), plus ``fields``."""
    if workflow not in WORKFLOWS:
        raise ConfigError(f"workflow={workflow!r} is not a RunResult workflow; use one of {list(WORKFLOWS)}")
    meta: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "workflow": workflow, "focus": None, "asset": None,
                            "data_hash": None, "split": None, "period": None, "results": []}
    meta.update(fields)
    return meta


def period_of(index: Any) -> dict[str, Any] | None:
    """``{start, end, n_bars, frequency, periods_per_year}`` of a DatetimeIndex (None when empty)."""
    from tradelab.data.calendar import infer_frequency
    from tradelab.evaluation.metrics import annualisation

    if len(index) == 0:
        return None
    return {"start": index[0].isoformat(), "end": index[-1].isoformat(), "n_bars": len(index),
            "frequency": infer_frequency(index) if len(index) >= 3 else None,
            "periods_per_year": annualisation(index)}


def result_files(path: str | Path) -> list[Path]:
    """``path`` (a metrics.json or its folder), then every file its ``meta.results`` names, recursively,
    each once, in order (resolved paths; a named file that is missing is listed and not followed)."""
    path = Path(path)
    found: list[Path] = []

    def visit(file: Path) -> None:
        if file in found:
            return
        found.append(file)
        if file.is_file():
            for rel in RunResult.read(file).meta.get("results") or []:
                visit((file.parent / rel).resolve())

    visit((path / METRICS_FILE if path.is_dir() else path).resolve())
    return found


def _is_metrics(value: Any) -> bool:
    return isinstance(value, dict) and "sharpe_ratio" in value


def _upgrade_v1(flat: dict[str, Any]) -> dict[str, Any]:
    strategies = {k: v for k, v in flat.items() if _is_metrics(v)}
    rest = {k: v for k, v in flat.items() if k not in strategies and k != "by_cost"}
    meta = {**make_meta("backtest"), "workflow": None, **rest, "schema_version": 1}
    return {"strategies": strategies, "by_cost": flat.get("by_cost") or {}, "meta": meta}


@dataclass
class RunResult:
    """One run's results: metrics per strategy (1× and per cost), ``meta``, and where it lives."""

    strategies: dict[str, dict[str, Any]]
    """``{name: metrics}`` at 1× costs"""
    by_cost: dict[str, dict[str, dict[str, Any]]]
    """``{"0x": {name: metrics}, "1x": ..., "2x": ...}``"""
    meta: dict[str, Any]
    """see the module docstring: always ``schema_version``, ``workflow``, ``focus``, ``asset``, ..."""
    output_dir: Path = field(default_factory=Path)
    """folder the file lives in (not serialised)"""
    model: Any = field(default=None, compare=False, repr=False)
    """the in-memory model, when the writer has one (not serialised)"""

    @property
    def workflow(self) -> str | None:
        return self.meta.get("workflow")

    @property
    def asset(self) -> str | list[str] | None:
        return self.meta.get("asset")

    @property
    def focus(self) -> str | None:
        return self.meta.get("focus")

    @property
    def agent(self) -> dict[str, Any] | None:
        """The focus model's 1× metrics (None without a focus)."""
        return self.strategies.get(self.focus) if self.focus else None

    @property
    def path(self) -> Path:
        return Path(self.output_dir) / METRICS_FILE

    def cost(self, multiplier: float) -> dict[str, dict[str, Any]]:
        """``{name: metrics}`` at ``multiplier`` × costs (``{}`` when that multiplier was not run)."""
        return self.by_cost.get(cost_key(multiplier), {})

    def to_dict(self) -> dict[str, Any]:
        return {"strategies": self.strategies, "by_cost": self.by_cost, "meta": self.meta}

    def write(self, path: str | Path | None = None) -> Path:
        """Atomic strict-JSON write (NaN → null) to ``path`` or ``output_dir/metrics.json``."""
        from tradelab.utils import atomic_write_json

        meta = {**self.meta, "schema_version": SCHEMA_VERSION}
        return atomic_write_json(Path(path) if path is not None else self.path, {**self.to_dict(), "meta": meta})

    @classmethod
    def top_level(cls, workflow: str, output_dir: str | Path, inner: RunResult | None = None,
                  model: Any = None, **fields: Any) -> RunResult:
        """A run folder's own result that repeats ``inner``'s figures (its test backtest, written in a
        sub-folder) and names ``inner``'s file in ``meta.results``; ``fields`` add or override meta keys."""
        output_dir = Path(output_dir)
        if inner is None:
            return cls({}, {}, make_meta(workflow, **fields), output_dir, model)
        shared = {k: inner.meta.get(k) for k in ("focus", "asset", "data_hash", "split", "period")}
        rel = Path(inner.path).resolve().relative_to(output_dir.resolve()).as_posix()
        meta = make_meta(workflow, **{**shared, "results": [rel], **fields})
        return cls(inner.strategies, inner.by_cost, meta, output_dir, model)

    @classmethod
    def read(cls, path: str | Path) -> RunResult:
        """Read a ``metrics.json`` (or the folder holding one); a version-1 file is upgraded."""
        path = Path(path)
        if path.is_dir():
            path = path / METRICS_FILE
        fix = f"re-run the workflow that wrote it (tradelab reads schema versions 1..{SCHEMA_VERSION})"
        if not path.is_file():
            raise ConfigError(f"{path}: no {METRICS_FILE} there; {fix}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid JSON ({exc}); {fix}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{path} holds a {type(data).__name__}, not a mapping; {fix}")
        meta = data.get("meta")
        version = meta.get("schema_version") if isinstance(meta, dict) else None
        if version is None:
            data = _upgrade_v1(data)
        elif not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
            raise ConfigError(f"{path}: meta.schema_version={version!r} is not one this tradelab knows (newer "
                              f"than {SCHEMA_VERSION}, or not a version); upgrade tradelab to read it, or {fix}")
        return cls(strategies=data.get("strategies") or {}, by_cost=data.get("by_cost") or {},
                   meta=data["meta"], output_dir=path.parent)
