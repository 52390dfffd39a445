"""Command-line flags derived from a workflow's config dataclass: the one override mechanism.

Every leaf key of the config (:func:`tradelab.config.config_fields`) becomes ``--section.key VALUE``,
with the field's docstring as its help and the YAML's value as its shown default, as tyro does for
CleanRL's dataclasses. ``--set KEY=VALUE`` (repeatable) reaches the same keys, and a command declares
short aliases the seed documents use (``--num-episodes`` → ``num_episodes``, ``--seed`` →
``training.seed``, ``--no-progress`` → ``progress=false``).

All of them append to ONE ordered list of ``(key, value)`` pairs on the parsed namespace, so the last
flag given wins whatever its spelling; :func:`config_from_args` applies the list to the YAML through
:meth:`tradelab.config.ConfigBase.from_yaml`, which rejects an unknown key listing the valid ones and
validates every value. Values are read as YAML (``3`` → 3, ``[64, 64]`` → a list, ``null`` → None)
except for string fields, which keep the text as typed.
"""

from __future__ import annotations

import argparse
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradelab.config import ConfigField, config_fields, parse_value, split_assignment
from tradelab.errors import ConfigError

__all__ = ["Alias", "OVERRIDES", "aliases", "add_config_arguments", "config_from_args", "overrides_from_args"]

#: Namespace attribute holding the ordered ``[(dotted key, value), ...]`` every config flag appends to.
OVERRIDES = "config_overrides"

_UNSET = object()


@dataclass(frozen=True)
class Alias:
    """A short flag for one config key: ``Alias(("--num-episodes",), "num_episodes")``.

    ``const`` makes it a switch that sets the key to that value (``--fresh`` → True,
    ``--no-progress`` → False). ``help`` defaults to the field's docstring.
    """

    flags: tuple[str, ...]
    key: str
    help: str | None = None
    const: Any = _UNSET
    nargs: str | None = None
    """``"+"``: the flag takes several values, one list (``--seeds 0 1 2``)"""
    required: bool = False


def aliases(names: dict[str, str], which: Sequence[str], underscore: bool = False) -> tuple[Alias, ...]:
    """``--name-with-dashes`` flags for the workflow's short ``names`` (``{name: config key}``; a name that
    is not in it is a config key itself), e.g. ``aliases(PARAMETERS, ["warmup_steps"])`` →
    ``--warmup-steps`` for ``sac.warmup_steps``. ``underscore``: accept ``--name_with_underscores`` too."""
    out = []
    for name in which:
        flags = (f"--{name.replace('_', '-')}",) + ((f"--{name}",) if underscore and "_" in name else ())
        out.append(Alias(flags, names.get(name, name)))
    return tuple(out)


def _is_str(tp: Any) -> bool:
    if tp is str:
        return True
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args == [str]
    return False


def _reader(field: ConfigField | None):
    """How a flag's text becomes a value: as typed for string fields (``null`` still means None), else YAML."""
    if field is not None and _is_str(field.type):
        return lambda text: None if text in ("null", "None", "~") else text
    return parse_value


def _metavar(field: ConfigField) -> str:
    tp = field.type
    origin = typing.get_origin(tp)
    if origin in (list, tuple):
        return "LIST"
    if origin is dict or tp is dict:
        return "MAPPING"
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        tp = args[0] if len(args) == 1 else None
    return getattr(tp, "__name__", "V").upper() if tp in (int, float, str, bool) else "V"


class _Record(argparse.Action):
    """Append ``(key, value)`` to the namespace's one ordered override list."""

    def __init__(self, option_strings: Sequence[str], dest: str, key: str | None = None,
                 reader: Any = parse_value, prefix: str = "", **kwargs: Any) -> None:
        self.key, self.reader, self.prefix = key, reader, prefix
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        items = list(getattr(namespace, OVERRIDES, None) or [])
        if self.key is None and isinstance(values, list):  # -o KEY VALUE
            items.append((self.prefix + values[0], parse_value(values[1])))
        elif self.key is None:  # --set KEY=VALUE
            try:
                key, value = split_assignment(str(values))
            except ConfigError as exc:
                parser.error(str(exc))
            items.append((self.prefix + key, value))
        elif self.nargs == 0:
            items.append((self.key, self.const))
        elif isinstance(values, list):  # nargs="+"
            items.append((self.key, [self.reader(v) for v in values]))
        else:
            items.append((self.key, self.reader(values)))
        setattr(namespace, OVERRIDES, items)


def _defaults(cls: type, config_path: str | Path | None, keys: Sequence[str]) -> dict[str, Any]:
    """``{key: value}`` the YAML at ``config_path`` resolves to (dataclass defaults where it is absent)."""
    try:
        data = cls.from_yaml(config_path if config_path and Path(config_path).is_file() else None).to_dict()
    except ConfigError:  # a broken default YAML is reported when the command runs, not by --help
        return {}
    shown = {}
    for key in keys:
        node = data
        for part in key.split("."):
            node = node.get(part, _UNSET) if isinstance(node, dict) else _UNSET
        if node is not _UNSET:
            shown[key] = node
    return shown


