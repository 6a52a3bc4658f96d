"""The shape of the code, checked: import layers and cycles, module sizes, a small package root."""

from __future__ import annotations

from pathlib import Path

import pytest

importlinter_cli = pytest.importorskip("importlinter.cli", reason="import-linter is in the test extra")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bench"
MAX_LINES = 400
MAX_ROOT_MODULES = 6


def test_import_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The layers and acyclic-siblings contracts of pyproject.toml (lazy imports count too)."""
    monkeypatch.chdir(ROOT)
    assert importlinter_cli.lint_imports(config_filename="pyproject.toml", no_cache=True) == 0


def test_no_module_imports_the_public_facade() -> None:
    """``bench/__init__`` imports its names lazily from the layers; no layer may import it back."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("bench", cache_dir=None)
    assert graph.find_modules_that_directly_import("bench") == set()


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_small(path: Path) -> None:
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    assert n_lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {n_lines} lines; split it by job"


def test_package_root_holds_a_handful_of_modules() -> None:
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= MAX_ROOT_MODULES, modules
