"""Hostile dataset specs, source files and article folders through ``bench data build``.

Every case writes a spec and its files into an empty folder and builds it: exit 0 or 2, one
line at most, no hang (FIFOs, ``/dev/zero``), nothing read from outside an articles folder.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from tests.hostile.harness import bench, check, files_of

HEADER = "id,text,label\n"
ROWS = "".join(f"d{i},{'market shares bank' if i % 2 else 'match goal team'} {i},{'business' if i % 2 else 'sport'}\n"
               for i in range(12))
SPEC = """name: hostile
task: topic
columns: {{id: id, text: text, label: label}}
{extra}source:
  files: {{train: {train}}}
"""
SPLIT = "splits: {test: {from: train, size: 0.25}}\n"


def _spec(folder: Path, train: str = "train.csv", extra: str = SPLIT) -> Path:
    spec = folder / "spec.yaml"
    spec.write_text(SPEC.format(train=train, extra=extra), encoding="utf-8")
    return spec


def _csv(content: str | bytes, name: str = "train.csv", extra: str = SPLIT) -> Callable[[Path], Path]:
    def setup(folder: Path) -> Path:
        (folder / name).write_bytes(content.encode() if isinstance(content, str) else content)
        return _spec(folder, name, extra)
    return setup


def _special(make: Callable[[Path], None], name: str = "train.csv") -> Callable[[Path], Path]:
    def setup(folder: Path) -> Path:
        make(folder / name)
        return _spec(folder, name)
    return setup


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


FILE_CASES: dict[str, Callable[[Path], Path]] = {
    "header only, test made from train": _csv(HEADER),
    "header only, no made split": _csv(HEADER, extra=""),
    "header only, random split": _csv(HEADER, extra="splits: {test: {from: train, size: 0.25, by: random}}\n"),
    "empty file": _csv(""),
    "only blank lines": _csv("\n\n\n"),
    "binary garbage": _csv(bytes(range(256)) * 8),
    "NUL bytes in a row": _csv(HEADER + "d1,te\0xt,sport\n" + ROWS),
    "UTF-16 with a BOM": _csv((HEADER + ROWS).encode("utf-16")),
    "latin-1 bytes": _csv((HEADER + ROWS + "d99,caf\xe9,sport\n").encode("latin-1")),
    "unclosed quote": _csv(HEADER + 'd1,"never closed,sport\n' + ROWS),
    "ragged rows": _csv(HEADER + "d1,text\nd2,a,b,c,d\n" + ROWS),
    "duplicate header": _csv("id,text,text\n" + ROWS),
    "no label column": _csv("id,text\nd1,x\nd2,y\n"),
    "one column": _csv("text\n" + "a\n" * 20),
    "a 2,000-column header": _csv(",".join(f"c{i}" for i in range(2000)) + "\n"),
    "CR line ends only": _csv((HEADER + ROWS).replace("\n", "\r")),
    "gzip truncated": _csv(_gzip((HEADER + ROWS).encode())[:40], name="train.csv.gz"),
    "gzip suffix, plain bytes": _csv(HEADER + ROWS, name="train.csv.gz"),
    "gzip of garbage": _csv(_gzip(bytes(range(256)) * 4), name="train.csv.gz"),
    "parquet garbage": _csv(b"PAR1 not really", name="train.parquet"),
    "parquet empty file": _csv(b"", name="train.parquet"),
    "parquet without rows": _csv(_parquet(pd.DataFrame({"id": pd.Series([], dtype=str), "text": pd.Series([], dtype=str),
                                                        "label": pd.Series([], dtype=str)})), name="train.parquet"),
    "parquet of numbers": _csv(_parquet(pd.DataFrame({"id": [1, 2], "text": [1.5, 2.5], "label": [0, 1]})),
                               name="train.parquet"),
    "jsonl garbage line": _csv('{"id": "a", "text": "x", "label": "sport"}\nnot json\n', name="train.jsonl"),
    "jsonl a list per line": _csv("[1, 2]\n[3, 4]\n", name="train.jsonl"),
    "jsonl nested deeply": _csv(_nested_json(100_000) + "\n", name="train.jsonl"),
    "json an object": _csv('{"id": "a", "text": "x"}', name="train.json"),
    "json a list of numbers": _csv("[1, 2, 3]", name="train.json"),
    "json nested deeply": _csv(_nested_json(100_000), name="train.json"),
    "json empty list": _csv("[]", name="train.json"),
    "unknown suffix": _csv(HEADER + ROWS, name="train.data"),
    "a folder named train.csv": _special(lambda p: p.mkdir()),
    "a FIFO named train.csv": _special(lambda p: os.mkfifo(p)),
    "a symlink to /dev/zero": _special(lambda p: p.symlink_to("/dev/zero")),
    "a symlink loop": _special(lambda p: p.symlink_to(p.name)),
    "a broken symlink": _special(lambda p: p.symlink_to("missing.csv")),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_a_hostile_source_file(tmp_path: Path, case: str) -> None:
    spec = FILE_CASES[case](tmp_path)
    before = files_of(tmp_path)
    check(bench(["data", "build", spec, "--data", tmp_path / "data"]), before, tmp_path)


def test_a_field_over_the_block_size_names_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSBENCH_CSV_BLOCK_MB", "0.05")
    spec = _csv(HEADER + "big," + "word " * 100_000 + ",sport\n" + ROWS)(tmp_path)
    outcome = bench(["data", "build", spec, "--data", tmp_path / "data"])
    check(outcome, {}, tmp_path, codes=(2,))
    assert "larger than the CSV reader's block size of 0.05 MB" in outcome.err
    assert "NEWSBENCH_CSV_BLOCK_MB" in outcome.err and "check delimiter" not in outcome.err
    monkeypatch.setenv("NEWSBENCH_CSV_BLOCK_MB", "1")
    check(bench(["data", "build", spec, "--data", tmp_path / "data"]), {}, tmp_path, codes=(0,))


@pytest.mark.parametrize("value", ["zero", "0", "-4", "1e9"])
def test_a_bad_block_size_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NEWSBENCH_CSV_BLOCK_MB", value)
    outcome = bench(["data", "build", _csv(HEADER + ROWS)(tmp_path), "--data", tmp_path / "data"])
    check(outcome, {}, tmp_path, codes=(2,))
    assert "NEWSBENCH_CSV_BLOCK_MB" in outcome.err
