"""The source of ``notebooks/05_inference.ipynb`` (``python -m tradelab.notebooks.build``)."""

from __future__ import annotations

from pathlib import Path

from tradelab.notebooks.authoring import write_notebook

HEADER = """# 05 · Local inference from `agent_1_best.pt`

Loads a SAC checkpoint **alone** (weights-only `torch.load`; e.g. pulled from Kaggle or written by
`02_sac`), rebuilds the features and the train-fitted scaler it carries, and backtests it
deterministically beside buy-and-hold, flat and SMA crossover at 0/1/2× costs.

* **Needs:** the `.pt` file, plus either `processed_data.h5` (`tradelab data build` / `00_data`) with a
  `split`, or an OHLCV CSV the agent never saw (`csv_path`).
* **Writes** under `output_dir`: `metrics.json`, `equity.csv`, `actions.csv` and the plots.
* Same as `tradelab infer --checkpoint ... --h5-path ... --output-dir ...`."""

PARAMETERS = '''checkpoint = "outputs/sac/agent_1_best.pt"  # the SAC .pt file (alone is enough)
h5_path = "data/processed/processed_data.h5"  # processed data (ignored when csv_path is set)
split = "test"  # h5 split to trade: train, val or test
asset = None  # asset in the h5 (None: the checkpoint's asset)
csv_path = None  # an OHLCV CSV to trade instead of the h5 split
output_dir = "outputs/inference"  # where metrics.json, equity.csv, actions.csv and plots go
smoke = False  # True: trade only the last 300 bars (quick check)
seed = 0  # seed (the backtest is deterministic)'''

CELLS = [
    """from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Image, display

from tradelab.inference import load_checkpoint, run_inference
from tradelab.utils import set_threads

set_threads()
out = Path(output_dir)""",
    "## What the checkpoint carries",
    """ckpt = load_checkpoint(checkpoint)
pd.Series({
    "agent": f"{ckpt['agent_id']} ({ckpt.get('agent_variant')})",
    "trained on": ckpt.get("asset"),
    "features": len(ckpt["feature_names"]),
    "state_dim": ckpt["sac_config"]["state_dim"],
    "episodes": ckpt.get("counters", {}).get("episodes_done"),
    "window": ckpt["env_config"].get("window"),
})""",
    "## Deterministic backtest vs baselines",
    """metrics = run_inference(checkpoint, out, h5_path=h5_path, split=split, asset=asset,
                        csv_path=csv_path, seed=seed, max_bars=300 if smoke else None)
print(metrics["inference"]["source"], metrics["inference"]["n_bars"], "bars")
table = pd.DataFrame({k: v for k, v in metrics.items() if isinstance(v, dict) and "sharpe_ratio" in v}).T
table[["total_return", "sharpe_ratio", "max_drawdown", "n_trades"]]""",
    """equity = pd.read_csv(out / "equity.csv", index_col=0, parse_dates=True)
actions = pd.read_csv(out / "actions.csv", index_col=0, parse_dates=True)
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
equity.plot(ax=ax1, title="equity vs baselines (1x costs)")
actions.plot(ax=ax2, title="agent action and position")
plt.tight_layout()""",
    """for png in sorted(out.glob("*.png")):
    display(Image(filename=str(png)))""",
    """## Step through the env yourself (gymnasium's form)

`agent.make_env(ohlcv, features)` scales the features with the scaler the checkpoint carries (a
`TradingEnvironment` built from unscaled features is refused by `select_action`). gymnasium's
`reset()` returns `(obs, info)` and `step()` five values; the seed guide's `state = env.reset()` /
`state, reward, done, info = env.step(action)` loop stops with a message showing this form.""",
    """from tradelab import SACAgent
from tradelab.data.store import read_processed_h5

agent = SACAgent.from_checkpoint(checkpoint, device="cpu")
if csv_path:
    from tradelab.data import load_file

    env = agent.make_env(load_file(csv_path, asset=asset))  # features computed from the bars
else:
    store = read_processed_h5(h5_path)
    name = store.resolve_asset(asset or ckpt.get("asset")) or store.assets[0]
    bars = store.frame(split, name).iloc[-300 if smoke else 0:]
    env = agent.make_env(bars, store.features(split, name).loc[bars.index])

obs, info = env.reset()
done, total_reward = False, 0.0
while not done:
    action = agent.select_action(obs, evaluate=True)
    obs, reward, terminated, truncated, info = env.step(action)
    total_reward += reward
    done = terminated or truncated
print(f"total return {info['total_return']:.4f}, Sharpe {info['sharpe_ratio']:.3f}, reward {total_reward:.3f}")""",
]


def build(folder: str | Path) -> list[Path]:
    """Write ``05_inference.ipynb`` into ``folder``."""
    return [write_notebook(Path(folder) / "05_inference.ipynb", HEADER, PARAMETERS, CELLS)]
