"""Morningstar's hybrid CNN+LSTM: a feature window in, three named heads out (Keras 3 functional API).

Heads: ``trading_signal_output`` (softmax over sell/hold/buy), ``volatility_output`` (one
non-negative value, softplus) and ``market_regime_output`` (softmax over regimes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "SIGNAL_HEAD",
    "VOLATILITY_HEAD",
    "REGIME_HEAD",
    "HEADS",
    "build_enhanced_hybrid_model",
    "compile_hybrid_model",
]

SIGNAL_HEAD = "trading_signal_output"
VOLATILITY_HEAD = "volatility_output"
REGIME_HEAD = "market_regime_output"
HEADS = (SIGNAL_HEAD, VOLATILITY_HEAD, REGIME_HEAD)


def _as_tuple(value: int | Sequence[int]) -> tuple[int, ...]:
    return (int(value),) if isinstance(value, int) else tuple(int(v) for v in value)


def build_enhanced_hybrid_model(
    input_shape: tuple[int, int],
    num_signal_classes: int = 3,
    num_regime_classes: int = 3,
    *,
    cnn_filters: int | Sequence[int] = (32, 32),
    kernel_size: int = 3,
    lstm_units: int | Sequence[int] = (32,),
    dense_units: int = 32,
    dropout: float = 0.2,
    use_attention: bool = False,
    attention_heads: int = 2,
    l2: float = 0.0,
    volatility_init: float | None = None,
    name: str = "morningstar_hybrid",
) -> Any:
    """Build (not compile) the multi-task model for windows of shape ``(time_window, n_features)``.

    :param input_shape: ``(time_window, n_features)``.
    :param cnn_filters: filters of each causal Conv1D block (each followed by batch norm + ReLU).
    :param lstm_units: units of each stacked LSTM; the last returns sequences only with attention.
    :param use_attention: self-attention (MultiHeadAttention) over the LSTM sequence, then pooling.
    :param volatility_init: start the volatility head near this value (e.g. the train mean of the
        target; small targets like 0.01 are otherwise far from softplus's ~0.7 at initialisation).
    """
    import keras
    from keras import layers

    window, n_features = (int(v) for v in input_shape)
    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    inputs = keras.Input(shape=(window, n_features), name="features")
    x = inputs
    for i, filters in enumerate(_as_tuple(cnn_filters)):
        x = layers.Conv1D(filters, kernel_size, padding="causal", kernel_regularizer=reg, name=f"conv_{i}")(x)
        x = layers.BatchNormalization(name=f"conv_bn_{i}")(x)
        x = layers.Activation("relu", name=f"conv_relu_{i}")(x)
    x = layers.Dropout(dropout, name="conv_dropout")(x)
    units = _as_tuple(lstm_units)
    for i, n in enumerate(units):
        last = i == len(units) - 1
        x = layers.LSTM(n, return_sequences=(not last) or use_attention, kernel_regularizer=reg, name=f"lstm_{i}")(x)
    if use_attention:
        key_dim = max(1, units[-1] // max(1, attention_heads))
        att = layers.MultiHeadAttention(attention_heads, key_dim, name="self_attention")(x, x)
        x = layers.LayerNormalization(name="attention_norm")(layers.Add(name="attention_residual")([x, att]))
        x = layers.GlobalAveragePooling1D(name="attention_pool")(x)
    x = layers.Dropout(dropout, name="shared_dropout")(x)
    shared = layers.Dense(dense_units, activation="relu", kernel_regularizer=reg, name="shared_dense")(x)
    signal = layers.Dense(num_signal_classes, activation="softmax", name=SIGNAL_HEAD)(shared)
    vol_bias = "zeros"
    if volatility_init is not None and volatility_init > 0:  # inverse softplus of the target level
        vol_bias = keras.initializers.Constant(float(np.log(np.expm1(volatility_init))))
    vol = layers.Dense(1, activation="softplus", bias_initializer=vol_bias, name=VOLATILITY_HEAD)(shared)
    regime = layers.Dense(num_regime_classes, activation="softmax", name=REGIME_HEAD)(shared)
    return keras.Model(inputs, {SIGNAL_HEAD: signal, VOLATILITY_HEAD: vol, REGIME_HEAD: regime}, name=name)


def compile_hybrid_model(
    model: Any, learning_rate: float = 1e-3, loss_weights: dict[str, float] | None = None, jit_compile: bool | str = False
) -> Any:
    """Adam; sparse categorical cross-entropy ×2 and MSE; accuracy, RMSE and MAE as metrics.

    ``jit_compile`` defaults to False: XLA compilation costs seconds per run on CPU and buys
    nothing for a model this small ("auto" lets Keras decide, e.g. on a GPU).
    """
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss={
            SIGNAL_HEAD: keras.losses.SparseCategoricalCrossentropy(),
            VOLATILITY_HEAD: keras.losses.MeanSquaredError(),
            REGIME_HEAD: keras.losses.SparseCategoricalCrossentropy(),
        },
        loss_weights=dict(loss_weights) if loss_weights else None,
        jit_compile=jit_compile,
        metrics={
            SIGNAL_HEAD: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            VOLATILITY_HEAD: [keras.metrics.RootMeanSquaredError(name="rmse"), keras.metrics.MeanAbsoluteError(name="mae")],
            REGIME_HEAD: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        },
    )
    return model
