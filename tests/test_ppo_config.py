"""PPO's hyperparameters are listed once: every one in the ``ppo`` section reaches SB3, fresh or loaded."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from tradelab.config import CONFIG_DIR
from tradelab.training.ppo_config import NETWORK_FIELDS, PPO_HYPERPARAMS, PPOParams, PPOV3Config, ppo_kwargs

#: A value for each hyperparameter, none of them SB3's or tradelab's default, so a dropped one shows.
ODD = {"learning_rate": 3.3e-4, "n_steps": 48, "batch_size": 24, "n_epochs": 3, "gamma": 0.97, "gae_lambda": 0.91,
       "clip_range": 0.13, "ent_coef": 0.007, "vf_coef": 0.37, "target_kl": 0.05, "max_grad_norm": 0.77}


def test_every_field_of_the_ppo_section_is_a_hyperparameter_or_the_network():
    names = {f.name for f in dataclasses.fields(PPOParams)}
    assert set(PPO_HYPERPARAMS) | set(NETWORK_FIELDS) == names
    assert not set(PPO_HYPERPARAMS) & set(NETWORK_FIELDS)
    assert set(ODD) == set(PPO_HYPERPARAMS)  # a new hyperparameter needs an odd value here
    shipped = yaml.safe_load((CONFIG_DIR / "ppo_v3.yaml").read_text(encoding="utf-8"))["ppo"]
    assert set(shipped) - set(NETWORK_FIELDS) <= set(PPO_HYPERPARAMS)


def test_ppo_kwargs_carry_every_hyperparameter_of_the_section():
    p = PPOParams().replace(**ODD)
    kw = ppo_kwargs(p)
    assert {k: v for k, v in kw.items() if k != "policy_kwargs"} == ODD
    assert kw["policy_kwargs"]["features_extractor_kwargs"]["net_arch"] == list(p.net_arch)


def _hyperparameters(model) -> dict:
    got = {name: getattr(model, name) for name in PPO_HYPERPARAMS}
    got["clip_range"] = float(model.clip_range(1.0))  # SB3 turns it into a schedule
    return got


def test_fresh_and_loaded_models_get_every_hyperparameter(tmp_path):
    pytest.importorskip("stable_baselines3")
    from tradelab.agents.sb3_ext import SpacesEnv
    from tradelab.training.ppo import build_model, load_model, save_model_atomic

    base = PPOV3Config()
    cfg = base.replace(ppo=base.ppo.replace(net_arch=(8,), **ODD), training=base.training.replace(device="cpu"))
    model = build_model(cfg, SpacesEnv(4, 2))
    assert _hyperparameters(model) == pytest.approx(ODD)
    path = save_model_atomic(model, tmp_path / "m.zip")
    for env in (SpacesEnv(4, 2), None):  # the loader rebuilds the model from the config, with or without an env
        assert _hyperparameters(load_model(path, env, cfg)) == pytest.approx(ODD)
