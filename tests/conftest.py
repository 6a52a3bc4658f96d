"""Shared fixtures: caches and results in temporary folders, a seed, the public datasets root."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_caches(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the Hugging Face cache out of the user's home and never reach the network."""
    cache = tmp_path_factory.getbasetemp() / "hf-cache"
    monkeypatch.setenv("HF_HOME", str(cache))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache / "datasets"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_UPDATE_DOWNLOAD_COUNTS", "0")


@pytest.fixture
def seed() -> int:
    """The test seed: tests must pass for any value 0-99 (set NEWSBENCH_TEST_SEED to try one)."""
    return int(os.environ.get("NEWSBENCH_TEST_SEED", "0"))


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture
def data_root() -> Path:
    """The folder of public datasets (``NEWSBENCH_DATA``); tests that need it skip without it."""
    value = os.environ.get("NEWSBENCH_DATA")
    if not value:
        pytest.skip("NEWSBENCH_DATA is not set: point it at the downloaded public datasets")
    root = Path(value)
    if not root.is_dir():
        pytest.skip(f"NEWSBENCH_DATA={value} is not a folder")
    return root.resolve()


def needs_dataset(data_root: Path, name: str) -> Path:
    """The folder of one public dataset, or a skip naming it."""
    folder = data_root / name
    if not folder.is_dir():
        pytest.skip(f"public dataset {name!r} is not under NEWSBENCH_DATA")
    return folder


@pytest.fixture(scope="session")
def tiny_benchmark_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of the tiny stance benchmark for the whole session (``tests.run_factory``).

    Its folder is ``<root>/results/<run_id>``, with ``<root>/data`` (the built dataset),
    ``<root>/src`` (spec and CSVs) and ``<root>/tiny.yaml``. Tests copy it before changing it.
    """
    from tests.run_factory import run_tiny_benchmark

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_DATASETS_OFFLINE", "1")
        return run_tiny_benchmark(tmp_path_factory.mktemp("tiny-benchmark") / "ref")
