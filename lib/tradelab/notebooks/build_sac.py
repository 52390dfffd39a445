"""The source of ``notebooks/02_sac.ipynb`` (``python -m tradelab.notebooks.build``)."""

from __future__ import annotations

from pathlib import Path

from tradelab.notebooks.authoring import write_notebook

HEADER = """
# 02 · SAC agents (1 plain, 2 auxiliary return head, 3 HMM regimes)

Trains a stable-baselines3 SAC agent on `processed_data.h5` (train split, random episodes), evaluates it on the
whole validation split every `eval_frequency` episodes (best val Sharpe → `agent_{id}_best.pt`), checkpoints
every `checkpoint_frequency` episodes (resumable: set `resume_from`), plots episode rewards, actor loss and
alpha, then backtests the best agent once on the test split beside buy-and-hold, flat and SMA crossover at
0×/1×/2× costs. Same code as `tradelab train sac` and `kaggle/train_sac_kaggle.py`.
"""

PARAMETERS = """
h5_path = "data/processed/processed_data.h5"  # a path or glob pattern (Kaggle: under /kaggle/input)
build_data_if_missing = True  # build h5_path from the embedded EURUSD hourly bars when it does not exist
asset = "EURUSD"  # asset in the file; None: the first
agent_id = 1  # 1 SAC, 2 SAC + next-return auxiliary head, 3 SAC + HMM regime probabilities
num_episodes = 100
eval_frequency = 10
checkpoint_frequency = 5
episode_length = 3000
warmup_steps = 5000
device = "auto"  # CUDA when present
seed = 0
config = None  # SAC training YAML; None: configs/sac.yaml
resume_from = None  # a checkpoint .pt, a run/checkpoints folder (newest) or a glob pattern
output_dir = "outputs/sac"
smoke = False  # tiny networks and budget (tests, demo)
"""

CELLS = [
    """
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

from tradelab.agents.sac_data import resolve_h5
from tradelab.training.sac_trainer import DEFAULT_CONFIG, SMOKE_OVERRIDES, KaggleTrainer, SACTrainingConfig

h5 = resolve_h5(h5_path, build_if_missing=build_data_if_missing, asset=asset)
cfg = SACTrainingConfig.from_yaml(config or DEFAULT_CONFIG, **(SMOKE_OVERRIDES if smoke else {}))
trainer = KaggleTrainer(h5_path=h5, output_dir=output_dir, num_episodes=num_episodes,
                        eval_frequency=eval_frequency, checkpoint_frequency=checkpoint_frequency,
                        agent_id=agent_id, device=device, asset=asset, episode_length=episode_length,
                        warmup_steps=warmup_steps, seed=seed, resume_from=resume_from or None, config=cfg)
trainer.config.sac
""",
    "## Train (progress bar over episodes; validation picks the best checkpoint)",
    """
agent, stats = trainer.run_training()
pd.DataFrame(stats["eval"]).set_index("episode")
""",
    "## Training curves: episode rewards, actor loss, alpha",
    """
for png in stats["plots"]:  # written by the trainer under output_dir/plots (training_figures(stats) redraws them)
    display(Image(filename=png))
""",
    "## Test split, touched once: best agent vs baselines",
    """
test = {k: v for k, v in stats["test"].items() if isinstance(v, dict) and "sharpe_ratio" in v}  # {} if max_runtime hit
display(pd.DataFrame(test).T.reindex(columns=["total_return", "sharpe_ratio", "max_drawdown", "n_trades"]))
display(pd.DataFrame({cost: {k: m["sharpe_ratio"] for k, m in by.items()}
                      for cost, by in stats["test"].get("by_cost", {}).items()}).rename_axis("Sharpe"))
if (Path(output_dir) / "equity.png").is_file():
    display(Image(filename=str(Path(output_dir) / "equity.png")))
print("metrics:", Path(output_dir) / "metrics.json", "| best agent:", Path(output_dir) / f"agent_{agent_id}_best.pt")
""",
]


def build(folder: str | Path) -> list[Path]:
    """Write ``02_sac.ipynb`` into ``folder``."""
    return [write_notebook(Path(folder) / "02_sac.ipynb", HEADER, PARAMETERS, CELLS)]
