"""Causal features, labels and train-fitted scaling.

``compute_features`` / ``feature_names`` / ``FEATURE_GROUPS`` / ``WARMUP_BARS`` come from
:mod:`tradelab.features.technical`; ``ta`` itself is imported only when features are computed.
"""

from tradelab.features.technical import FEATURE_GROUPS, WARMUP_BARS, compute_features, feature_names

__all__ = ["FEATURE_GROUPS", "WARMUP_BARS", "compute_features", "feature_names"]
