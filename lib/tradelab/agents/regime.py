"""Agent 3's market-regime probabilities: a Gaussian HMM fitted on train, applied causally.

The HMM (hmmlearn ``GaussianHMM``, diagonal covariances) sees two inputs per bar, both causal:
the log return of the close and its rolling standard deviation. It is fitted on the TRAIN split
only; the input standardisation is fitted there too. Probabilities are applied with FORWARD
FILTERING, p(state_t | x_1..x_t), the normalised alpha recursion

    alpha_1 = pi * b(x_1);   alpha_t = (alpha_{t-1} @ A) * b(x_t);   p_t = alpha_t / sum(alpha_t)

so the probability at bar t never uses bars after t. hmmlearn's ``predict_proba`` is the
smoothed posterior p(state_t | x_1..x_T), which looks at the future: never use it for features.
The parameters travel as plain lists (:meth:`RegimeHMM.to_dict`) inside the agent's ``.pt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from tradelab.errors import CheckpointError, DataError

__all__ = ["RegimeHMM", "regime_inputs", "VOL_WINDOW"]

#: Bars in the rolling volatility input.
VOL_WINDOW = 20


def regime_inputs(ohlcv: pd.DataFrame, window: int = VOL_WINDOW) -> np.ndarray:
    """(n_bars, 2) causal inputs: log return of close, rolling std of log returns (bars ≤ t)."""
    if "close" not in ohlcv:
        raise DataError("regime_inputs: the OHLCV frame has no 'close' column; pass a canonical OHLCV frame")
    logret = np.log(ohlcv["close"].astype(float)).diff().fillna(0.0)
    vol = logret.rolling(window, min_periods=2).std().fillna(0.0)
    return np.column_stack([logret.to_numpy(), vol.to_numpy()])


@dataclass
class RegimeHMM:
    """A fitted Gaussian HMM plus the train-fitted input standardisation."""

    startprob: np.ndarray
    transmat: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    input_mean: np.ndarray
    input_std: np.ndarray

    @property
    def n_regimes(self) -> int:
        return int(self.startprob.shape[0])

    @classmethod
    def fit(cls, train_ohlcv: pd.DataFrame, n_regimes: int = 3, seed: int = 0, n_iter: int = 50) -> RegimeHMM:
        """Fit on the TRAIN bars only (inputs standardised with train mean/std)."""
        from hmmlearn.hmm import GaussianHMM

        x = regime_inputs(train_ohlcv)
        if len(x) < 10 * n_regimes:
            raise DataError(f"RegimeHMM.fit: {len(x)} train bars are too few for {n_regimes} regimes; use more data")
        mean, std = x.mean(axis=0), x.std(axis=0) + 1e-12
        model = GaussianHMM(n_components=n_regimes, covariance_type="diag", n_iter=n_iter, random_state=seed)
        model.fit((x - mean) / std)
        # Order states by volatility so regime 0 is the calmest (stable meaning across seeds).
        order = np.argsort(model.means_[:, 1])
        return cls(
            startprob=model.startprob_[order],
            transmat=model.transmat_[np.ix_(order, order)],
            means=model.means_[order],
            variances=np.stack([np.diag(c) for c in model.covars_])[order],
            input_mean=mean,
            input_std=std,
        )

    def _log_emissions(self, z: np.ndarray) -> np.ndarray:
        var = self.variances[None, :, :]
        diff = z[:, None, :] - self.means[None, :, :]
        return -0.5 * (np.log(2 * np.pi * var) + diff**2 / var).sum(axis=2)

    def filter(self, ohlcv: pd.DataFrame) -> np.ndarray:
        """Forward-filtered probabilities (n_bars, n_regimes); row t depends on bars ≤ t only."""
        z = (regime_inputs(ohlcv) - self.input_mean) / self.input_std
        log_b = self._log_emissions(z)
        log_a = np.log(self.transmat + 1e-300)
        out = np.empty_like(log_b)
        log_alpha = np.log(self.startprob + 1e-300) + log_b[0]
        log_alpha -= logsumexp(log_alpha)
        out[0] = log_alpha
        for t in range(1, len(z)):
            log_alpha = logsumexp(log_alpha[:, None] + log_a, axis=0) + log_b[t]
            log_alpha -= logsumexp(log_alpha)
            out[t] = log_alpha
        return np.exp(out).astype(np.float32)

    def to_hmmlearn(self):
        """The equivalent hmmlearn model (for ``predict_proba`` comparisons and plots)."""
        from hmmlearn.hmm import GaussianHMM

        model = GaussianHMM(n_components=self.n_regimes, covariance_type="diag")
        model.n_features = self.means.shape[1]
        model.startprob_, model.transmat_ = self.startprob, self.transmat
        model.means_, model.covars_ = self.means, self.variances
        return model

    def standardise(self, ohlcv: pd.DataFrame) -> np.ndarray:
        return (regime_inputs(ohlcv) - self.input_mean) / self.input_std

    def to_dict(self) -> dict[str, Any]:
        """Plain lists (safe inside a weights-only ``.pt``)."""
        return {k: np.asarray(getattr(self, k), dtype=float).tolist() for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegimeHMM:
        missing = [k for k in cls.__dataclass_fields__ if k not in data]
        if missing:
            raise CheckpointError(f"HMM spec is missing {missing}; re-save the agent 3 checkpoint")
        return cls(**{k: np.asarray(data[k], dtype=float) for k in cls.__dataclass_fields__})
