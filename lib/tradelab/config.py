"""Config plumbing shared by every workflow: YAML → frozen dataclasses, with clear errors.

Each workflow defines its own frozen dataclass (a docstring under every field) deriving from
:class:`ConfigBase`; nested sections are nested dataclasses. ``Cfg.from_yaml(path, **overrides)``
reads the YAML, applies dotted overrides (``{"training_params.epochs": 2}``) and validates.
Unknown keys are an error listing the valid ones, never silently ignored.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import textwrap
import types
import typing
from pathlib import Path
from typing import Any, Self

import yaml

from tradelab.errors import ConfigError
from tradelab.project import missing_note, resource_dir

__all__ = ["ConfigBase", "ConfigField", "load_yaml", "from_dict", "to_dict", "parse_value", "parse_sets", "set_dotted",
           "config_fields", "field_docs", "config_from_parameters", "flat_keys", "split_assignment",
           "unknown_names", "CONFIG_DIR"]

#: The YAML defaults: ``configs/`` of the checkout, or the copy packaged with a non-editable install
#: (see :mod:`tradelab.project`).
CONFIG_DIR = resource_dir("configs")


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing file or non-mapping content is a :class:`ConfigError`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path} (the defaults live in {CONFIG_DIR}{missing_note('configs')})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections, got {type(data).__name__}")
    return data


def parse_value(text: str) -> Any:
    """Parse a command-line override the way YAML would (``"3"`` → 3, ``"[1, 2]"`` → list)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def split_assignment(item: str) -> tuple[str, Any]:
    """One ``--set`` item: ``"ppo.n_steps=64"`` → ``("ppo.n_steps", 64)`` (a YAML value)."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set ppo.learning_rate=1e-4")
    return key.strip(), parse_value(value)


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """Command-line ``--set`` items: ``["ppo.n_steps=64", ...]`` → ``{"ppo.n_steps": 64}`` (YAML values)."""
    return dict(split_assignment(item) for item in items or [])


def flat_keys(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"ppo": {"n_steps": 64}}`` → ``{"ppo.n_steps": 64}`` (dotted keys and empty mappings kept as they are)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(flat_keys(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``key="a.b"``, creating sections as needed."""
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {key!r}: {part!r} is a value, not a section")
    node[parts[-1]] = value


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}`` of a config dataclass: the string literal right under each field (bases too)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):  # no source (frozen app, REPL class): no docs, same flags
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, nxt in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


@dataclasses.dataclass(frozen=True)
class ConfigField:
    """One settable leaf of a (nested) config dataclass, as the CLI and the notebooks see it."""

    key: str
    """dotted key, e.g. ``sac.gamma``"""
    type: Any
    """the annotated type"""
    default: Any
    """the dataclass default (the YAML may set another)"""
    doc: str
    """the field's docstring, one line"""


def config_fields(cls: type, prefix: str = "") -> list[ConfigField]:
    """Every leaf key of config dataclass ``cls`` (nested sections flattened to dotted keys), in field order.

    The single source of the command-line flags (:mod:`tradelab.cli.config_flags`) and of the check
    that a notebook's parameters are config keys (:mod:`tradelab.notebooks.check`).
    """
    out: list[ConfigField] = []
    types_, docs = _field_types(cls), field_docs(cls)
    for f in dataclasses.fields(cls):
        tp = types_[f.name]
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            out += config_fields(tp, f"{prefix}{f.name}.")
        else:
            out.append(ConfigField(f"{prefix}{f.name}", tp, default, docs.get(f.name, "")))
    return out


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a section (mapping), got {value!r}")
        return from_dict(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _coerce(value, args[0], where) if len(args) == 1 else value
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            value = [value]
        (inner, *_) = typing.get_args(tp) or (Any,)
        items = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r} ({type(value).__name__})")
    return value


def from_dict(cls: type, data: dict[str, Any], source: str = "config") -> Any:
    """Build dataclass ``cls`` from a (nested) mapping; unknown keys raise :class:`ConfigError`."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key(s) {unknown} for {cls.__name__}; valid keys: {sorted(fields)}"
        )
    types_ = _field_types(cls)
    kwargs = {k: _coerce(v, types_[k], f"{source}.{k}") for k, v in data.items()}
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if callable(validate):
        validate()
    return obj


def to_dict(obj: Any) -> Any:
    """Dataclass → plain JSON/YAML-able dict (tuples become lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list | tuple):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, Path):
        return str(obj)
    return obj


class ConfigBase:
    """Mixin for frozen config dataclasses: YAML loading, overrides, dict round-trip."""

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> Self:
        return from_dict(cls, data, source)

    @classmethod
    def from_yaml(cls, path: str | Path | None = None, **overrides: Any) -> Self:
        """Load ``path`` (or the defaults when None) and apply dotted ``overrides``."""
        data = load_yaml(path) if path is not None else {}
        for key, value in overrides.items():
            if value is not None:
                set_dotted(data, key.replace("__", "."), value)
        return from_dict(cls, data, str(path or cls.__name__))

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def with_overrides(self, overrides: dict[str, Any]) -> Self:
        """A copy with dotted ``overrides`` applied in order (a None value sets None) and validated."""
        data = to_dict(self)
        for key, value in overrides.items():
            set_dotted(data, key, value)
        return from_dict(type(self), data, type(self).__name__)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied and validated."""
        return from_dict(type(self), {**to_dict(self), **changes}, type(self).__name__)

    def validate(self) -> None:  # overridden where a field has a constraint
        """Raise :class:`ConfigError` naming the field when a value is out of range."""


def unknown_names(cls: type, names: Any, short_names: dict[str, str]) -> list[str]:
    """The ``names`` that are neither a key of ``cls`` (or a key inside one of its mapping fields, e.g.
    PPO's ``env.window``) nor one of the workflow's ``short_names``; sorted."""
    keys = {f.key for f in config_fields(cls)}
    return sorted(n for n in names if short_names.get(n, n) not in keys
                  and not any(short_names.get(n, n).startswith(f"{k}.") for k in keys))


def config_from_parameters(cls: type, config_path: str | Path | None, parameters: dict[str, Any],
                           names: dict[str, str] | None = None, presets: dict[str, Any] | None = None) -> Any:
    """A workflow's config from a notebook's parameters (the same resolution as its command's flags).

    Each parameter name is a config key (``num_episodes``, ``sac.gamma``) or one of ``names``, the
    workflow's short names (``{"warmup_steps": "sac.warmup_steps"}``, also the command's aliases). A None
    value keeps the YAML's. Order: the YAML, ``presets`` (a smoke budget), the parameters.
    Unknown names are one :class:`ConfigError` listing the valid ones.
    """
    names = names or {}
    unknown = unknown_names(cls, parameters, names)
    if unknown:
        keys = sorted(f.key for f in config_fields(cls))
        raise ConfigError(f"{cls.__name__}: unknown parameter(s) {unknown}; use a config key (e.g. "
                          f"{keys[:6]} ...) or one of {sorted(names)}")
    overrides = dict(presets or {})
    overrides.update({names.get(k, k): v for k, v in parameters.items() if v is not None})
    return cls.from_yaml(config_path, **overrides)
