"""One result shape for every learner on a planted-signal market (benchmarks/learning.py, demo, tests).

Every learner runner (SAC agents 1/2/3, PPO V3, curriculum stage 1, Morningstar's signal head, the
logistic-regression baseline) returns a :class:`LearnerResult`; the benchmark and the demo's planted
section only read this shape, so a new learner plugs in by returning one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["LearnerResult"]


@dataclass
class LearnerResult:
    """A learner's outcome on one planted market and seed, evaluated on the test split at 1x costs.

    ``curve`` is the learning curve: ``(training steps or epochs, validation metric)`` pairs in the
    order they were measured; ``curve_metric`` names the metric (e.g. ``"val_sharpe"``).
    """

    learner: str
    market: str
    seed: int
    test_sharpe: float
    test_return: float
    wall_s: float
    steps: int
    curve: list[tuple[float, float]] = field(default_factory=list)
    curve_metric: str = "val_sharpe"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
