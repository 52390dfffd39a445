"""Seed 003's ``config/training_config_v3.yaml`` layout, mapped onto :class:`PPOV3Config`'s.

The seed file has three sections::

    training:    total_timesteps, learning_rate, batch_size, n_envs, max_grad_norm, target_kl, ent_coef
    environment: buy_pct, max_position_pct, reward_scaling
    data:        tickers, period, interval

``training`` keys that are PPO hyperparameters go to ``ppo``; ``environment`` keys go to ``env``
(real env features, see :class:`tradelab.envs.config.TradingEnvConfig`); ``data.tickers`` are
downloaded once with the optional yfinance loader (``period``, ``interval``) and cached as CSV files
that become ``data.assets``. Our own keys may sit beside them; any other key is a ConfigError that
names it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from tradelab.errors import ConfigError

__all__ = ["SEED_TRAINING_KEYS", "SEED_ENV_KEYS", "SEED_DATA_KEYS", "is_seed_layout", "translate_seed_layout"]

SEED_TRAINING_KEYS = {"learning_rate": "ppo", "batch_size": "ppo", "max_grad_norm": "ppo", "target_kl": "ppo",
                      "ent_coef": "ppo", "total_timesteps": "training", "n_envs": "training"}
SEED_ENV_KEYS = ("buy_pct", "max_position_pct", "reward_scaling")
SEED_DATA_KEYS = ("tickers", "period", "interval")


def is_seed_layout(raw: dict[str, Any]) -> bool:
    """True for a seed-003-style mapping (an ``environment`` section, ``data.tickers`` or PPO keys in ``training``)."""
    data, training = raw.get("data"), raw.get("training")
    return ("environment" in raw or (isinstance(data, dict) and "tickers" in data)
            or (isinstance(training, dict) and any(k in training for k in ("learning_rate", "ent_coef", "target_kl"))))


def _section(raw: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = raw.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: section {name!r} must be a mapping, got {value!r}")
    return dict(value)


def translate_seed_layout(raw: dict[str, Any], source: str, ours: type,
                          download: Callable[[list[str], str, str], list[str]] | None = None) -> dict[str, Any]:
    """The seed mapping ``raw`` in our layout (``ours``: the PPOV3Config class, for its keys and env defaults).

    ``download(tickers, period, interval) -> paths`` fetches the tickers (default: the yfinance loader).
    """
    default = ours()  # its sections' fields are the keys we accept
    valid_top = {f.name for f in dataclasses.fields(ours)} | {"environment"}
    unknown = sorted(set(raw) - valid_top)
    if unknown:
        raise ConfigError(f"{source}: unknown section(s) {unknown} in the seed 003 layout; valid: {sorted(valid_top)}")
    out: dict[str, Any] = {k: v for k, v in raw.items() if k not in ("training", "environment", "data", "env", "ppo")}
    ppo = _section(raw, "ppo", source)
    training = {}
    own_training = {f.name for f in dataclasses.fields(default.training)}
    for key, value in _section(raw, "training", source).items():
        if key in SEED_TRAINING_KEYS:
            (ppo if SEED_TRAINING_KEYS[key] == "ppo" else training)[key] = value
        elif key in own_training:
            training[key] = value
        else:
            raise _unknown(source, "training", key, sorted(set(SEED_TRAINING_KEYS) | own_training))
    own_ppo = {f.name for f in dataclasses.fields(default.ppo)}
    bad = sorted(set(ppo) - own_ppo)
    if bad:
        raise _unknown(source, "ppo", bad[0], sorted(own_ppo))
    env = {**default.env, **_section(raw, "env", source)}
    for key, value in _section(raw, "environment", source).items():
        if key not in SEED_ENV_KEYS:
            raise _unknown(source, "environment", key, list(SEED_ENV_KEYS))
        env[key] = value
    data = _data_section(_section(raw, "data", source), source, {f.name for f in dataclasses.fields(default.data)},
                         download)
    if len(data.get("assets", ())) > int(env.get("max_assets", 1)):
        env["max_assets"] = len(data["assets"])
    out.update({"training": training, "ppo": ppo, "env": env, "data": data})
    return out


def _unknown(source: str, section: str, key: str, valid: list[str]) -> ConfigError:
    return ConfigError(f"{source}: unknown key {section}.{key} in the seed 003 layout; valid {section} keys: {valid}")


def _data_section(data: dict[str, Any], source: str, own: set[str],
                  download: Callable[[list[str], str, str], list[str]] | None) -> dict[str, Any]:
    seed = {k: data.pop(k) for k in SEED_DATA_KEYS if k in data}
    bad = sorted(set(data) - own)
    if bad:
        raise _unknown(source, "data", bad[0], sorted(own | set(SEED_DATA_KEYS)))
    if "tickers" not in seed:
        return data
    tickers = seed["tickers"]
    if isinstance(tickers, str):
        tickers = [tickers]
    if not tickers or "assets" in data or data.get("h5_path"):
        raise ConfigError(f"{source}: give data.tickers (downloaded with yfinance) OR data.assets/data.h5_path "
                          "(local data), not both and not an empty list")
    if download is None:
        from tradelab.data.yahoo import download_tickers as download
    data["assets"] = list(download([str(t) for t in tickers], str(seed.get("period", "10y")),
                                   str(seed.get("interval", "1d"))))
    return data
