"""tradelab.training: the trainers, one workflow per group of modules, and what they share.

Each workflow has one config (every setting) and one ``train(config) -> RunResult`` (the table is
:mod:`tradelab.workflows`; the result schema :mod:`tradelab.results`). Each workflow is split by job (config / data or envs / model I/O / orchestration); the orchestration
module re-exports the public names of its pieces, so ``from tradelab.training.ppo import PPOV3Config``
and ``from tradelab.training.sac_trainer import KaggleTrainer`` keep working.

* Supervised (Keras): ``supervised`` (``train``, ``train_supervised``), ``supervised_config`` (its config), ``supervised_data``, ``supervised_plots``.
* SAC: ``sac_trainer`` (``train``; ``KaggleTrainer``, the seed guide's facade: set-up, episode loop, checkpoints, resume, final report),
  ``sac_config`` (``SACTrainingConfig``: run settings included), ``sac_folder`` (default paths, resume point, best agent on disk),
  ``sac_stats`` (stats files, episode callback, validation pass, TensorBoard/log/resources), ``sac_plots``.
* PPO V3: ``ppo`` (``train``, ``train_ppo``, ``run_experiment``: run folder, callbacks, resume, evaluation),
  ``ppo_config`` (config classes, the one list of SB3 hyperparameters), ``ppo_envs`` (train/eval envs),
  ``ppo_io`` (build, load weights-only, save), ``vecnorm`` (VecNormalize statistics as JSON),
  ``multiasset`` (data for PPO: align, split, scale on train), ``seed_layout`` (seed 003's YAML layout).
* Curriculum and tuning: ``curriculum`` (``train``, stages, gate, ``tune_stage``), ``curriculum_config``
  (``CurriculumConfig``, ``StageConfig``, ``CurriculumRun``: one call's settings), ``tuning`` (Optuna ``tune``,
  search space), ``study_storage`` (SQLite / journal / PostgreSQL storages).
* Shared: ``callbacks`` (SB3 callbacks), ``monitor`` (CPU/RSS/GPU), ``runlog`` (run log files),
  ``model_paths`` (``--load-model`` resolution), ``learners_*`` (each learner on a planted market).

Lower modules never import higher ones (``ppo_config`` < ``ppo_envs``/``ppo_io`` < ``callbacks`` < ``ppo``
< ``tuning`` < ``curriculum``); ``tests/test_import_cycles.py`` keeps the package free of import cycles.
"""
