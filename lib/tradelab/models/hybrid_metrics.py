"""Per-head metrics of the hybrid model beside naive baselines computed on the same rows.

Baselines use only what is known at bar t. A label at bar s looks forward ``horizon`` bars, so
the latest label fully realised at t is the one at ``t - horizon``:

- classifiers: ``majority`` (the train split's most frequent class) and ``previous_class``
  ("yesterday's class": the label at ``t - horizon``, the last one already realised);
- volatility: ``trailing_realised`` (``label_volatility`` at ``t - horizon``, i.e. the realised
  volatility of the last ``horizon`` bars, same definition and scale as the target) and
  ``train_mean``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tradelab.models.hybrid import REGIME_HEAD, SIGNAL_HEAD, VOLATILITY_HEAD

__all__ = ["SIGNAL_CLASS_NAMES", "classification_metrics", "regression_metrics", "evaluate_heads", "summary_frame"]

SIGNAL_CLASS_NAMES = ("sell", "hold", "buy")


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro F1, per-class precision/recall/support, confusion matrix."""
    from sklearn.metrics import (
        balanced_accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    labels = list(range(len(class_names)))
    precision, recall, _, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "accuracy": float(np.mean(y_true == y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)) if len(y_true) else float("nan"),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "support": int(support[i])}
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE and MAE."""
    err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}


def _lagged(values: np.ndarray, ends: np.ndarray, horizon: int) -> np.ndarray:
    """``values[end - horizon]`` for each window end (the caller guarantees ``end >= horizon``)."""
    return values[ends - horizon]


def evaluate_heads(
    predictions: dict[str, np.ndarray],
    split_labels: dict[str, np.ndarray],
    ends: np.ndarray,
    horizon: int,
    train_labels: dict[str, np.ndarray],
    regime_names: list[str],
) -> dict[str, Any]:
    """Metrics per head for one split: the model and its baselines on exactly the same windows.

    :param predictions: model outputs per head (probabilities for classifiers, ``(n, 1)`` vol).
    :param split_labels: the split's full per-row label vectors; ``ends`` picks each window's row.
    """
    if len(ends) and int(ends.min()) < horizon:
        raise ValueError(f"window ends start at {int(ends.min())} < horizon {horizon}: baselines need t - horizon")
    out: dict[str, Any] = {}
    for head, names in ((SIGNAL_HEAD, list(SIGNAL_CLASS_NAMES)), (REGIME_HEAD, regime_names)):
        y = split_labels[head][ends]
        majority = int(np.bincount(train_labels[head], minlength=len(names)).argmax())
        out[head] = {
            "model": classification_metrics(y, np.argmax(predictions[head], axis=-1), names),
            "baselines": {
                "majority": classification_metrics(y, np.full_like(y, majority), names),
                "previous_class": classification_metrics(y, _lagged(split_labels[head], ends, horizon), names),
            },
            "n_windows": int(len(y)),
        }
    y_vol = split_labels[VOLATILITY_HEAD][ends]
    pred_vol = np.asarray(predictions[VOLATILITY_HEAD]).reshape(-1)
    out[VOLATILITY_HEAD] = {
        "model": regression_metrics(y_vol, pred_vol),
        "baselines": {
            "trailing_realised": regression_metrics(y_vol, _lagged(split_labels[VOLATILITY_HEAD], ends, horizon)),
            "train_mean": regression_metrics(y_vol, np.full_like(y_vol, float(np.mean(train_labels[VOLATILITY_HEAD])))),
        },
        "n_windows": int(len(y_vol)),
    }
    return out


def summary_frame(metrics: Any) -> Any:
    """Per-head metrics → a table: one row per (split, head, metric), the model beside each baseline.

    ``metrics``: :func:`tradelab.training.supervised.train_supervised`'s dict, or the
    :class:`~tradelab.results.RunResult` of its ``metrics.json`` (heads under ``meta.heads``).
    """
    import pandas as pd

    metrics = metrics.meta["heads"] if hasattr(metrics, "meta") else metrics

    rows = []
    for split in ("val", "test"):
        for head, key in ((SIGNAL_HEAD, "accuracy"), (SIGNAL_HEAD, "macro_f1"), (VOLATILITY_HEAD, "rmse"),
                          (VOLATILITY_HEAD, "mae"), (REGIME_HEAD, "accuracy"), (REGIME_HEAD, "macro_f1")):
            h = metrics[split][head]
            row = {"split": split, "head": head, "metric": key, "model": h["model"][key]}
            row.update({name: b[key] for name, b in h["baselines"].items()})
            rows.append(row)
    return pd.DataFrame(rows).set_index(["split", "head", "metric"])
