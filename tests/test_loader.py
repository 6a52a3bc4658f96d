"""The strict YAML loader: line marks, unknown/duplicate keys, types, ${VAR}, --set, hostile input.

Hostile inputs here are small (a 3x3 alias bomb, a one-node cycle), so that a regression fails
with an error instead of hanging; the full catalogue runs through the CLI in
tests/test_hostile_yaml.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from bench.core import safe_yaml
from bench.core.errors import ConfigError
from bench.core.loader import (
    apply_overrides,
    bind,
    format_path,
    load_yaml,
    load_yaml_data,
    parse_yaml,
)


@dataclass(frozen=True, kw_only=True)
class Model:
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Config:
    name: str
    models: tuple[Model, ...]
    seeds: tuple[int, ...] = (0,)
    cv: Literal["none", "kfold"] = "none"
    ratio: float = 0.5


GOOD = """\
name: demo
models:
  - {name: logreg, params: {C: 1.0}}
  - name: svm
seeds: [0, 1]
"""


def load(text: str, overrides: tuple[str, ...] = ()) -> Config:
    doc = apply_overrides(parse_yaml(text, "c.yaml"), overrides)
    return bind(Config, doc.data, doc)


def test_good_config_binds_to_frozen_dataclasses() -> None:
    cfg = load(GOOD)
    assert cfg.models[0] == Model(name="logreg", params={"C": 1.0})
    assert cfg.seeds == (0, 1) and cfg.cv == "none"


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace("params:", "parms:"), r"^c\.yaml:3: models\[0\]: unknown key 'parms'; did you mean 'params'\?$"),
    (GOOD + "name: again\n", r"^c\.yaml:6: name: duplicate key 'name' \(first on line 1\)"),
    (GOOD.replace("[0, 1]", "[0, x]"), r"^c\.yaml:5: seeds\[1\]: expected an integer, got 'x'$"),
    (GOOD + "cv: kfodl\n", r"^c\.yaml:6: cv: expected one of 'none', 'kfold', got 'kfodl'; did you mean 'kfold'\?$"),
    ("models: []\n", r"^c\.yaml:1: missing required key 'name'; add it$"),
    ("name: [unclosed\n", r"^c\.yaml:2: invalid YAML"),
    (GOOD + "ratio: true\n", r"ratio: expected a number, got true$"),
])
def test_bad_config_names_file_line_and_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(text)


def test_env_vars_expand_with_default_and_unset_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NB_ROOT", "/data")
    monkeypatch.delenv("NB_MISSING", raising=False)
    assert parse_yaml("p: ${NB_ROOT}/x\nq: ${NB_MISSING:-d}/y\n", "c.yaml").data == {"p": "/data/x", "q": "d/y"}
    with pytest.raises(ConfigError, match=r"^c\.yaml:1: p: environment variable NB_MISSING is not set"):
        parse_yaml("p: ${NB_MISSING}/x\n", "c.yaml")


def test_a_relative_variable_that_starts_a_path_is_relative_to_the_current_folder(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NB_ROOT", "../data")
    data = parse_yaml("p: ${NB_ROOT}/x.csv\nq: a-${NB_ROOT}\n", "c.yaml").data
    assert data == {"p": str(tmp_path.parent / "data") + "/x.csv", "q": "a-../data"}


def test_overrides_are_parsed_as_yaml_and_validated() -> None:
    cfg = load(GOOD, ("seeds=[7,8,9]", "models.0.params.C=2"))
    assert cfg.seeds == (7, 8, 9) and cfg.models[0].params == {"C": 2}
    with pytest.raises(ConfigError, match=r"^--set: seeds\[0\]: expected an integer, got 'a'$"):
        load(GOOD, ("seeds=[a]",))
    with pytest.raises(ConfigError, match=r"^--set: models\[5\]: no item 5 in a list of 2"):
        load(GOOD, ("models.5.name=x",))
    with pytest.raises(ConfigError, match=r"^--set: \(top level\): unknown key 'sedes'; did you mean 'seeds'\?$"):
        load(GOOD, ("sedes=[1]",))


def test_format_path() -> None:
    assert format_path(("models", 0, "params", "C")) == "models[0].params.C"
    assert format_path(("a\nb", 0, "c")) == "['a\\nb'][0].c"


# --- hostile input ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", r"^c\.yaml:1: a: YAML anchor &a is not supported"),
    ("a: &a [*a]\n", r"^c\.yaml:1: a: YAML anchor &a is not supported"),
    ("a:\n  b: [1, *x]\n", r"^c\.yaml:2: a\.b\[1\]: YAML alias \*x is not supported; write the value out"),
    ("a: !!python/object/apply:os.system [id]\n", r"^c\.yaml:1: a: tag !!python/object/apply:os\.system is not allowed"),
    ("a: {b: !Ref x}\n", r"^c\.yaml:1: a\.b: tag !Ref is not allowed"),
    ("a: !!" + "x" * 100 + " y\n", r"tag !!x{55}\.\.\. is not allowed"),
    ("a: 2023-02-30\n", r"^c\.yaml:1: a: cannot read '2023-02-30' as !!timestamp; fix the value, or quote it"),
    ("a: !!float x\n", r"^c\.yaml:1: a: cannot read 'x' as !!float"),
    ("a: 1\nb: \x01\n", r"^c\.yaml:2: invalid YAML: character U\+0001 is not allowed; remove it$"),
    ("a: [1,\n", r"^c\.yaml:2: invalid YAML: .*; fix the syntax at that line$"),
])
def test_hostile_text_is_one_line_at_its_place(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_yaml(text, "c.yaml")
    assert "\n" not in str(info.value)


def test_standard_tags_and_plain_values_still_load() -> None:
    text = "a: !!str 123\nb: !!float 1\nc: ! 5\nd: !!int 0x1F\ne: 2024-01-31\nf: !!map {x: !!seq [~]}\n"
    data = parse_yaml(text, "c.yaml").data
    assert data["a"] == "123" and data["b"] == 1.0 and data["c"] == 5 and data["d"] == 31  # `!` resolves as usual
    assert data["e"].isoformat() == "2024-01-31" and data["f"] == {"x": [None]}


def test_depth_limit_is_exact() -> None:
    depth = safe_yaml.MAX_DEPTH
    assert parse_yaml("[" * depth + "]" * depth, "c.yaml").data is not None
    with pytest.raises(ConfigError, match=rf"^c\.yaml:1: \[0\]\[0\]\[0\]: nested deeper than {depth} levels; flatten"):
        parse_yaml("[" * (depth + 1) + "]" * (depth + 1), "c.yaml")


def test_value_limit_is_exact_and_names_the_item(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_yaml, "MAX_NODES", 5)
    assert parse_yaml("[1, 2, 3, 4]", "c.yaml").data == [1, 2, 3, 4]  # the list and its 4 items
    with pytest.raises(ConfigError, match=r"^c\.yaml:2: \[4\]: more than 5 values in one YAML document"):
        parse_yaml("[1, 2, 3, 4,\n 5]", "c.yaml")


def test_number_length_limit_is_exact() -> None:
    limit = safe_yaml.MAX_NUMBER_CHARS
    assert parse_yaml(f"n: {'9' * limit}", "c.yaml").data["n"] == int("9" * limit)
    with pytest.raises(ConfigError, match=rf"^c\.yaml:1: n: a number written with {limit + 1} characters"):
        parse_yaml(f"n: {'9' * (limit + 1)}", "c.yaml")
    assert parse_yaml(f"n: '{'9' * 5000}'", "c.yaml").data["n"] == "9" * 5000  # quoted: text


def test_first_line_and_expand_vars_for_text_cut_from_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NB_MISSING", raising=False)
    doc = parse_yaml("a: ${NB_MISSING}\nb: 1", "a.md", first_line=2, expand_vars=False)
    assert doc.data == {"a": "${NB_MISSING}", "b": 1} and doc.where(("b",)) == ("a.md", 3)
    with pytest.raises(ConfigError, match=r"^a\.md:3: b: YAML anchor &x"):
        parse_yaml("a: 1\nb: &x 2", "a.md", first_line=2)


def test_size_limit_for_text_and_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(safe_yaml, "MAX_BYTES", 16)
    with pytest.raises(ConfigError, match=r"^--set: YAML text of 17 characters is over the 16 limit"):
        parse_yaml("a: " + "x" * 14, "--set")
    path = tmp_path / "c.yaml"
    path.write_text("a: " + "x" * 13, encoding="utf-8")  # 16 bytes: at the limit
    assert load_yaml(path).data == {"a": "x" * 13}
    path.write_text("a: " + "x" * 14, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: is over the 16-byte \(1 MiB\) limit"):
        load_yaml(path)


def test_files_that_are_not_regular_are_refused_without_reading(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    with pytest.raises(ConfigError, match=rf"^{folder}: is a directory, not a regular YAML file; name the file$"):
        load_yaml(folder)
    if not hasattr(os, "mkfifo"):
        return
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with open(os.open(fifo, os.O_RDWR), "wb", buffering=0) as writer:  # a writer, so a regression cannot block
        writer.write(b"a: 1\n")
        with pytest.raises(ConfigError, match=rf"^{fifo}: is a named pipe \(FIFO\), not a regular YAML file; save"):
            load_yaml(fifo)
    with pytest.raises(ConfigError, match=r"file not found; check the path$"):
        load_yaml(tmp_path / "missing.yaml")


def test_load_yaml_data_leaves_a_missing_file_to_the_caller(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_yaml_data(tmp_path / "missing.yaml")
    (tmp_path / "run.yaml").write_text("name: ${HOME}\n", encoding="utf-8")
    assert load_yaml_data(tmp_path / "run.yaml") == {"name": "${HOME}"}
