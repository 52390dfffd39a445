"""The shared plumbing: atomic writes, config loading errors, CLI help."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from tradelab.config import ConfigBase
from tradelab.errors import ConfigError
from tradelab.utils import atomic_write_json, read_json


@dataclasses.dataclass(frozen=True)
class _Inner(ConfigBase):
    lr: float = 0.001
    """learning rate"""


@dataclasses.dataclass(frozen=True)
class _Cfg(ConfigBase):
    epochs: int = 3
    """epochs"""
    inner: _Inner = dataclasses.field(default_factory=_Inner)
    """a section"""


def test_atomic_json_roundtrip_leaves_no_temp(tmp_path):
    target = atomic_write_json(tmp_path / "a" / "m.json", {"x": 1.5})
    assert read_json(target) == {"x": 1.5}
    assert [p.name for p in target.parent.iterdir()] == ["m.json"]


def test_config_yaml_overrides_and_unknown_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("epochs: 5\ninner:\n  lr: 0.01\n")
    cfg = _Cfg.from_yaml(path, **{"inner.lr": 0.5})
    assert cfg.epochs == 5 and cfg.inner.lr == 0.5
    path.write_text("epoch: 5\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['epoch'\].*valid keys: \['epochs', 'inner'\]"):
        _Cfg.from_yaml(path)
    with pytest.raises(ConfigError, match="not found"):
        _Cfg.from_yaml(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="expected int"):
        _Cfg.from_dict({"epochs": "many"})


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "tradelab.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "COMMAND" in out.stdout


def test_read_json_corrupted(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(Exception, match="not valid JSON"):
        read_json(bad)
