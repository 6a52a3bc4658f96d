"""The streaming path: the in-memory numbers where the maths allows, close for SGD, deterministic, checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.run.validate import load_config
from bench.corpus import ensure_built
from bench.core.errors import ConfigError
from bench.results.store import RunDir
from bench.run.streaming import iter_chunks
from tests.tiny_news import write_multilabel, write_stance, write_topic

CONFIG = """\
name: stream
datasets: [{datasets}]
features:
  - {{name: hash, kind: hashing, params: {{n_features: 4096, alternate_sign: false, ngram_range: [1, 2]}}}}
models:
{models}
seeds: [{seeds}]
evaluation:
  metrics: [{metrics}]
  bootstrap: {{samples: 200}}
  streaming: {streaming}
"""
NB = "  - {name: nb, estimator: multinomial_nb}\n  - {name: cnb, estimator: complement_nb}"


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("streaming")
    return {"root": root, "topic": write_topic(root / "topic"), "stance": write_stance(root / "stance"),
            "multi": write_multilabel(root / "multi"),
            "big": write_topic(root / "big", n_train=600, n_test=300, name="big_topic")}


def _config(specs: dict[str, Path], name: str, *, datasets: tuple[str, ...], models: str = NB,
            streaming: str = "{enabled: true, chunk_rows: 7}", metrics: str = "accuracy, f1_macro",
            seeds: str = "0") -> Path:
    path = specs["root"] / f"{name}.yaml"
    path.write_text(CONFIG.format(datasets=", ".join(str(specs[d]) for d in datasets), models=models,
                                  streaming=streaming, metrics=metrics, seeds=seeds), encoding="utf-8")
    return path


def _run(specs: dict[str, Path], config: Path, results: str, *args: str) -> RunDir:
    out = specs["root"] / results
    assert main(["run", str(config), "--data", str(specs["root"] / "data"), "--results", str(out), "--quiet",
                 *args]) == 0
    (path,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return RunDir.open(path)


def _predictions_equal(a: RunDir, b: RunDir, *, exact: bool = True) -> None:
    """Same ids, gold and predicted labels; scores equal (or, not ``exact``, up to float summation order)."""
    import pandas as pd

    for job_id in a.job_ids():
        pa, pb = a.predictions(job_id), b.predictions(job_id)
        if exact:
            assert pa.equals(pb), job_id
        else:
            pd.testing.assert_frame_equal(pa, pb, check_exact=False, rtol=1e-9, atol=1e-12)
            assert pa[["id", "gold", "pred"]].equals(pb[["id", "gold", "pred"]]), job_id


def test_naive_bayes_streamed_in_chunks_equals_in_memory(specs: dict[str, Path]) -> None:
    """Stateless features give every row its in-memory vector; NB's partial_fit sums what fit sums."""
    config = _config(specs, "nb", datasets=("topic", "stance"))
    streamed = _run(specs, config, "nb-stream")
    in_memory = _run(specs, config, "nb-memory", "--set", "evaluation.streaming=false")
    assert streamed.rows() == in_memory.rows()
    _predictions_equal(streamed, in_memory, exact=False)  # partial_fit sums counts chunk by chunk
    multi = _config(specs, "nb-multi", datasets=("multi",), metrics="f1_micro, f1_macro, hamming_loss")
    streamed_multi = _run(specs, multi, "nb-multi-stream")
    in_memory_multi = _run(specs, multi, "nb-multi-memory", "--set", "evaluation.streaming=false")
    assert streamed_multi.rows() == in_memory_multi.rows()
    _predictions_equal(streamed_multi, in_memory_multi, exact=False)
    job = streamed.job("tiny_stance__hash__nb__s0")
    assert job["streaming"] == {"chunk_rows": 7, "epochs": 1, "train_chunks": 5}  # 30 train rows
    assert "streaming" not in in_memory.job("tiny_stance__hash__nb__s0")
    assert job["confusion"] == in_memory.job("tiny_stance__hash__nb__s0")["confusion"]


def test_sgd_in_one_chunk_and_epoch_equals_one_in_memory_epoch(specs: dict[str, Path]) -> None:
    sgd = "  - {name: sgd, estimator: sgd, params: {max_iter: 1, tol: null}}"
    config = _config(specs, "sgd1", datasets=("topic", "stance"), models=sgd,
                     streaming="{enabled: true, chunk_rows: 1000}")
    in_memory = _run(specs, config, "sgd1-memory", "--set", "evaluation.streaming=false")
    streamed = _run(specs, config, "sgd1-stream")
    assert streamed.rows() == in_memory.rows()
    _predictions_equal(streamed, in_memory)