def _help(field: ConfigField | None, text: str | None, default: Any) -> str:
    base = text or (field.doc if field else "") or "config key"
    base = f"{base} (default: {default if default != '' else repr(default)})" if default is not _UNSET else base
    return base.replace("%", "%%")  # argparse formats help with %


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, *, config_path: str | Path | None = None,
                         aliases: Sequence[Alias] = (), skip: Sequence[str] = (), set_help: str | None = None,
                         set_prefix: str = "", extra: Sequence[ConfigField] = ()) -> None:
    """Add the aliases, ``--set``/``-o`` and one ``--KEY`` flag per leaf key of ``cls`` (except ``skip``).

    ``config_path``: the YAML whose values the help shows as defaults. ``set_prefix``: put before every
    ``--set``/``-o`` key (the curriculum's ``--set ppo.n_steps=64`` is its ``ppo_overrides.ppo.n_steps``).
    ``extra``: keys inside a free-form mapping field that get flags too (PPO's ``env.*``).
    """
    fields = {f.key: f for f in config_fields(cls) if f.key not in {e.key.split(".")[0] for e in extra}}
    fields.update({f.key: f for f in extra})
    shown = _defaults(cls, config_path, list(fields))
    parser.set_defaults(**{OVERRIDES: None})
    for alias in aliases:
        if alias.key not in fields and not any(alias.key.startswith(k + ".") for k in fields):
            raise ConfigError(f"alias {alias.flags} names {alias.key!r}, not a key of {cls.__name__}")
        field = fields.get(alias.key)
        if alias.const is not _UNSET:  # a switch: the key keeps its own --key VALUE flag below
            parser.add_argument(*alias.flags, action=_Record, dest=OVERRIDES, key=alias.key, nargs=0,
                                const=alias.const, default=argparse.SUPPRESS, help=_help(field, alias.help, _UNSET))
        else:
            own = f"--{alias.key}"  # the key's own spelling, listed beside the alias: --device, --sac.device
            flags = alias.flags if own in alias.flags or own in parser._option_string_actions else (*alias.flags, own)
            parser.add_argument(*flags, action=_Record, dest=OVERRIDES, key=alias.key, reader=_reader(field),
                                default=argparse.SUPPRESS, nargs=alias.nargs, required=alias.required,
                                metavar="V" if alias.nargs or not field else _metavar(field),
                                help=_help(field, alias.help, _UNSET if alias.required else shown.get(alias.key, _UNSET)))
    parser.add_argument("--set", action=_Record, dest=OVERRIDES, default=argparse.SUPPRESS, metavar="KEY=VALUE", prefix=set_prefix,
                        help=set_help or "set any config key below (repeatable; the last flag given wins)")
    parser.add_argument("-o", "--override", action=_Record, dest=OVERRIDES, nargs=2, default=argparse.SUPPRESS, prefix=set_prefix,
                        metavar=("KEY", "VALUE"), help="the same as --set KEY=VALUE")
    aliased = {a.key for a in aliases if a.const is _UNSET}
    required = "".join(f"{a.flags[0]} {_metavar(fields[a.key]) if a.key in fields else 'V'} " for a in aliases if a.required)
    parser.usage = f"%(prog)s {required}[--config YAML] [--FLAG VALUE ...] [--set KEY=VALUE ...]"
    keys = [k for k in fields if k not in skip and k not in aliased and f"--{k}" not in parser._option_string_actions]
    if not keys:  # every key has its alias
        return
    group = parser.add_argument_group(f"config keys ({cls.__name__}; each overrides the YAML)")
    for key in keys:
        field = fields[key]
        group.add_argument(f"--{key}", action=_Record, dest=OVERRIDES, key=key, reader=_reader(field), default=argparse.SUPPRESS,
                           metavar=_metavar(field), help=_help(field, None, shown.get(key, _UNSET)))


def overrides_from_args(args: argparse.Namespace, presets: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dotted overrides: ``presets`` (e.g. a ``--smoke`` budget) first, then every flag in command-line order."""
    out = dict(presets or {})
    for key, value in getattr(args, OVERRIDES, None) or []:
        out.pop(key, None)  # re-insert: the dict's order is the order applied
        out[key] = value
    return out


def config_from_args(cls: type, args: argparse.Namespace, config_path: str | Path | None = None,
                     presets: dict[str, Any] | None = None) -> Any:
    """The resolved config: the YAML at ``config_path`` (``args.config`` when None), presets, then the flags
    (unlike keyword overrides of ``from_yaml``, a None value is applied: ``--asset null`` sets None)."""
    path = config_path if config_path is not None else getattr(args, "config", None)
    return cls.from_yaml(path).with_overrides(overrides_from_args(args, presets))
