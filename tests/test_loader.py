"""The strict YAML loader: line marks, unknown/duplicate keys, types, ${VAR}, --set."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from bench.core.errors import ConfigError
from bench.core.loader import apply_overrides, bind, format_path, parse_yaml


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
