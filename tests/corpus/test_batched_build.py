"""Batched builds: a corpus read in many batches, prepared in worker processes, gives the very
dataset that one batch gives (rows, stats, fingerprint), and errors still name the file and row."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.corpus import batches, build_dataset, load_split, open_dataset
from bench.corpus.sources import iter_source
from bench.corpus.spec import load_spec
from bench.corpus.table import ORIGIN_ROW
from bench.core.errors import DataError
from tests.corpus.test_build import STANCES, TOPICS

TOPICS = TOPICS + "on_duplicate: drop\n"  # and duplicates to drop across batches

DATA = Path(__file__).parents[1] / "data" / "corpus"
SEEDS = Path(__file__).parents[2] / "seeds"
REAL = os.environ.get("NEWSBENCH_DATA")

MULTILABEL = f"""\
name: multi
task: topic
multilabel: true
source: {{files: {{train: {DATA}/multilabel.jsonl}}}}
columns: {{id: id, text: text, label: topics}}
splits:
  test: {{from: train, size: 0.3, seed: 1, by: random}}
"""

SEED_ARTICLES = f"""\
name: seeds
task: topic
language: detect
source:
  articles: {{path: {SEEDS}, labels: {SEEDS}/labels.csv, include: ["*.txt"]}}
columns: {{text: text, title: title, source: source, label: topic}}
splits:
  test: {{from: train, size: 0.3, seed: 7, by: label}}
