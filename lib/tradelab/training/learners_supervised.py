"""Morningstar and its logistic-regression baseline as learners on a planted market (benchmarks, demo, tests).

Each runner builds the market's data through the normal path (``build_processed`` → ``{asset}_final.parquet``),
trains on train, selects on val, then trades the signal head's causal sign rule on the TEST split once, at 1x
costs, through :func:`tradelab.evaluation.backtest.backtest` (the env and cost model of the RL learners and of
the planted references), and returns a :class:`~tradelab.evaluation.learning.LearnerResult`.
"""

from __future__ import annotations

import json
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from tradelab.evaluation.learning import LearnerResult, market_asset

__all__ = ["run_morningstar", "run_logreg", "resolve_market", "permute_train_labels"]


def resolve_market(market: str, seed: int) -> str:
    """A planted kind (``"momentum"``) → ``PLANTED_MOMENTUM_S<seed>``; any other name is an asset, unchanged."""
    from tradelab.data.synthetic import PLANTED_KINDS

    return market_asset(market.lower(), seed) if market.lower() in PLANTED_KINDS else market


def _build(market: str, seed: int, workdir: Path) -> tuple[str, Path]:
    from tradelab.data.build import build_processed

    asset = resolve_market(market, seed)
    data_dir = workdir / "data" / asset.lower()  # one folder per market: a build never drops another's data
    build_processed(assets=[asset.upper()], out_dir=data_dir, seed=seed)
    return asset.lower(), data_dir


def permute_train_labels(data_dir: Path, asset: str, seed: int) -> None:
    """Placebo control: permute the label columns across the TRAIN rows of ``{asset}_final.parquet`` in place.

    Features, val and test are untouched, so whatever the model then scores on test is luck: a learner
    check that still passes on permuted labels has no teeth.
    """
    import numpy as np

    from tradelab.data.store import read_final_parquet, write_final_parquet
    from tradelab.training.supervised_data import LABEL_COLUMNS, final_parquet_path

    path = final_parquet_path(asset, data_dir)
    frame, spec = read_final_parquet(path)
    train = np.flatnonzero((frame["split"] == "train").to_numpy())
    order = np.random.default_rng(seed).permutation(train)
    cols = [frame.columns.get_loc(c) for c in LABEL_COLUMNS.values()]
    frame.iloc[train, cols] = frame.iloc[order, cols].to_numpy()
    write_final_parquet(path, frame, spec)


def _default_config() -> Path | None:
    from tradelab.config import CONFIG_DIR

    path = CONFIG_DIR / "supervised.yaml"
    return path if path.is_file() else None


def _workdir(workdir: str | Path | None) -> Any:
    return nullcontext(str(workdir)) if workdir is not None else tempfile.TemporaryDirectory(prefix="tradelab_sup_")


