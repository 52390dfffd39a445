"""SAC learns a planted signal: agents 1, 2 and 3 on the momentum market, tiny budget, fixed seed.

The check: the best-validation agent's TEST Sharpe at 1x costs is clearly above buy-and-hold and
flat on the same bars and costs (``MARGIN``). Teeth: the same run with the reward's sign flipped
(``env.reward.return_weight: -1``) must fail that check, so the check cannot pass by accident.
"""

from __future__ import annotations

import pytest

from tradelab.training.learners_sac import reference_results, run_sac

pytestmark = pytest.mark.slow

#: "clearly above": the learner's test Sharpe must exceed the better of buy-and-hold and flat by this
MARGIN = 0.5
#: tiny budget: two 1000-step episodes (the first 500 steps uniform random), smaller network
TINY = {"episode_length": 1000, "sac.warmup_steps": 500, "sac.hidden_dims": [64, 64], "sac.batch_size": 128}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("learn_sac")


@pytest.fixture(scope="module")
def floor(work):
    refs = reference_results("momentum", 0, workdir=work, n_boot=10)
    return max(refs["buy_and_hold"]["sharpe_ratio"], refs["flat"]["sharpe_ratio"]) + MARGIN


def _learns(result, floor):
    return result.test_sharpe > floor


@pytest.mark.parametrize("agent_id", [1, 2, 3])
def test_sac_agent_learns_the_momentum_signal(work, floor, agent_id):
    result = run_sac("momentum", 0, agent_id=agent_id, episodes=2, workdir=work, **TINY)
    print(f"agent {agent_id}: test Sharpe {result.test_sharpe:.2f} (floor {floor:.2f}), curve {result.curve}")
    assert result.steps == 2000 and len(result.curve) == 2
    assert _learns(result, floor), f"test Sharpe {result.test_sharpe:.2f} <= B&H/flat + {MARGIN} = {floor:.2f}"


def test_check_has_teeth_sign_flipped_reward_fails(work, floor):
    result = run_sac("momentum", 0, agent_id=1, episodes=2, workdir=work, **TINY, **{"env.reward.return_weight": -1.0})
    print(f"sign-flipped reward: test Sharpe {result.test_sharpe:.2f} (floor {floor:.2f})")
    assert not _learns(result, floor), f"a sign-flipped reward still passed: test Sharpe {result.test_sharpe:.2f}"


def test_report_planted_section_judges_each_learner_against_the_rule(tmp_path):
    import json

    from tradelab.notebooks.planted import planted_markdown

    refs = {"oracle": 5.0, "momentum_rule": 2.0, "buy_and_hold": 0.1, "flat": 0.0}
    learners = {"above": 2.5, "between": 1.2, "none": 0.2}
    info = {"market": "momentum", "seed": 0, "rule": "momentum_rule", "floor_sharpe": 2.0, "curves_png": "curves.png",
            "references": {k: {"sharpe_ratio": v, "total_return": 0.1} for k, v in refs.items()},
            "learners": {k: {"test_sharpe": v, "test_return": 0.1, "steps": 10, "wall_s": 1.0, "curve": [[5, 0.1]],
                             "curve_metric": "val_sharpe"} for k, v in learners.items()}}
    (tmp_path / "planted").mkdir()
    (tmp_path / "planted" / "planted.json").write_text(json.dumps(info))
    text = "\n".join(planted_markdown(tmp_path))
    assert "above beat the simple rule's floor" in text
    assert "**between learned the planted signal but stayed under the simple rule's floor**" in text
    assert "**none did not learn the planted signal at this budget**" in text
    assert planted_markdown(tmp_path / "elsewhere") == []
