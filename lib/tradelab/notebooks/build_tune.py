"""The source of ``notebooks/06_tune_worker.ipynb`` (``python -m tradelab.notebooks.build``)."""

from __future__ import annotations

from pathlib import Path

from tradelab.notebooks.authoring import write_notebook

__all__ = ["build"]

TUNE_WORKER_NOTEBOOK = dict(
    header="""# 06 · One Optuna worker joining a shared study

Adds trials (learning_rate, n_steps, ent_coef of a curriculum stage, scored on the validation Sharpe)
to an Optuna study on a shared storage server, alongside other workers: `tradelab tune` in local
shells and other kernels. `tradelab kaggle tune --study NAME --storage URL --workers N` pushes this
notebook N times. The storage URL is read from a file (the private dataset that command attaches) or
from a Kaggle secret, never written here. The test split is never read.""",
    parameters="""study = "ploutos_stage1"
stage = 1
storage_file = None  # file holding the storage URL (the private dataset `tradelab kaggle tune` attaches)
storage_secret = "TRADELAB_OPTUNA_STORAGE"  # else: label of the Kaggle secret holding the URL
add_trials = 2  # trials this worker adds
timesteps = None  # steps per trial; None: the stage's tune_timesteps
heartbeat = 60  # seconds; a trial silent for 3 beats (its worker died) is failed and retried
sets = []  # PPO V3 overrides as given to `tradelab tune --set` (the same on every worker)
config = None  # curriculum YAML; None: configs/curriculum.yaml
seed = 0
worker = None  # label on this worker's trials; `tradelab kaggle tune` sets kaggle:OWNER/SLUG
output_dir = "outputs/tune_worker"
smoke = False  # tiny network and budgets (tests)""",
    cells=[
        """import pandas as pd

from tradelab.kaggle.tune_workers import kernel_worker""",
        """## Join the study and add trials""",
        """result = kernel_worker(study=study, stage=stage, storage_file=storage_file, storage_secret=storage_secret,
                       output_dir=output_dir, worker=worker, add_trials=add_trials, timesteps=timesteps,
                       heartbeat=heartbeat, sets=sets, config=config, seed=seed, smoke=smoke)
pd.Series({k: result[k] for k in ("study", "worker", "worker_trials", "n_trials", "best_trial", "best_value",
                                  "best_worker")})""",
    ],
)


def build(folder: str | Path) -> list[Path]:
    """Write the notebook into ``folder``; returns its path."""
    return [write_notebook(Path(folder) / "06_tune_worker.ipynb", **TUNE_WORKER_NOTEBOOK)]
