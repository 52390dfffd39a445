"""The benchmark's validation gate: a learner trades on test only when validation showed an edge over flat."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tradelab.evaluation.learning import LearnerResult, apply_validation_gate, validation_gate_threshold

ROOT = Path(__file__).resolve().parents[1]
FLAT = {"sharpe_ratio": 0.0, "total_return": 0.0, "returns": [0.0] * 5}


def _result(val: float | None) -> LearnerResult:
    extra = {"test_returns": [0.01, -0.02, 0.005, -0.01, 0.0]}
    if val is not None:
        extra["best_val_sharpe"] = val
    return LearnerResult("ppo_v3", "null", 0, test_sharpe=-0.9, test_return=-0.3, wall_s=1.0, steps=10, extra=extra)


def test_threshold_is_z_standard_errors_of_a_zero_sharpe() -> None:
    assert validation_gate_threshold(1800, 2.0, 252.0) == pytest.approx(2.0 * math.sqrt(252 / 1800))
    assert validation_gate_threshold(7200, 2.0, 252.0) == pytest.approx(validation_gate_threshold(1800, 1.0, 252.0))
    with pytest.raises(ValueError, match="validation bars"):
        validation_gate_threshold(1, 2.0)


def test_below_the_gate_the_learner_stays_flat_and_keeps_its_ungated_figures() -> None:
    gated = apply_validation_gate(_result(0.2), FLAT, 0.75)
    assert (gated.test_sharpe, gated.test_return, gated.extra["test_returns"]) == (0.0, 0.0, FLAT["returns"])
    assert gated.extra["raw_test_sharpe"] == -0.9 and gated.extra["raw_test_return"] == -0.3
    assert gated.extra["raw_test_returns"][1] == -0.02
    assert gated.extra["gate"] == {"threshold": 0.75, "val_sharpe": 0.2, "passed": False}


def test_at_or_above_the_gate_or_without_a_validation_figure_the_result_is_its_own() -> None:
    for val, passed in ((0.75, True), (2.0, True), (None, None)):
        gated = apply_validation_gate(_result(val), FLAT, 0.75)
        assert (gated.test_sharpe, gated.test_return) == (-0.9, -0.3)
        assert gated.extra["gate"]["passed"] is passed


def _bench(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "learning.py"), "--markets", "null,momentum",
                           "--learners", "logreg", "--seeds", "1", "--out", str(out), "--workdir", str(tmp_path / "w"),
                           *args], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "| null | logreg |" in proc.stdout and "ungated Sharpe" in proc.stdout
    return json.loads((out / "learning.json").read_text())


def test_benchmark_gate_keeps_a_noise_trader_flat_on_null_and_lets_a_real_edge_trade(tmp_path: Path) -> None:
    """End to end through benchmarks/learning.py (logistic regression: seconds). On the null market the
    model's validation Sharpe is below the gate, so its test figure is flat's; on momentum it passes and
    trades. Teeth: with ``--val-gate-z 0`` the null figure is the model's own cost-bleeding one."""
    bench = _bench(tmp_path)
    null, mom = bench["null"]["learners"]["logreg"][0], bench["momentum"]["learners"]["logreg"][0]
    assert null["extra"]["gate"]["passed"] is False and null["test_sharpe"] == 0.0
    assert null["extra"]["raw_test_sharpe"] < 0.0          # what it would have done: trade noise, pay costs
    assert mom["extra"]["gate"]["passed"] is True and mom["test_sharpe"] == mom["extra"]["raw_test_sharpe"] > 1.0
    off = _bench(tmp_path, "--val-gate-z", "0")["null"]["learners"]["logreg"][0]
    assert "gate" not in off["extra"] and off["test_sharpe"] == pytest.approx(null["extra"]["raw_test_sharpe"])
