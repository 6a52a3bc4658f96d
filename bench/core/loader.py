"""Strict YAML: parse with line marks, expand ``${VAR}``, apply ``--set``, bind to dataclasses.

Configs are data. A file is parsed once into plain Python values plus the line of every
key path (``Doc``). ``bind`` turns a mapping into a frozen dataclass, checking unknown keys
(with a suggestion), missing keys, and types from the dataclass annotations, so that a
mistake is reported before anything runs, as ``file:line: key.path: problem; fix``.

A dataclass may define ``from_yaml(cls, value, doc, path)`` for shapes that annotations
cannot say (``language: en`` or ``{column: lang}``); ``bind`` calls it instead.

Hostile input. ``load_yaml`` / ``parse_yaml`` are the one way newsbench reads YAML (run configs,
dataset specs, ``--set`` values, article front matter, a run folder's ``config.yaml``), and
every refusal below is a one-line ``ConfigError`` naming the file and line:

* Anchors and aliases (``&a``, ``*a``) are refused outright, like merge keys (``<<``). Counting
  expanded nodes would also stop a "billion laughs" bomb, but it needs a limit that is either
  too low for someone or high enough to hurt, and an aliased value has two places to blame
  when it is wrong. No shipped config uses them; refusing needs no limit and makes recursive
  aliases impossible. Checked while composing, before anything is expanded.
* Only plain YAML values: strings, numbers, true/false, null, dates, lists and mappings
  (implicit, or with the standard ``!!str``/``!!int``/... tags on the matching kind of node).
  ``!!python/...``, ``!!binary``, ``!!set``, ``!!omap`` and custom ``!tags`` are refused.
* Nesting deeper than ``MAX_DEPTH`` levels, or more than ``MAX_NODES`` values, is refused while
  composing: no ``RecursionError``, and a long list stops at the limit (pure-Python PyYAML
  needs over 10 s for a 1 MiB list of numbers).
* A number written with more than ``MAX_NUMBER_CHARS`` characters is refused (Python refuses
  ints over 4300 digits, and ``1:2:3:...`` base-60 ints cost quadratic time); a scalar that
  cannot be built (``2023-02-30``, ``!!int abc``) is an error at its line.
* A file must be a regular file (not a directory, FIFO, device or socket: checked with
  ``fstat`` on a non-blocking open, so a FIFO cannot block) of at most ``MAX_BYTES`` bytes,
  and at most ``MAX_BYTES + 1`` bytes are ever read. Text to parse has the same limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import stat
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from bench.core.errors import ConfigError

KeyPath = tuple[str | int, ...]
SET_ORIGIN = "--set"
MAX_BYTES = 1024 * 1024
"""Largest YAML file or text read (1 MiB); shipped configs and specs are under 2 KB."""
MAX_NODES = 10_000
"""Most values (scalars, lists, mappings) in one document; configs have about 100."""
MAX_DEPTH = 32
"""Deepest nesting of lists and mappings; configs nest about 5 levels."""
MAX_NUMBER_CHARS = 100
"""Longest scalar read as a number."""
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def format_path(path: KeyPath) -> str:
    """``("models", 0, "params")`` -> ``models[0].params``; a key with a line break or other
    unprintable character is quoted (``['a\\nb']``) so that a message stays one line."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).isprintable():
            out += f"[{str(part)!r}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Doc:
    """A parsed YAML document: plain data plus where each key path came from.

    ``origins`` maps a key path to a line number in ``file`` or to ``"--set"`` for a value
    given on the command line.
    """

    file: str
    data: Any
    origins: Mapping[KeyPath, int | str] = field(default_factory=dict)

    def where(self, path: KeyPath) -> tuple[str, int | None]:
        """The file and line to blame for ``path`` (its closest located ancestor)."""
        for end in range(len(path), -1, -1):
            origin = self.origins.get(tuple(path[:end]))
            if origin == SET_ORIGIN:
                return SET_ORIGIN, None
            if isinstance(origin, int):
                return self.file, origin
        return self.file, None

    def error(self, path: KeyPath, problem: str) -> ConfigError:
        """A ``ConfigError`` located at ``path``."""
        file, line = self.where(path)
        return ConfigError(file, line, format_path(path), problem)


_STD = "tag:yaml.org,2002:"
_NUMBER_TAGS = {_STD + "int", _STD + "float"}
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_ALLOWED_TAGS = {yaml.ScalarEvent: _SCALAR_TAGS, yaml.SequenceStartEvent: {_STD + "seq"},
                 yaml.MappingStartEvent: {_STD + "map"}}