def run_morningstar(market: str, seed: int = 0, *, budget_s: float | None = None, epochs: int | None = None,
                    workdir: str | Path | None = None, config: str | Path | None = None,
                    permute_labels: int | None = None, **overrides: Any) -> LearnerResult:
    """Train Morningstar on ``market`` and trade its signal head's sign rule on the test split at 1x costs.

    :param budget_s: wall-clock training budget (stops after the epoch that exhausts it).
    :param epochs: maximum epochs (None: the config's).
    :param config: a supervised YAML (None: ``configs/supervised.yaml`` when present, else the package defaults).
    :param permute_labels: placebo control: permute the train labels with this seed (see :func:`permute_train_labels`).
    :param overrides: config keys with ``__`` for dots, e.g. ``model_params__dropout=0.3``.
    """
    from tradelab.training.supervised import SupervisedConfig, train_supervised

    start = time.perf_counter()
    with _workdir(workdir) as root:
        asset, data_dir = _build(market, seed, Path(root))
        if permute_labels is not None:
            permute_train_labels(data_dir, asset, permute_labels)
        run_dir = Path(root) / "morningstar"
        cfg = SupervisedConfig.from_yaml(config or _default_config(), **{
            "training_params.verbose": 0, "training_params.make_plots": False, "callback_params.tensorboard": False,
            **overrides, "paths.data_dir": str(data_dir), "paths.save_path": str(run_dir),
            "data_loader_params.asset": asset, "training_params.seed": seed, "training_params.epochs": epochs,
            "training_params.budget_s": budget_s})
        metrics = train_supervised(cfg)
        history = json.loads((run_dir / "history.json").read_text(encoding="utf-8"))
    curve = [(float(i + 1), float(v)) for i, v in enumerate(history.get("val_trading_signal_output_accuracy", []))]
    trading = metrics["trading"]
    sig = {s: metrics[s]["trading_signal_output"] for s in ("val", "test")}
    test = trading["test"]["morningstar"]
    name = "morningstar" if permute_labels is None else "morningstar_permuted_labels"
    return LearnerResult(
        learner=name, market=market, seed=seed, test_sharpe=test["sharpe_ratio"], test_return=test["total_return"],
        wall_s=time.perf_counter() - start, steps=int(metrics["epochs_run"]), curve=curve, curve_metric="val_signal_accuracy",
        extra={"test_accuracy": sig["test"]["model"]["accuracy"], "val_accuracy": sig["val"]["model"]["accuracy"],
               "val_sharpe": trading["val"]["morningstar"]["sharpe_ratio"],
               "logreg_test_accuracy": sig["test"]["baselines"]["logistic_regression"]["accuracy"],
               "logreg_test_sharpe": trading["test"]["logistic_regression"]["sharpe_ratio"],
               "buy_and_hold_test_sharpe": trading["test"]["buy_and_hold"]["sharpe_ratio"],
               "majority_test_accuracy": sig["test"]["baselines"]["majority"]["accuracy"]},
    )


def run_logreg(market: str, seed: int = 0, *, budget_s: float | None = None, epochs: int | None = None,
               workdir: str | Path | None = None, time_window: int | None = None, class_weighting: str | None = None,
               **overrides: Any) -> LearnerResult:
    """Logistic regression on Morningstar's features and labels (last row of each window), traded the same way.

    ``budget_s`` and ``epochs`` are accepted for a uniform runner signature and ignored (a fit takes seconds).
    ``curve`` holds (C, validation accuracy) over the regularisation grid; C is picked on val.
    """
    import numpy as np

    from tradelab.models.logreg import fit_logreg, window_rows
    from tradelab.models.signal_rule import trading_report
    from tradelab.training.supervised import DataLoaderParams
    from tradelab.training.supervised_data import load_and_split_data

    defaults = DataLoaderParams()
    window = int(time_window or defaults.time_window)
    start = time.perf_counter()
    with _workdir(workdir) as root:
        asset, data_dir = _build(market, seed, Path(root))
        data = load_and_split_data(asset, data_dir)
        model = fit_logreg(data, window, class_weighting=class_weighting or defaults.class_weighting, seed=seed, **overrides)
        acc = {s: model.accuracy(data, s) for s in ("val", "test")}
        trading = {s: trading_report({"logistic_regression": model.probabilities(data, s)}, data.frames[s], window)
                   for s in ("val", "test")}
        y_train, y_test = window_rows(data, "train", window)[1], window_rows(data, "test", window)[1]
        majority = float(np.mean(y_test == np.bincount(y_train).argmax()))
    test = trading["test"]["logistic_regression"]
    curve = [(float(c), float(v)) for c, v in (model.val_accuracy_by_C or {}).items()]
    return LearnerResult(
        learner="logreg", market=market, seed=seed, test_sharpe=test["sharpe_ratio"], test_return=test["total_return"],
        wall_s=time.perf_counter() - start, steps=len(y_train), curve=curve, curve_metric="val_accuracy_by_C",
        extra={"test_accuracy": acc["test"], "val_accuracy": acc["val"], "C": model.C,
               "val_sharpe": trading["val"]["logistic_regression"]["sharpe_ratio"],
               "buy_and_hold_test_sharpe": trading["test"]["buy_and_hold"]["sharpe_ratio"], "majority_test_accuracy": majority},
    )
