"""Hostile predictions files through ``bench import``: garbage, wrong shapes, special files.

A failed import writes no run folder (and leaves the others as they were); a good one
writes a complete run.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.hostile.harness import bench, check, files_of


def _ids(project: Path) -> list[str]:
    from bench.corpus import load_split, open_dataset

    return list(load_split(open_dataset("tiny_topic", project / "data"), "test")["id"])


def _text(name: str, make: Callable[[list[str]], str | bytes]) -> Callable[[Path], Path]:
    def setup(project: Path) -> Path:
        path = project / name
        content = make(_ids(project))
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path
    return setup


def _special(name: str, make: Callable[[Path], None]) -> Callable[[Path], Path]:
    def setup(project: Path) -> Path:
        make(project / name)
        return project / name
    return setup


def _parquet(frame: Callable[[list[str]], pd.DataFrame]) -> Callable[[list[str]], bytes]:
    def make(ids: list[str]) -> bytes:
        buffer = io.BytesIO()
        frame(ids).to_parquet(buffer, index=False)
        return buffer.getvalue()
    return make


def _csv(ids: list[str], pred: Callable[[int], str] = lambda i: "sport") -> str:
    return "id,pred\n" + "".join(f"{id_},{pred(i)}\n" for i, id_ in enumerate(ids))


CASES: dict[str, Callable[[Path], Path]] = {
    "a good CSV (imports)": _text("p.csv", _csv),
    "an empty CSV": _text("p.csv", lambda ids: ""),
    "a CSV header only": _text("p.csv", lambda ids: "id,pred\n"),
    "binary garbage as CSV": _text("p.csv", lambda ids: bytes(range(256)) * 4),
    "latin-1 bytes": _text("p.csv", lambda ids: _csv(ids, lambda i: "caf\xe9").encode("latin-1")),
    "no pred column": _text("p.csv", lambda ids: "id,label\n" + "".join(f"{i},sport\n" for i in ids)),
    "no id column": _text("p.csv", lambda ids: "pred\n" + "sport\n" * len(ids)),
    "unknown labels": _text("p.csv", lambda ids: _csv(ids, lambda i: "no-such-label")),
    "unknown ids": _text("p.csv", lambda ids: _csv([f"x{i}" for i in range(len(ids))])),
    "duplicated ids": _text("p.csv", lambda ids: _csv(ids + ids[:2])),
    "half the ids": _text("p.csv", lambda ids: _csv(ids[: len(ids) // 2])),
    "empty predictions": _text("p.csv", lambda ids: _csv(ids, lambda i: "")),
    "an unclosed quote": _text("p.csv", lambda ids: 'id,pred\n"' + _csv(ids)[8:]),
    "parquet garbage": _text("p.parquet", lambda ids: b"PAR1garbage"),
    "parquet other columns": _text("p.parquet", _parquet(lambda ids: pd.DataFrame({"a": [1], "b": [2]}))),
    "parquet numeric predictions": _text("p.parquet", _parquet(lambda ids: pd.DataFrame({"id": ids,
                                                                                       "pred": range(len(ids))}))),
    "jsonl garbage": _text("p.jsonl", lambda ids: '{"id": "a", "pred": "sport"}\nnot json\n'),
    "jsonl lists": _text("p.jsonl", lambda ids: "[1, 2]\n"),
    "json an object": _text("p.json", lambda ids: '{"id": "a"}'),
    "json nested deeply": _text("p.json", lambda ids: "[" * 100_000 + "]" * 100_000),
    "gzip truncated": _text("p.csv.gz", lambda ids: __import__("gzip").compress(_csv(ids).encode())[:30]),
    "unknown suffix": _text("p.txt", _csv),
    "a folder": _special("p.csv", lambda p: p.mkdir()),
    "a FIFO": _special("p.csv", lambda p: os.mkfifo(p)),
    "a symlink to /dev/zero": _special("p.csv", lambda p: p.symlink_to("/dev/zero")),
    "a symlink loop": _special("p.csv", lambda p: p.symlink_to(p.name)),
    "a missing file": lambda project: project / "missing.csv",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_predictions_file(project: Path, case: str) -> None:
    path = CASES[case](project)
    before = files_of(project)
    outcome = bench(["import", path, "--dataset", "tiny_topic", "--name", "outside", "--data", "data",
                     "--results", "results"], cwd=project)
    check(outcome, before, project)
    runs = [p for p in (project / "results").iterdir() if "outside" in p.name]
    assert len(runs) == (1 if outcome.code == 0 else 0), runs