"""


def _build(folder: Path, spec_text: str, out: str):
    spec = folder / f"{out}.yaml"
    spec.write_text(spec_text, encoding="utf-8")
    return build_dataset(spec, folder / out, force=True).dataset


def _small_batches(monkeypatch: pytest.MonkeyPatch, rows: int, pool_after: int = 0) -> None:
    monkeypatch.setattr(batches, "BATCH_ROWS", rows)
    monkeypatch.setattr(batches, "POOL_AFTER_ROWS", pool_after)


def _same_dataset(whole, batched) -> None:
    assert batched.fingerprint == whole.fingerprint
    assert json.dumps(batched.stats()["splits"]) == json.dumps(whole.stats()["splits"])
    assert batched.stats()["audit"] == whole.stats()["audit"]
    for split in whole.splits:
        left, right = load_split(whole, split), load_split(batched, split)
        assert left.equals(right), split


@pytest.mark.parametrize("spec_text", [TOPICS, STANCES, MULTILABEL, SEED_ARTICLES],
                         ids=["topics", "stance-join-ids", "multilabel", "seed-articles"])
def test_many_batches_in_worker_processes_give_the_same_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                spec_text: str) -> None:
    whole = _build(tmp_path, spec_text, "whole")
    _small_batches(monkeypatch, rows=4)
    batched = _build(tmp_path, spec_text, "batched")
    _same_dataset(whole, batched)
    assert not [p for p in tmp_path.rglob(".*") if p.is_dir()], "scratch folders left behind"


def test_parquet_streams_by_batches_with_continuous_row_numbers(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(DATA / "topics.csv", dtype=str)
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=5)
    spec = tmp_path / "s.yaml"
    spec.write_text(TOPICS.replace(f"{DATA}/topics.csv", f"{tmp_path}/t.parquet"), encoding="utf-8")
    (source,) = list(iter_source(load_spec(spec), batch_rows=4))
    parts = list(source.batches)
    assert len(parts) > 4 and max(len(p) for p in parts) <= 4
    assert [r for p in parts for r in p[ORIGIN_ROW].tolist()] == list(range(1, len(frame) + 1))
    assert pd.concat(parts)["id"].tolist() == frame["id"].tolist()


def test_an_error_in_a_late_batch_names_its_file_and_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    frame = pd.read_csv(DATA / "topics.csv", dtype=str)
    frame.loc[16, "topic"] = "sprots"
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=3)
    _small_batches(monkeypatch, rows=3)
    with pytest.raises(DataError, match=r"t\.parquet: row 17: label 'sprots' is not in labels .*did you mean 'sports'"):
        _build(tmp_path, TOPICS.replace(f"{DATA}/topics.csv", f"{tmp_path}/t.parquet"), "bad")
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_a_filter_that_keeps_rows_of_later_batches_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _small_batches(monkeypatch, rows=3, pool_after=10**9)
    text = TOPICS.replace("splits:\n  test: {from: train, size: 6, seed: 3}\n", "") + "where: {id: [n17, n18]}\n"
    ds = _build(tmp_path, text, "late")
    assert load_split(ds, "train")["id"].tolist() == ["n17", "n18"]
    with pytest.raises(Exception, match="no row of split 'train' passes the filter"):
        _build(tmp_path, text.replace("[n17, n18]", "[nothing]"), "none")


@pytest.mark.skipif(not REAL, reason="NEWSBENCH_DATA is not set: the real datasets are needed")
def test_bbc_in_batches_drops_the_same_duplicates_and_leaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec_text = (Path(__file__).parents[2] / "configs" / "datasets" / "bbc.yaml").read_text(encoding="utf-8")
    spec_text = spec_text.replace("${NEWSBENCH_DATA}", str(Path(REAL).resolve()))
    whole = _build(tmp_path, spec_text, "whole")
    _small_batches(monkeypatch, rows=300)
    batched = _build(tmp_path, spec_text, "batched")
    _same_dataset(whole, batched)
    assert batched.stats()["audit"]["dropped"]["duplicate"] == 133


def test_cli_workers_one_prepares_every_batch_here_with_the_same_result(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.cli import main

    whole = _build(tmp_path, STANCES, "whole")
    _small_batches(monkeypatch, rows=2)
    monkeypatch.setattr(batches, "_in_pool", None)  # any use of the pool would fail
    spec = tmp_path / "one.yaml"
    spec.write_text(STANCES, encoding="utf-8")
    assert main(["data", "build", str(spec), "--data", str(tmp_path / "one"), "--workers", "1"]) == 0
    _same_dataset(whole, open_dataset("stances", tmp_path / "one"))


def _jsonl_spec(path: Path) -> str:
    return (f"name: lines\ntask: topic\nsource: {{files: {{train: {path}}}}}\n"
            "columns: {id: id, text: text, label: topic, date: date}\n")


def test_jsonl_streams_and_a_key_seen_only_in_a_later_batch_is_missing_before(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    rows = [{"id": f"r{i}", "text": f"Story number {i} about the harbour", "topic": "city"} for i in range(7)]
    rows[6]["date"] = "2024-05-01"
    payload = "\n".join(json.dumps(r) for r in rows) + "\n"
    (tmp_path / "rows.jsonl.gz").write_bytes(gzip.compress(payload.encode("utf-8")))
    whole = _build(tmp_path, _jsonl_spec(tmp_path / "rows.jsonl.gz"), "whole")
    _small_batches(monkeypatch, rows=3)
    batched = _build(tmp_path, _jsonl_spec(tmp_path / "rows.jsonl.gz"), "batched")
    _same_dataset(whole, batched)
    assert load_split(batched, "train")["date"].tolist() == [""] * 6 + ["2024-05-01"]


def test_jsonl_errors_name_the_file_line_or_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _small_batches(monkeypatch, rows=2)
    good = "\n".join(json.dumps({"id": str(i), "text": f"text {i}", "topic": "a"}) for i in range(5))
    path = tmp_path / "rows.jsonl"
    path.write_text(good + "\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"column 'date' is not in .*rows\.jsonl"):
        _build(tmp_path, _jsonl_spec(path), "nodate")
    path.write_bytes(good.encode() + b'\n{"id": "9", "text": "caf\xe9", "topic": "a"}\n')
    with pytest.raises(DataError, match=r"rows\.jsonl:6: byte 0xe9: cannot be decoded as utf-8"):
        _build(tmp_path, _jsonl_spec(path).replace(", date: date", ""), "latin")
    path.write_text(good + "\n{broken\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"rows\.jsonl:6: invalid JSON"):
        _build(tmp_path, _jsonl_spec(path).replace(", date: date", ""), "broken")


def _die(*args: object, **kwargs: object) -> None:
    os._exit(1)  # what the kernel's out-of-memory killer leaves behind


def test_a_dead_worker_process_is_one_line_and_nothing_is_written(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.core.errors import BenchError

    _small_batches(monkeypatch, rows=4)
    monkeypatch.setattr(batches, "prepare_batch", _die)  # pickled by name: the workers import this module
    with pytest.raises(BenchError, match="a process preparing the batches died .*rerun with --workers 1"):
        _build(tmp_path, TOPICS, "dead")
    assert not (tmp_path / "dead").exists() or not any((tmp_path / "dead").iterdir())


def test_csv_decoding_is_checked_piece_by_piece_with_exact_lines(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.corpus import readers

    monkeypatch.setattr(readers, "_CHECK_BYTES", 5)  # pieces cut through the two-byte "é"
    rows = "id,text,topic\n" + "".join(f"{i},Le café numéro {i} ouvre,city\n" for i in range(6))
    path = tmp_path / "rows.csv"
    path.write_bytes(rows.encode("utf-8"))
    spec = (f"name: cafes\ntask: topic\nsource: {{files: {{train: {path}}}}}\n"
            "columns: {id: id, text: text, label: topic}\n")
    assert len(load_split(_build(tmp_path, spec, "good"), "train")) == 6
    path.write_bytes(rows.encode("utf-8").replace("numéro 4".encode(), "num\xe9ro 4".encode("latin-1")))
    with pytest.raises(DataError, match=r"rows\.csv:6: byte 0xe9: cannot be decoded as utf-8"):
        _build(tmp_path, spec, "bad")


def test_scratch_of_a_killed_build_is_removed_by_the_next_build(tmp_path: Path) -> None:
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead = tmp_path / "data" / f".topics.build-{gone.stdout.strip()}-0badc0de"
    live = tmp_path / "data" / f".topics.build-{os.getpid()}-0badc0de"  # a build still running here
    for folder in (dead, live):
        (folder / "spill").mkdir(parents=True)
    spec = tmp_path / "s.yaml"
    spec.write_text(TOPICS, encoding="utf-8")
    build_dataset(spec, tmp_path / "data")
    assert not dead.exists() and live.exists()


def test_a_csv_with_a_header_and_no_rows_is_an_empty_split_not_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("id,text,topic\n1,Rates stay on hold,economy\n2,Striker signs,sport\n",
                                        encoding="utf-8")
    (tmp_path / "test.csv").write_text("id,text,topic\n", encoding="utf-8")
    spec = (f"name: empty\ntask: topic\nsource: {{files: {{train: {tmp_path}/train.csv, test: {tmp_path}/test.csv}}}}\n"
            "columns: {id: id, text: text, label: topic}\nlabels: [economy, sport]\n")
    with pytest.raises(Exception, match="split 'test' has no rows left after the checks"):
        _build(tmp_path, spec, "empty")