def _show_tag(tag: str) -> str:
    shown = "!!" + tag[len(_STD):] if tag.startswith(_STD) else tag
    return shown if len(shown) <= 60 else shown[:57] + "..."


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses anchors, aliases, non-standard tags and deep nesting.

    The checks run on parser events before a node is built, so a bomb or a cycle is never
    formed. ``first_line`` is the file line of the text's first line (front matter starts at 2).
    """

    def __init__(self, text: str, file: str, first_line: int = 1) -> None:
        super().__init__(text)
        self.file, self.first_line = file, first_line
        self.open_paths: list[KeyPath] = []
        self.nodes = 0

    def refuse(self, mark: yaml.Mark | None, path: KeyPath, problem: str) -> ConfigError:
        line = mark.line + self.first_line if mark is not None else None
        return ConfigError(self.file, line, format_path(path), problem)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        base = self.open_paths[-1] if self.open_paths else ()
        if isinstance(index, yaml.ScalarNode):  # a mapping value: its key
            path: KeyPath = (*base, index.value)
        elif isinstance(index, int) and not isinstance(index, bool):  # a list item
            path = (*base, index)
        else:  # the root, or a mapping key
            path = base
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise self.refuse(event.start_mark, path, f"YAML alias *{event.anchor} is not supported; "
                              "write the value out (anchors and aliases are refused)")
        if event.anchor is not None:
            raise self.refuse(event.start_mark, path, f"YAML anchor &{event.anchor} is not supported; "
                              "write the value out (anchors and aliases are refused)")
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.refuse(event.start_mark, path, f"more than {MAX_NODES} values in one YAML document; "
                              "check the file: configs and specs hold about 100")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _ALLOWED_TAGS.get(type(event), ()):
            raise self.refuse(event.start_mark, path, f"tag {_show_tag(tag)} is not allowed; remove it "
                              "(only plain values: text, numbers, true/false, null, dates, lists, mappings)")
        if not isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            return super().compose_node(parent, index)
        if len(self.open_paths) >= MAX_DEPTH:
            raise self.refuse(event.start_mark, path[:3], f"nested deeper than {MAX_DEPTH} levels; "
                              "flatten the value")
        self.open_paths.append(path)
        try:
            return super().compose_node(parent, index)
        finally:
            self.open_paths.pop()

    def scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        """Build a scalar; a value that cannot be built is an error at its line."""
        if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
            raise self.refuse(node.start_mark, path, f"a number written with {len(node.value)} characters "
                              f"(limit {MAX_NUMBER_CHARS}); quote it if it is text")
        try:
            return self.construct_object(node)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError, yaml.YAMLError):
            text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise self.refuse(node.start_mark, path, f"cannot read {text!r} as {_show_tag(node.tag)}; "
                              "fix the value, or quote it if it is text") from None


def _expand_vars(text: str, on_unset: typing.Callable[[str], Exception]) -> str:
    """Expand ``${VAR}`` and ``${VAR:-default}``.

    A variable that starts a path (``${NEWSBENCH_DATA}/fnc1/x.csv``) and holds a relative path
    is made absolute against the current folder: the user set it from a shell there, and the
    path must not be re-read relative to the config file's folder.
    """
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value is None or (value == "" and default is not None):
            if default is None:
                raise on_unset(name)
            value = default
        starts_path = match.start() == 0 and text[match.end():match.end() + 1] in ("", "/")
        if starts_path and value and default is None and not os.path.isabs(value):
            value = os.path.abspath(value)
        return value

    return _VAR.sub(replace, text)


def _convert(node: yaml.Node, path: KeyPath, loader: _StrictLoader, origins: dict[KeyPath, int | str],
             expand: bool) -> Any:
    file, first = loader.file, loader.first_line
    origins[path] = node.start_mark.line + first
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + first
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(file, key_line, format_path(path), "a mapping key must be a plain scalar")
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigError(file, key_line, format_path(path),
                                  "YAML merge keys (<<) are not supported; write the keys out")
            key = loader.scalar(key_node, path)
            if isinstance(key, bool):  # YAML 1.1 reads `on:`/`yes:` keys as booleans; keep the text
                key = key_node.value
            if not isinstance(key, (str, int, float, bool)):
                key = str(key)
            if key in out:
                raise ConfigError(file, key_line, format_path((*path, key)),
                                  f"duplicate key {key!r} (first on line {origins[(*path, key)]}); "
                                  "keep only one")
            out[key] = _convert(value_node, (*path, key), loader, origins, expand)
            origins[(*path, key)] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), loader, origins, expand) for i, item in enumerate(node.value)]
    value = loader.scalar(node, path)
    if expand and isinstance(value, str):
        line = node.start_mark.line + first
        value = _expand_vars(value, lambda name: ConfigError(
            file, line, format_path(path),
            f"environment variable {name} is not set; export {name}=... or write ${{{name}:-default}}"))
    return value


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def parse_yaml(text: str, file: str | Path, *, first_line: int = 1, expand_vars: bool = True) -> Doc:
    """Parse YAML text into a ``Doc``; syntax errors and hostile input are one-line ``ConfigError``s.

    Args:
        text: the YAML text (at most ``MAX_BYTES`` characters).
        file: the file (or ``--set``) to name in errors and origins.
        first_line: the file line of the text's first line (for a block cut from a file).
        expand_vars: expand ``${VAR}`` in strings (configs and specs); off for data and snapshots.
    """
    file = str(file)
    if len(text) > MAX_BYTES:
        raise ConfigError(file, None, "", f"YAML text of {len(text)} characters is over the {MAX_BYTES} "
                          "limit; a config, spec or front matter is a few KB, check the input")
    try:
        loader = _StrictLoader(text, file, first_line)  # the reader checks characters here
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else None
        raise ConfigError(file, line, "", f"invalid YAML: {_one_line(exc.problem or exc.context)}; "
                          "fix the syntax at that line") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + first_line
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise ConfigError(file, line, "", f"invalid YAML: character U+{char:04X} is not allowed; "
                          "remove it") from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, None, "", f"invalid YAML: {_one_line(exc)}; fix the syntax") from None
    origins: dict[KeyPath, int | str] = {}
    data = None if node is None else _convert(node, (), loader, origins, expand_vars)
    return Doc(file=file, data=data, origins=origins)


_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def read_yaml_bytes(path: str | Path) -> bytes:
    """The bytes of a regular file of at most ``MAX_BYTES``, never blocking or reading forever.

    A missing file raises ``FileNotFoundError`` (callers say what a missing file means); any
    other problem is a ``ConfigError``. The file is opened non-blocking (a FIFO does not wait
    for a writer), checked with ``fstat`` on that open file, and read to at most one byte past
    the limit, so a file that grows or lies about its size is still bounded.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise ConfigError(path, None, "", "is a directory, not a YAML file; name the file") from None
    except OSError as exc:
        raise ConfigError(path, None, "", f"cannot be opened ({_one_line(exc.strerror or exc)}); "
                          "check the path and its permissions") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _FILE_KINDS if test(info.st_mode)), "not a regular file")
            target = f" (it links to {os.path.realpath(path)})" if path.is_symlink() else ""
            fix = "name the file" if kind == "a directory" else "save the YAML to a regular file and pass that"
            raise ConfigError(path, None, "", f"is {kind}{target}, not a regular YAML file; {fix}")
        too_big = ConfigError(path, None, "", f"is over the {MAX_BYTES}-byte (1 MiB) limit for YAML files; "
                              "check the path: configs and specs are a few KB, data goes in the files "
                              "a spec names")
        if info.st_size > MAX_BYTES:
            raise too_big
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_BYTES:
            raise too_big
        return b"".join(chunks)
    except BlockingIOError:
        raise ConfigError(path, None, "", "cannot be read without waiting; save the YAML to a regular "
                          "file and pass that") from None
    except OSError as exc:
        raise ConfigError(path, None, "", f"cannot be read ({_one_line(exc.strerror or exc)}); "
                          "check the file") from None
    finally:
        os.close(fd)


def _decode(raw: bytes, path: str | Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, line, "", "not valid UTF-8; save the file as UTF-8") from None


def load_yaml(path: str | Path, *, expand_vars: bool = True) -> Doc:
    """Read and parse a YAML file; a missing, special, oversized or undecodable file is a ``ConfigError``."""
    path = Path(path)
    try:
        raw = read_yaml_bytes(path)
    except FileNotFoundError:
        raise ConfigError(path, None, "", "file not found; check the path") from None
    return parse_yaml(_decode(raw, path), path, expand_vars=expand_vars)


def load_yaml_data(path: str | Path) -> Any:
    """The plain data of a YAML file newsbench wrote (a run's ``config.yaml``): no ``${VAR}``.

    Same limits as ``load_yaml``; a missing file raises ``FileNotFoundError`` so that the caller
    can say what it means (a damaged run folder).
    """
    return parse_yaml(_decode(read_yaml_bytes(path), path), path, expand_vars=False).data


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
            value = _expand_vars(value, lambda name, key=key: ConfigError(
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
