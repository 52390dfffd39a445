"""The sources of ``notebooks/03_ppo.ipynb`` and ``04_curriculum.ipynb`` (``python -m tradelab.notebooks.build``)."""

from __future__ import annotations

from pathlib import Path

from tradelab.notebooks.authoring import write_notebook

__all__ = ["build"]


PPO_NOTEBOOK = dict(
    header="""# 03 · PPO V3 on the multi-asset portfolio env

Trains Ploutos V3 (stable-baselines3 PPO, a shared 1024-512-256 tanh trunk with policy and value heads) on the
embedded daily assets with the full cost model, plots the TensorBoard scalars (SB3's losses, entropy,
KL, explained variance and the trading callback's equity, return, trades, episode reward), then
backtests the test split once beside buy-and-hold, flat and SMA crossover at 0×/1×/2× costs.
Same code as `tradelab train ppo --config configs/ppo_v3.yaml`.""",
    parameters="""config = None  # PPO V3 YAML; None: configs/ppo_v3.yaml
assets = ["SPX", "NDX", "GOOG"]  # embedded names or CSV/parquet paths
total_timesteps = 200_000
n_envs = 8
seed = 0
overrides = {}  # any dotted config key, e.g. {"ppo.learning_rate": 1e-4}
output_dir = "outputs/ppo_v3"
smoke = False  # tiny network and budget (tests, demo)""",
    cells=[
        """%matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Image, display

from tradelab.config import CONFIG_DIR
from tradelab.training.callbacks import read_scalars
from tradelab.training.ppo import SMOKE_OVERRIDES, PPOV3Config, run_experiment

settings = {"data.assets": assets, "training.total_timesteps": total_timesteps, "training.n_envs": n_envs,
            "training.seed": seed, "output_dir": output_dir}
if smoke:
    settings.update(SMOKE_OVERRIDES)
settings.update(overrides)
cfg = PPOV3Config.from_yaml(config or CONFIG_DIR / "ppo_v3.yaml", **settings)
cfg.ppo""",
        """## Train (validation split drives the best checkpoint), then the test backtest""",
        """result = run_experiment(cfg)
pd.Series(result["validation"]).to_frame("validation")""",
        """scalars = read_scalars(Path(output_dir) / "tensorboard")
tags = [t for t in ["train/value_loss", "train/policy_gradient_loss", "train/entropy_loss", "train/approx_kl",
                    "train/explained_variance", "trading/equity", "trading/total_return", "trading/n_trades",
                    "trading/episode_reward"] if t in set(scalars["tag"])]
fig, axes = plt.subplots((len(tags) + 2) // 3, 3, figsize=(13, 3 * ((len(tags) + 2) // 3)), squeeze=False)
for ax, tag in zip(axes.flat, tags):
    s = scalars[scalars["tag"] == tag].sort_values("step")
    ax.plot(s["step"], s["value"], marker=".")
    ax.set_title(tag)
plt.tight_layout()""",
        """test = result["test"] or {}  # None when training.max_runtime stopped the run: resume it first
table = pd.DataFrame({name: m for name, m in test.items() if isinstance(m, dict) and "sharpe_ratio" in m}).T
table.reindex(columns=["total_return", "sharpe_ratio", "max_drawdown", "n_trades"])""",
        """for png in sorted((Path(output_dir) / "test").glob("*.png"))[:2]:
    display(Image(filename=str(png)))""",
    ],
)

CURRICULUM_NOTEBOOK = dict(
    header="""# 04 · The 3-stage PPO curriculum (transfer learning, Optuna, gates)

Runs one stage of the Ploutos curriculum (`configs/curriculum.yaml`: 1 SPX → 2 SPX, NDX → 3 GOOG,
SPX, NDX). Stage N > 1 starts from stage N-1's final model and refuses one that failed its gate unless
`force`. With `auto_optimize`, Optuna (TPE, median pruner) tunes learning_rate, n_steps and ent_coef on
the validation Sharpe first; the test split is read only after training, for the report beside the
baselines. Same code as `tradelab curriculum --stage N`.""",
    parameters="""stage = 1
auto_optimize = False
n_trials = 15
storage = None  # Optuna storage URL; None: SQLite in output_dir
timesteps = None  # None: the stage's value from the config
n_envs = None
seed = 0
force = False
load_model = None  # None: stage N-1's final model
config = None  # curriculum YAML; None: configs/curriculum.yaml
output_dir = "outputs/curriculum"
smoke = False  # tiny network and budgets (tests, demo)""",
    cells=[
        """%matplotlib inline
import json
from pathlib import Path

import matplotlib.pyplot as plt
import optuna
import pandas as pd

from tradelab.training.curriculum import load_curriculum, run_stage, smoke_curriculum
from tradelab.training.tuning import make_storage
from tradelab.utils.io import json_safe

cur, ppo_overrides = load_curriculum(config), {}
if smoke:
    cur, ppo_overrides = smoke_curriculum(cur)
cur.get(stage)""",
        """report = run_stage(cur, stage, output_dir, load_model=load_model, auto_optimize=auto_optimize,
                   n_trials=n_trials, storage=storage, timesteps=timesteps, n_envs=n_envs, seed=seed,
                   force=force, ppo_overrides=ppo_overrides)
print("loaded from:", report["loaded_from"] or "(fresh network)")
pd.Series(report["gate"])""",
        """## Test split (read once, after the gate) beside the baselines""",
        """rows = {name: m for name, m in (report["test"] or {}).items() if isinstance(m, dict) and "sharpe_ratio" in m}
pd.DataFrame(rows).T.reindex(columns=["total_return", "sharpe_ratio", "max_drawdown", "n_trades"])""",
        """if report["optimized_params"]:
    study = optuna.load_study(study_name=f"ploutos_stage{stage}", storage=make_storage(storage, output_dir))
    print("best parameters:", report["optimized_params"]["best_params"])
    optuna.visualization.matplotlib.plot_optimization_history(study)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(done) >= 2 and len({json.dumps(t.params, sort_keys=True) for t in done}) >= 2:
        optuna.visualization.matplotlib.plot_param_importances(study)
    plt.show()""",
        """metrics = {"stage": stage, "gate": report["gate"], "validation": report["validation"],
           "test_agent": rows.get(f"ploutos_stage{stage}", {}), "optimized_params": report["optimized_params"],
           "final_model": report["final_model"], "loaded_from": report["loaded_from"]}
Path(output_dir, "metrics.json").write_text(json.dumps(json_safe(metrics), indent=2, default=str, allow_nan=False))
metrics["gate"]""",
    ],
)


def build(folder: str | Path) -> list[Path]:
    """Write both notebooks into ``folder``; returns their paths."""
    root = Path(folder)
    return [write_notebook(root / "03_ppo.ipynb", **PPO_NOTEBOOK),
            write_notebook(root / "04_curriculum.ipynb", **CURRICULUM_NOTEBOOK)]

