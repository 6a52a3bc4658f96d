"""pyproject.toml's dependency floors and .ci/minimum-versions.txt, the pins CI tests them with, agree.

Every direct dependency (extras included) declares a ``>=`` floor, the constraints file pins it at
exactly that version, and it pins nothing else: raising a floor without testing it, or testing a
version no one declared, fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
PINS = ROOT / ".ci" / "minimum-versions.txt"
CI = ROOT / ".ci" / "run"

# name, optional [extras], then comma-separated specifiers; no markers or URLs in this project
REQUIREMENT = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<specs>[^;]*)$")
SPECIFIER = re.compile(r"^\s*(?P<op>>=|<=|==|!=|~=|<|>)\s*(?P<version>[0-9][0-9.]*)\s*$")


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _release(version: str) -> tuple[int, ...]:
    """``"16"`` and ``"16.0.0"`` are the same release."""
    assert re.fullmatch(r"\d+(\.\d+)*", version), f"{version!r}: only plain release numbers are expected"
    parts = [int(p) for p in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _declared() -> dict[str, list[tuple[str, str]]]:
    """Every direct requirement of pyproject.toml (dependencies and all extras): name -> specifiers."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    declared: dict[str, list[tuple[str, str]]] = {}
    for line in lines:
        match = REQUIREMENT.match(line)
        assert match, f"pyproject.toml: cannot read requirement {line!r}"
        specs = []
        for spec in filter(None, (s.strip() for s in match["specs"].split(","))):
            parsed = SPECIFIER.match(spec)
            assert parsed, f"pyproject.toml: {line!r}: cannot read specifier {spec!r}"
            specs.append((parsed["op"], parsed["version"]))
        name = _name(match["name"])
        if name in declared:  # e.g. distributed, both on its own and as dask[distributed]
            assert sorted(declared[name]) == sorted(specs), f"pyproject.toml: {name} is declared twice differently"
        declared[name] = specs
    return declared


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, raw in enumerate(PINS.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[0-9][0-9.]*)", line)
        assert match, f"{PINS.name}:{number}: {raw!r} is not NAME==VERSION"
        name = _name(match["name"])
        assert name not in pins, f"{PINS.name}:{number}: {name} is pinned twice"
        pins[name] = match["version"]
    return pins


def test_every_direct_dependency_declares_a_floor() -> None:
    missing = [name for name, specs in _declared().items() if not any(op == ">=" for op, _ in specs)]
    assert not missing, f"pyproject.toml: give these a >= floor (and pin it in {PINS.name}): {missing}"


def test_constraints_pin_every_declared_floor_and_nothing_else() -> None:
    declared, pins = _declared(), _pins()
    assert not sorted(set(declared) - set(pins)), f"{PINS.name}: pin these at their floor: " \
                                                  f"{sorted(set(declared) - set(pins))}"
    assert not sorted(set(pins) - set(declared)), f"{PINS.name}: these are not declared in pyproject.toml: " \
                                                  f"{sorted(set(pins) - set(declared))}"
    wrong = {}
    for name, specs in declared.items():
        floor = next(version for op, version in specs if op == ">=")
        if _release(pins[name]) != _release(floor):
            wrong[name] = f"pinned {pins[name]}, floor {floor}"
    assert not wrong, f"{PINS.name} and pyproject.toml disagree: {wrong}"


@pytest.mark.parametrize("op", ["<", "<=", "!="])
def test_pins_satisfy_the_other_bounds(op: str) -> None:
    pins = _pins()
    for name, specs in _declared().items():
        for spec_op, version in specs:
            if spec_op != op:
                continue
            pin, bound = _release(pins[name]), _release(version)
            ok = {"<": pin < bound, "<=": pin <= bound, "!=": pin != bound}[op]
            assert ok, f"{name}: the pin {pins[name]} breaks the declared bound {op}{version}"


def test_ci_installs_the_floors() -> None:
    assert ".ci/minimum-versions.txt" in CI.read_text(encoding="utf-8")
