"""Strict config binding: apply ``--set``, bind plain YAML values to frozen dataclasses.

Configs are data. ``bench.core.safe_yaml`` parses a file into plain values plus the line of
every key path (``Doc``); ``bind`` turns a mapping into a frozen dataclass, checking unknown
keys (with a suggestion), missing keys, and types from the dataclass annotations, so that a
mistake is reported before anything runs, as ``file:line: key.path: problem; fix``.

A dataclass may define ``from_yaml(cls, value, doc, path)`` for shapes that annotations
cannot say (``language: en`` or ``{column: lang}``); ``bind`` calls it instead.

The parsing names are re-exported here, so that a config module needs one import.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Union

from bench.core.errors import ConfigError
from bench.core.safe_yaml import (SET_ORIGIN, Doc, KeyPath, expand_vars, format_path, load_yaml, load_yaml_data,
                                  parse_yaml, read_yaml_bytes)

__all__ = ["SET_ORIGIN", "Doc", "KeyPath", "apply_overrides", "bind", "check_keys", "format_path", "load_yaml",
           "load_yaml_data", "parse_yaml", "read_yaml_bytes"]


def apply_overrides(doc: Doc, overrides: Sequence[str]) -> Doc:
    """Apply ``--set key.path=value`` overrides (value parsed as YAML) to a copy of ``doc``.

    Numeric path parts index lists (``models.0.params.C=2``); missing mapping keys are
    created so that ``bind`` can then reject them by name if they are unknown.
    """
    import copy

    data = copy.deepcopy(doc.data) if doc.data is not None else {}
    origins = dict(doc.origins)
    for item in overrides:
        key, sep, raw_value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(SET_ORIGIN, None, item, "expected KEY=VALUE, e.g. --set seeds=[0,1,2]")
        override = parse_yaml(raw_value, SET_ORIGIN)
        value = override.data
        if isinstance(value, str):
            value = expand_vars(value, lambda name, key=key: ConfigError(
                SET_ORIGIN, None, key, f"environment variable {name} is not set; export it"))
        parts: list[str | int] = [int(p) if p.lstrip("-").isdigit() else p for p in key.strip().split(".")]
        node = data
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            here = tuple(parts[: depth + 1])
            if isinstance(node, list):
                if not isinstance(part, int) or not -len(node) <= part < len(node):
                    raise ConfigError(SET_ORIGIN, None, format_path(here),
                                      f"no item {part} in a list of {len(node)}; use an index from 0 to {len(node) - 1}")
                if last:
                    node[part] = value
                else:
                    node = node[part]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise ConfigError(SET_ORIGIN, None, format_path(here),
                                  f"cannot set a key inside a {type(node).__name__}; set the parent key instead")
        full = tuple(parts)
        for old in [p for p in origins if p[: len(full)] == full]:
            del origins[old]
        origins[full] = SET_ORIGIN
    return Doc(file=doc.file, data=data, origins=origins)


# --- binding ------------------------------------------------------------------------------

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "a mapping", list: "a list", Path: "a path", dt.date: "a date (YYYY-MM-DD)"}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _expected(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (tuple, list, Sequence):
        return "a list"
    if origin in (dict, Mapping):
        return "a mapping"
    if origin in (Union, types.UnionType):
        return " or ".join(_expected(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return _TYPE_NAMES.get(tp, getattr(tp, "__name__", str(tp)))


def bind(tp: Any, value: Any, doc: Doc, path: KeyPath = ()) -> Any:
    """Check ``value`` against the type ``tp`` and build it; errors name the key path."""
    if tp is Any or tp is object:
        return value
    hook = getattr(tp, "from_yaml", None) if isinstance(tp, type) else None
    if hook is not None:
        return hook(value, doc, path)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _bind_dataclass(tp, value, doc, path)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for alt in (a for a in args if a is not type(None)):
            try:
                return bind(alt, value, doc, path)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise doc.error(path, f"expected {_expected(tp)}, got {_describe(value)}")
    if origin is Literal:
        if value in args and not (isinstance(value, bool) and not any(isinstance(a, bool) for a in args)):
            return value
        hint = difflib.get_close_matches(str(value), [str(a) for a in args], n=1)
        raise doc.error(path, f"expected {_expected(tp)}, got {_describe(value)}"
                        + (f"; did you mean {hint[0]!r}?" if hint else ""))
    if origin in (tuple, list, Sequence):
        if not isinstance(value, list):
            raise doc.error(path, f"expected a list, got {_describe(value)}; write [a, b]")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise doc.error(path, f"expected a list of {len(args)} items, got {len(value)}")
            return tuple(bind(a, v, doc, (*path, i)) for i, (a, v) in enumerate(zip(args, value)))
        item_tp = args[0] if args else Any
        return tuple(bind(item_tp, v, doc, (*path, i)) for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            raise doc.error(path, f"expected a mapping, got {_describe(value)}")
        key_tp, val_tp = args if args else (Any, Any)
        return {bind(key_tp, k, doc, (*path, k)): bind(val_tp, v, doc, (*path, k)) for k, v in value.items()}
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is Path:
        if isinstance(value, str) and value:
            return Path(value)
    elif tp is dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise doc.error(path, f"expected {_expected(tp)}, got {_describe(value)}")


def _bind_dataclass(cls: type, value: Any, doc: Doc, path: KeyPath) -> Any:
    if not isinstance(value, dict):
        raise doc.error(path, f"expected a mapping with keys {sorted(f.name for f in dataclasses.fields(cls))}, "
                        f"got {_describe(value)}")
    check_keys(cls, value, doc, path)
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in value:
            kwargs[f.name] = bind(hints[f.name], value[f.name], doc, (*path, f.name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise doc.error(path, f"missing required key {f.name!r}; add it")
    try:
        return cls(**kwargs)
    except ValueError as exc:  # __post_init__ cross-field checks raise ValueError("key: problem")
        key, _, problem = str(exc).partition(": ")
        raise doc.error((*path, key) if problem else path, problem or str(exc)) from None


def check_keys(cls: type, value: Mapping[Any, Any], doc: Doc, path: KeyPath) -> None:
    """Reject keys that are not fields of ``cls``, suggesting the closest field name."""
    allowed = [f.name for f in dataclasses.fields(cls) if f.init]
    for key in value:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            file, line = doc.where((*path, key))
            raise ConfigError(file, line, format_path(path) or "(top level)", f"unknown key {key!r}; "
                              + (f"did you mean {hint[0]!r}?" if hint else f"expected one of {', '.join(allowed)}"))
