"""Logistic-regression baseline for Morningstar's signal head: same features, labels and windows.

Each Morningstar window ending on row t is labelled with row t's signal; the baseline sees the
scaled feature vector of that last row (the features already summarise the past: returns, EMAs,
oscillators), fitted on the train split only. The inverse regularisation strength ``C`` is picked
from a small grid by validation accuracy (test is never looked at), with the same class weighting
as the network, so the two are compared on equal terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradelab.models.hybrid import SIGNAL_HEAD

__all__ = ["DEFAULT_CS", "LogRegBaseline", "window_rows", "fit_logreg"]

#: grid of inverse L2 strengths; on PLANTED_MOMENTUM val accuracy is flat across it (0.419-0.420)
DEFAULT_CS: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)


def window_rows(data: Any, split: str, time_window: int) -> tuple[np.ndarray, np.ndarray]:
    """(last-row scaled features, signal label) of every window of ``split`` (Morningstar's order)."""
    x = data.scaled(split)
    ends = np.arange(time_window - 1, len(x), dtype=np.int64)
    return x[ends], data.labels(split)[SIGNAL_HEAD][ends]


@dataclass
class LogRegBaseline:
    """A fitted multinomial logistic regression on the signal labels, with the C it chose."""

    model: Any
    """``sklearn.linear_model.LogisticRegression`` fitted on train"""
    C: float
    time_window: int
    num_classes: int = 3
    val_accuracy_by_C: dict[str, float] | None = None

    def probabilities(self, data: Any, split: str) -> np.ndarray:
        """``(n_windows, num_classes)`` class probabilities (classes unseen in train get 0)."""
        x, _ = window_rows(data, split, self.time_window)
        out = np.zeros((len(x), self.num_classes), dtype=np.float64)
        out[:, self.model.classes_.astype(np.int64)] = self.model.predict_proba(x)
        return out

    def accuracy(self, data: Any, split: str) -> float:
        _, y = window_rows(data, split, self.time_window)
        return float(np.mean(self.probabilities(data, split).argmax(axis=1) == y))


def fit_logreg(data: Any, time_window: int, *, Cs: Sequence[float] = DEFAULT_CS, class_weighting: str = "balanced",
               seed: int = 0, max_iter: int = 2000) -> LogRegBaseline:
    """Fit one model per ``C`` on train, keep the best by validation accuracy.

    :param data: :class:`tradelab.training.supervised_data.SplitData` (scaler fitted on train).
    :param class_weighting: ``"balanced"`` (as the network's sample weights) or ``"none"``.
    """
    from sklearn.linear_model import LogisticRegression

    x_train, y_train = window_rows(data, "train", time_window)
    x_val, y_val = window_rows(data, "val", time_window)
    weight = "balanced" if class_weighting == "balanced" else None
    best: tuple[float, float, Any] | None = None
    scores: dict[str, float] = {}
    for c in Cs:
        model = LogisticRegression(C=float(c), class_weight=weight, max_iter=max_iter, random_state=seed)
        model.fit(x_train, y_train)
        scores[str(c)] = float(model.score(x_val, y_val))
        if best is None or scores[str(c)] > best[0]:
            best = (scores[str(c)], float(c), model)
    assert best is not None, "Cs must not be empty"
    return LogRegBaseline(best[2], best[1], int(time_window), int(data.num_signal_classes), scores)
