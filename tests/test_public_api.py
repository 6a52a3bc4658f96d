"""The public API is exactly ``bench.__all__``, sorted, and every name resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest

import bench


def test_all_is_sorted_and_unique() -> None:
    assert bench.__all__ == sorted(set(bench.__all__))


@pytest.mark.parametrize("name", bench.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(bench, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        bench.nope  # noqa: B018


def test_cli_start_does_not_import_heavy_libraries() -> None:
    """``bench --help`` must not pay for scikit-learn, datasets, pandas or matplotlib."""
    code = ("import sys; from bench.cli import build_parser; build_parser(); "
            "print(','.join(m for m in ('sklearn', 'datasets', 'pandas', 'matplotlib', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
