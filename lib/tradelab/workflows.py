"""The workflow contract: one typed config → ``train(config)`` → one :class:`~tradelab.results.RunResult`.

Each trainable workflow is a row of :data:`WORKFLOWS`:

======================  ===============================  ===========================  ===============
workflow                config (a ConfigBase)            ``train(config)``            notebook
======================  ===============================  ===========================  ===============
``supervised``          ``SupervisedConfig``             ``training.supervised``      01_supervised
``sac``                 ``SACTrainingConfig``            ``training.sac_trainer``     02_sac
``ppo``                 ``PPOV3Config``                  ``training.ppo``             03_ppo
``curriculum``          ``CurriculumRun``                ``training.curriculum``      04_curriculum
======================  ===============================  ===========================  ===============

The config holds every setting, run settings included (episodes, frequencies, agent id, asset,
output folder). The command's flags are derived from it (:mod:`tradelab.cli.config_flags`), and the
notebook's parameters are its keys or the workflow's short names (``PARAMETERS`` of the config
module, also the command's aliases); ``python -m tradelab.notebooks.check`` refuses a notebook
parameter that is neither, except the few listed here as ``notebook_only`` (what the notebook does
around the run, e.g. building missing data). :func:`train` runs any of them; every ``train`` writes
``metrics.json`` in the schema of :mod:`tradelab.results` and returns it as a RunResult.
``KaggleTrainer`` stays the seed guide's facade over the SAC workflow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from tradelab.errors import ConfigError

__all__ = ["Workflow", "WORKFLOWS", "train", "workflow_of", "for_notebook"]


def _load(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Workflow:
    """One workflow's contract; references are ``"module:name"`` so this table imports nothing heavy."""

    name: str
    """short name (``tradelab train NAME``, ``meta.workflow`` of its RunResult)"""
    config: str
    """its ConfigBase class"""
    parameters: str | None
    """its short names ``{name: config key}`` (notebook parameters and CLI aliases), or None"""
    train: str
    """``train(config) -> RunResult``"""
    notebook: str
    """the notebook that drives it (under notebooks/)"""
    notebook_only: tuple[str, ...] = ()
    """notebook parameters that are not config keys, each about what the notebook does around the run"""

    def config_class(self) -> type:
        return _load(self.config)

    def short_names(self) -> dict[str, str]:
        return dict(_load(self.parameters)) if self.parameters else {}

    def run(self, config: Any) -> Any:
        return _load(self.train)(config)


WORKFLOWS: dict[str, Workflow] = {w.name: w for w in (
    Workflow("supervised", "tradelab.training.supervised_config:SupervisedConfig",
             "tradelab.training.supervised_config:PARAMETERS", "tradelab.training.supervised:train", "01_supervised",
             # config_path: the YAML itself; build_data_if_missing: build the embedded asset's parquet first
             notebook_only=("config_path", "build_data_if_missing", "smoke")),
    Workflow("sac", "tradelab.training.sac_config:SACTrainingConfig", "tradelab.training.sac_config:PARAMETERS",
             "tradelab.training.sac_trainer:train", "02_sac",
             # config: the YAML itself; build_data_if_missing: build h5_path from embedded bars first
             notebook_only=("config", "build_data_if_missing", "smoke")),
    Workflow("ppo", "tradelab.training.ppo_config:PPOV3Config", "tradelab.training.ppo_config:PARAMETERS",
             "tradelab.training.ppo:train", "03_ppo",
             # config: the YAML itself; overrides: any dotted keys, as the command's --set
             notebook_only=("config", "overrides", "smoke")),
    Workflow("curriculum", "tradelab.training.curriculum_config:CurriculumRun", None,
             "tradelab.training.curriculum:train", "04_curriculum"),
)}


def workflow_of(config: Any) -> Workflow:
    """The workflow whose config class ``config`` is an instance of."""
    for workflow in WORKFLOWS.values():
        if type(config) is workflow.config_class():
            return workflow
    raise ConfigError(f"{type(config).__name__} is not a workflow config; use one of "
                      f"{[w.config.rpartition(':')[2] for w in WORKFLOWS.values()]}")


def for_notebook(stem: str) -> Workflow | None:
    """The workflow a notebook (file stem, e.g. ``02_sac``) drives, if any."""
    return next((w for w in WORKFLOWS.values() if w.notebook == stem), None)


def train(config: Any) -> Any:
    """Run the workflow ``config`` belongs to; returns its :class:`~tradelab.results.RunResult`."""
    return workflow_of(config).run(config)
