"""Issue 13 item 1: Keras artifacts load with safe_mode=True; a .keras file carrying code is refused."""

from __future__ import annotations

import pytest

from tradelab.errors import CheckpointError


def test_keras_lambda_payload_is_refused(tmp_path):
    import keras

    from tradelab.models.hybrid_artifacts import load_keras_model

    marker = tmp_path / "pwned"
    inp = keras.Input((3,))
    payload = eval(f"lambda x: (open({str(marker)!r}, 'w'), x)[1]")  # no closure: the path is in the bytecode
    out = keras.layers.Lambda(payload)(inp)
    keras.Model(inp, out).save(tmp_path / "evil.keras")
    marker.unlink()  # building the model above ran the lambda once; only loading matters now
    with pytest.raises(CheckpointError, match="carries code that safe_mode=True refuses"):
        load_keras_model(tmp_path / "evil.keras")
    assert not marker.exists()
    # Teeth: the same file runs its code when loaded without safe_mode.
    keras.models.load_model(tmp_path / "evil.keras", safe_mode=False)
    assert marker.exists()
    # A harmless model still loads.
    x = keras.Input((3,))
    keras.Model(x, keras.layers.Dense(2)(x)).save(tmp_path / "ok.keras")
    assert load_keras_model(tmp_path / "ok.keras").output_shape == (None, 2)
