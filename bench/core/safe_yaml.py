"""Reading YAML that may be hostile: one line per refusal, bounded time and memory.

A file is parsed once into plain Python values plus the line of every key path (``Doc``),
``${VAR}`` expanded. Hostile input. ``load_yaml`` / ``parse_yaml`` are the one way newsbench reads YAML (run configs,
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

import os
import re
import stat
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def expand_vars(text: str, on_unset: typing.Callable[[str], Exception]) -> str:
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
        value = expand_vars(value, lambda name: ConfigError(
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