def test_sgd_streamed_over_epochs_is_close_to_in_memory(specs: dict[str, Path]) -> None:
    """600 training rows in 12 chunks, 10 epochs: within 5 points of fitting to convergence."""
    config = _config(specs, "sgd", datasets=("big",), models="  - {name: sgd, estimator: sgd}",
                     streaming="{enabled: true, chunk_rows: 50, epochs: 10}")
    streamed = _run(specs, config, "sgd-stream")
    in_memory = _run(specs, config, "sgd-memory", "--set", "evaluation.streaming=false")
    for a, b in zip(streamed.rows(), in_memory.rows(), strict=True):
        assert (a["model"], a["seed"], a["metric"]) == (b["model"], b["seed"], b["metric"])
        assert a["value"] == pytest.approx(b["value"], abs=0.05)
        assert a["value"] > 0.6  # and both learned something (3 classes)
    agree = [(streamed.predictions(j)["pred"] == in_memory.predictions(j)["pred"]).mean()
             for j in streamed.job_ids()]
    assert min(agree) > 0.85


def test_streaming_runs_are_deterministic(specs: dict[str, Path]) -> None:
    config = _config(specs, "det", datasets=("big",), models="  - {name: sgd, estimator: sgd}",
                     streaming="{enabled: true, chunk_rows: 64, epochs: 2}", seeds="0, 1")
    first, second = _run(specs, config, "det-1"), _run(specs, config, "det-2")
    assert (first.path / "metrics.json").read_bytes() == (second.path / "metrics.json").read_bytes()
    _predictions_equal(first, second)
    # the chunk order comes from the seed: seeds give different models
    rows = {(r["seed"], r["metric"]): r["value"] for r in first.rows()}
    assert json.dumps(first.job("big_topic__hash__sgd__s0")["confusion"]) != json.dumps(
        first.job("big_topic__hash__sgd__s1")["confusion"]) or rows[(0, "accuracy")] != rows[(1, "accuracy")]


def test_helper_processes_change_no_number(specs: dict[str, Path]) -> None:
    config = _config(specs, "workers", datasets=("big",), models="  - {name: sgd, estimator: sgd}",
                     streaming="{enabled: true, chunk_rows: 100, epochs: 2, workers: 2}")
    helped = _run(specs, config, "workers-2")
    alone = _run(specs, config, "workers-1", "--set", "evaluation.streaming.workers=1")
    assert (helped.path / "metrics.json").read_bytes() == (alone.path / "metrics.json").read_bytes()
    _predictions_equal(helped, alone)


def test_auto_streams_above_the_row_count_only(specs: dict[str, Path]) -> None:
    config = _config(specs, "auto", datasets=("topic",), streaming="{enabled: auto, above_rows: 29}")
    assert "streaming" in _run(specs, config, "auto-29").job("tiny_topic__hash__nb__s0")
    big = _run(specs, config, "auto-30", "--set", "evaluation.streaming.above_rows=30")
    assert "streaming" not in big.job("tiny_topic__hash__nb__s0")  # 30 train rows: not above 30
    # auto never forces streaming on a config that cannot stream: tf-idf runs in memory
    tfidf = _run(specs, config, "auto-tfidf", "--set", "features.0.kind=tfidf", "--set", "features.0.params={}")
    assert "streaming" not in tfidf.job("tiny_topic__hash__nb__s0")


@pytest.mark.parametrize(("override", "message"), [
    ("features.0.kind=tfidf", r"evaluation\.streaming: feature block 'hash' is tfidf, which needs the whole "
                              r"corpus to fit; .*use kind: hashing"),
    ("models.0.estimator=logistic_regression", r"evaluation\.streaming: model 'nb' \(LogisticRegression\) cannot "
                                               r"learn incrementally"),
    ("models.0.per_target=true", r"per_target: true, which streaming does not do"),
    ("evaluation.cv={folds: 3}", r"streaming needs a test split, not cv"),
    ("evaluation.streaming.chunk_rows=0", r"evaluation\.streaming\.chunk_rows: must be at least 1"),
    ("evaluation.streaming=sometimes", r"evaluation\.streaming: expected true, false, auto or a mapping"),
    ("evaluation.streaming.chunk=5", r"unknown key 'chunk'; did you mean 'chunk_rows'\?"),
])
def test_configs_that_cannot_stream_fail_before_running(specs: dict[str, Path], override: str, message: str) -> None:
    config = _config(specs, "bad", datasets=("topic",))
    overrides = [override] + (["features.0.params={}"] if "tfidf" in override else [])
    with pytest.raises(ConfigError, match=message):
        load_config(config, overrides)


def test_iter_chunks_reads_every_row_once_in_the_asked_order(specs: dict[str, Path]) -> None:
    ds = ensure_built(specs["topic"], specs["root"] / "data")
    chunks = list(iter_chunks(ds, "train", ("id", "label"), 8))
    assert [len(c) for c in chunks] == [8, 8, 8, 6]
    ids = [i for c in chunks for i in c["id"]]
    assert ids == [f"d{i}" for i in range(30)]
    reordered = list(iter_chunks(ds, "train", ("id",), 8, order=[3, 0]))
    assert [list(c["id"])[0] for c in reordered] == ["d24", "d0"]
