"""PPO V3 learns the planted momentum signal with its defaults; a sign-flipped reward fails the same check."""

from __future__ import annotations

import numpy as np
import pytest

from tradelab.training.learners_ppo import run_ppo

#: tiny fixed budget: 4 PPO updates of the default 8 x 512 rollout, validation Sharpe every update
STEPS = 16_384
FAST = {"training.eval_freq": 4096, "training.checkpoint_freq": STEPS}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("learn_ppo")


def _references(workdir) -> dict[str, float]:
    """Flat and buy-and-hold on the same test split, env and costs (1x) as the agent."""
    from tradelab.config import CONFIG_DIR
    from tradelab.evaluation.backtest import backtest
    from tradelab.training.learners_ppo import build_market_h5, ppo_config
    from tradelab.training.multiasset import prepare_data
    from tradelab.training.ppo import env_config

    h5 = build_market_h5("momentum", 0, workdir)
    cfg = ppo_config("momentum", 0, h5, workdir / "refs", STEPS, False, {})
    assert (CONFIG_DIR / "ppo_v3.yaml").is_file()
    test = prepare_data(cfg.data.assets, str(h5), splits=("test",)).load("test")
    n = len(next(iter(test.ohlcv.values())))
    return {name: backtest(np.full((n, 1), w), test.ohlcv, test.features, env_config(cfg), 1.0, name,
                           n_boot=10).metrics["sharpe_ratio"] for name, w in (("flat", 0.0), ("buy_and_hold", 1.0))}


def _learned(result, refs: dict[str, float]) -> bool:
    """The check: test Sharpe clearly (by 0.5) above flat and buy-and-hold."""
    return result.test_sharpe > max(refs.values()) + 0.5


def test_ppo_learns_planted_momentum(workdir):
    refs = _references(workdir)
    res = run_ppo("momentum", 0, timesteps=STEPS, workdir=workdir, **FAST)
    assert res.learner == "ppo_v3" and res.steps >= STEPS and len(res.curve) >= 4
    assert _learned(res, refs), (res.test_sharpe, refs, res.curve)
    assert res.curve[-1][1] > res.curve[0][1]  # the validation curve rises
    rewards = res.extra["eval_reward_curve"]
    assert len(rewards) >= 3 and rewards[-1][1] > rewards[0][1]  # EvalCallback's validation reward rises too


def test_sign_flipped_reward_fails_the_same_check(workdir):
    """Teeth: rewarding losses (return_weight -1) with the same budget and seed cannot pass the check."""
    refs = _references(workdir)
    res = run_ppo("momentum", 0, timesteps=STEPS, workdir=workdir / "flipped",
                  **{**FAST, "env.reward.return_weight": -1.0, "env.reward.drawdown_weight": 0.0})
    assert not _learned(res, refs), (res.test_sharpe, refs, res.curve)
    # it learns the signal backwards: validation never sees an edge, so the kept policy is at best flat
    assert res.test_sharpe <= 0.0 and min(v for _, v in res.curve) < 0.0, res.curve
