"""The streaming path: corpora larger than memory, in chunks, with the same results files.

A streaming job reads the built dataset's Arrow files memory-mapped and in chunks of
``chunk_rows`` rows, so that only a chunk's texts and features are in memory at once.
Features must be stateless (``hashing``, ``embedding``, unions of them): a chunk's rows
then get exactly the vectors that the in-memory path gives them. Models must learn
incrementally (``partial_fit``: SGD, naive Bayes, passive-aggressive, perceptron); each
epoch visits the train chunks in an order drawn from the job's seed, so that a corpus
sorted by label does not teach the model one class at a time. Naive Bayes learns exactly
what ``fit`` learns; SGD and passive-aggressive make one pass per epoch instead of
iterating to convergence, so their numbers are close to, not equal to, the in-memory ones.

With ``workers: N`` (N > 1), N helper processes read and featurize the next chunks while
this process trains on the current one; the model sees the chunks in the same order, so
no number depends on N. Featurizing dominates (the hashing vectorizer tokenizes in
Python), so this is where a second core helps.

Prediction is per chunk and vectorised; the metrics and their bootstrap CIs come from
``bench.metrics.score_metrics`` over the whole test split (its bootstrap for
confusion-matrix metrics resamples cells, not items, so a resample costs the same for a
million items as for a thousand). The job result is a
``bench.run.runner.JobResult`` like any other, so the run folder is the same.

``evaluation.streaming`` decides (``bench.config.spec.StreamingSpec``): ``auto`` streams a job
when its train split has more than ``above_rows`` rows and the config can stream.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import DataError
from bench.core.parallel import in_order, usable_workers

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from bench.config.spec import FeatureSpec, ModelSpec, RunConfig
    from bench.corpus import BuiltDataset
    from bench.run.runner import Job, JobResult

STATELESS_KINDS = ("hashing", "embedding")

__all__ = ["STATELESS_KINDS", "dispatch_job", "feature_workers", "is_streaming", "iter_chunks", "n_rows",
           "run_streaming_job", "streaming_problem"]


# --- can a config stream, does a job stream ----------------------------------------------------

def _feature_problem(spec: FeatureSpec, blocks: dict[str, FeatureSpec]) -> str | None:
    if spec.kind == "union":
        for name in spec.of:
            problem = _feature_problem(blocks[name], blocks) if name in blocks else None
            if problem:
                return problem
        return None
    if spec.kind not in STATELESS_KINDS:
        return (f"feature block {spec.name!r} is {spec.kind}, which needs the whole corpus to fit; streaming "
                f"needs stateless features ({', '.join(STATELESS_KINDS)}): use kind: hashing")
    return None


def _model_problem(spec: ModelSpec) -> str | None:
    from bench.learn.models import estimator_class, model_input

    if model_input(spec) == "text":
        return (f"model {spec.name!r} reads texts (input: text), and streaming feeds models feature chunks only; "
                "set streaming: false")
    if spec.per_target:
        return f"model {spec.name!r} has per_target: true, which streaming does not do; set per_target: false"
    if spec.tune is not None:
        return f"model {spec.name!r} has tune (inner cross-validation), which streaming does not do; set streaming: false"
    cls = estimator_class(spec)
    if not hasattr(cls, "partial_fit"):
        return (f"model {spec.name!r} ({cls.__name__}) cannot learn incrementally (no partial_fit); streaming "
                "needs sgd, multinomial_nb, complement_nb, passive_aggressive or another partial_fit model")
    return None


def streaming_problem(config: RunConfig) -> str | None:
    """Why ``config`` cannot stream (``"<problem>; <fix>"``), or ``None`` when it can."""
    if config.evaluation.cv is not None:
        return "streaming needs a test split, not cv; set evaluation.test or streaming: false"
    if config.evaluation.drift is not None:
        return "streaming reads the train split in its order, not split by date; remove drift or set streaming: false"
    if config.evaluation.train_subset is not None:
        return "streaming reads the whole train split; remove evaluation.train_subset or set streaming: false"
    blocks = {f.name: f for f in config.features}
    for spec in config.features:
        problem = _feature_problem(spec, blocks)
        if problem:
            return problem
    for model in config.models:
        problem = _model_problem(model)
        if problem:
            return problem
    return None


def _can_stream(job: Job) -> bool:
    if job.evaluation.cv is not None or job.evaluation.train_subset is not None or job.evaluation.drift is not None \
            or job.evaluation.probes \
            or _feature_problem(job.features, dict(job.blocks)):  # probes score in memory (bench.run.probes)
        return False
    return _model_problem(job.model) is None


def is_streaming(job: Job) -> bool:
    """Whether ``job`` takes the streaming path (``evaluation.streaming``, the train split's size)."""
    setting = job.evaluation.streaming
    if setting.enabled is not True and setting.enabled != "auto":
        return False
    if setting.enabled is True:
        return True
    if not _can_stream(job):
        return False
    splits = job.dataset.stats().get("splits", {})
    return int(splits.get(job.evaluation.train, {}).get("n_rows", 0)) > setting.above_rows


def dispatch_job(job: Job) -> JobResult:
    """``run_streaming_job`` or ``bench.run.runner.run_job``, as ``is_streaming`` decides (an executor task)."""
    if is_streaming(job):
        return run_streaming_job(job)
    from bench.run.runner import run_job

    return run_job(job)


# --- reading ---------------------------------------------------------------------------------

def _table(ds: BuiltDataset, split: str, columns: Sequence[str]) -> Any:
    """The split's Arrow table, memory-mapped (no copy: pages are read as chunks touch them)."""
    import pyarrow as pa

    if split not in ds.splits:
        raise DataError(ds.path, None, "split", f"dataset {ds.name!r} has no split {split!r}; its splits: "
                        f"{', '.join(ds.splits)}")
    files = sorted((ds.path / split).glob("data-*.arrow"))
    if not files:
        raise DataError(ds.path / split, None, "", "the split has no data files; rebuild with --force")
    tables = []
    for file in files:
        source = pa.memory_map(str(file))
        table = pa.ipc.open_stream(source).read_all()
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise DataError(file, None, "", f"the split has no column {missing[0]!r}; rebuild the dataset "
                            f"with a {missing[0]!r} column")
        tables.append(table.select(list(columns)))
    return pa.concat_tables(tables)


def iter_chunks(ds: BuiltDataset, split: str, columns: Sequence[str], chunk_rows: int,
                order: Sequence[int] | None = None) -> Iterator[pd.DataFrame]:
    """The split as DataFrames of at most ``chunk_rows`` rows, read from the memory-mapped files.

    Args:
        ds: the built dataset.
        split: its split.
        columns: the columns to read (``label`` stays the ClassLabel index).
        chunk_rows: rows per chunk.
        order: chunk numbers to visit in this order (default: file order).
    """
    table = _table(ds, split, columns)
    n_chunks = -(-table.num_rows // chunk_rows)
    for k in (range(n_chunks) if order is None else order):
        yield table.slice(k * chunk_rows, chunk_rows).to_pandas()


def n_rows(ds: BuiltDataset, split: str) -> int:
    """Rows of a split, from the Arrow files' metadata."""
    return _table(ds, split, ("id",)).num_rows


# --- one job ---------------------------------------------------------------------------------

def _labels(chunk: pd.DataFrame, ds: BuiltDataset) -> np.ndarray:
    """ClassLabel indices (or an indicator matrix) straight from the Arrow column."""
    import numpy as np

    if not ds.multilabel:
        return chunk["label"].to_numpy(dtype=np.int64)
    out = np.zeros((len(chunk), len(ds.labels)), dtype=np.int64)
    for row, value in enumerate(chunk["label"]):
        out[row, np.asarray(value, dtype=np.int64)] = 1
    return out


class _Learner:
    """One ``partial_fit`` estimator, or one per label (one-vs-rest) for multi-label tasks."""

    def __init__(self, spec: ModelSpec, *, seed: int, n_labels: int, multilabel: bool) -> None:
        from bench.learn.models import build_estimator

        self.n_labels, self.multilabel = n_labels, multilabel
        count = n_labels if multilabel else 1
        # the in-memory path's OneVsRestClassifier gives each label's model the same seed
        self.estimators = [build_estimator(spec, seed=seed, multilabel=False) for _ in range(count)]

    def partial_fit(self, X: Any, y: np.ndarray) -> None:
        import numpy as np

        if not self.multilabel:
            self.estimators[0].partial_fit(X, y, classes=np.arange(self.n_labels))
            return
        for j, estimator in enumerate(self.estimators):
            estimator.partial_fit(X, y[:, j], classes=np.arange(2))

    def predict(self, X: Any) -> tuple[np.ndarray, np.ndarray | None]:
        import numpy as np

        from bench.learn.models import predict_with_scores

        if not self.multilabel:
            return predict_with_scores(self.estimators[0], X, n_labels=self.n_labels)
        parts = [predict_with_scores(e, X, n_labels=2) for e in self.estimators]
        pred = np.column_stack([np.asarray(p, dtype=np.int64) for p, _ in parts])
        if any(s is None for _, s in parts):
            return pred, None
        return pred, np.column_stack([s[:, 1] for _, s in parts])


def _transform(job: Job, chunk: pd.DataFrame) -> Any:
    """A chunk's feature rows: stateless blocks give each row the vector the in-memory path gives it."""
    from bench.learn.features import fit_features

    # stateless blocks ignore what they are "fitted" on (one row: scikit-learn refuses none)
    mats = fit_features(job.features, job.blocks, chunk.iloc[:1], chunk, stance=job.dataset.task == "stance",
                        seed=0)
    return mats.X_test


@dataclass(frozen=True)
class _Piece:
    """One featurized chunk: features, labels, the columns kept for the predictions, seconds spent."""

    X: Any
    y: Any
    kept: Any
    seconds: float


@functools.lru_cache(maxsize=2)
def _cached_table(path: Path, split: str, columns: tuple[str, ...], fingerprint: str) -> Any:
    from bench.corpus import open_dataset

    del fingerprint  # part of the cache key only
    return _table(open_dataset(path), split, columns)


def _featurize(job: Job, split: str, columns: tuple[str, ...], keep: tuple[str, ...], k: int) -> _Piece:
    """Read chunk ``k`` of a split (memory-mapped) and featurize it; runs in this process or a helper."""
    ds = job.dataset
    chunk_rows = job.evaluation.streaming.chunk_rows
    chunk = _cached_table(ds.path, split, columns, ds.fingerprint).slice(k * chunk_rows, chunk_rows).to_pandas()
    start = time.perf_counter()
    X = _transform(job, chunk)
    return _Piece(X=X, y=_labels(chunk, ds), kept=chunk[list(keep)], seconds=time.perf_counter() - start)


def feature_workers(job: Job) -> int:
    """Helper processes for ``job`` (1: none). A daemon process (a Dask worker) may not have children."""
    return usable_workers(job.evaluation.streaming.workers)


def _pieces(job: Job, split: str, columns: tuple[str, ...], keep: tuple[str, ...],
            order: Sequence[int]) -> Iterator[_Piece]:
    """Featurized chunks in ``order``; with helper processes, up to ``workers + 1`` chunks ahead.

    The model sees the chunks in the same order whatever the number of helpers, so no
    number depends on it.
    """
    workers = feature_workers(job)
    if workers <= 1 or len(order) <= 1:
        for k in order:
            yield _featurize(job, split, columns, keep, k)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["bench.run.streaming", "bench.learn.features", "sklearn.feature_extraction.text"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from in_order(pool, (functools.partial(_featurize, job, split, columns, keep, k) for k in order),
                            ahead=workers)


def run_streaming_job(job: Job) -> JobResult:
    """Train chunk by chunk, predict chunk by chunk, score the whole test split; writes nothing."""
    import numpy as np
    import pandas as pd

    from bench.run.predictions import class_report, prediction_frame
    from bench.run.runner import JobResult, score_job

    start = time.perf_counter()
    ds, ev, settings = job.dataset, job.evaluation, job.evaluation.streaming
    if ev.cv is not None or ev.test is None:
        raise DataError(ds.path, None, "evaluation.streaming", "streaming needs a test split, not cv; set "
                        "evaluation.test or streaming: false")
    columns = ("id", "text", "label") + (("target",) if ds.task == "stance" else ())
    keep = ("id",) + (("target",) if ev.by_target else ())
    learner = _Learner(job.model, seed=job.seed, n_labels=len(ds.labels), multilabel=ds.multilabel)
    rng = np.random.default_rng([job.seed, 0x5712EA])
    n_train, n_test = n_rows(ds, ev.train), n_rows(ds, ev.test)
    n_chunks = -(-n_train // settings.chunk_rows)
    feature_s = fit_s = predict_s = 0.0
    n_features = 0
    # every epoch visits the train chunks in an order drawn from the seed
    order = [int(k) for _ in range(settings.epochs) for k in rng.permutation(n_chunks)]
    for piece in _pieces(job, ev.train, columns, (), order):
        t0 = time.perf_counter()
        learner.partial_fit(piece.X, piece.y)
        feature_s, fit_s = feature_s + piece.seconds, fit_s + time.perf_counter() - t0
        n_features = piece.X.shape[1]
    golds, preds, scores, frames = [], [], [], []
    for piece in _pieces(job, ev.test, columns, keep, range(-(-n_test // settings.chunk_rows))):
        t0 = time.perf_counter()
        pred, score = learner.predict(piece.X)
        feature_s, predict_s = feature_s + piece.seconds, predict_s + time.perf_counter() - t0
        golds.append(piece.y)
        preds.append(np.asarray(pred, dtype=np.int64))
        scores.append(score)
        frames.append(piece.kept)
    test = pd.concat(frames, ignore_index=True)
    y_true, y_pred = np.concatenate(golds), np.concatenate(preds)
    y_scores = None if any(s is None for s in scores) else np.concatenate(scores)
    labels = list(ds.labels)
    rows = score_job(job, test, y_true, y_pred, y_scores, fold=None, split=ev.test, bootstrap=True)
    report = {"dataset": ds.name, "features": job.features.name, "model": job.model.name, "seed": job.seed,
              "split": ev.test, "n_train": int(n_train), "n_test": int(len(y_true)), "n_features": int(n_features),
              **class_report(y_true, y_pred, labels, ds.multilabel),
              "streaming": {"chunk_rows": settings.chunk_rows, "epochs": settings.epochs, "train_chunks": n_chunks}}
    predictions = prediction_frame(test, y_true, y_pred, y_scores, labels, ds.multilabel)
    return JobResult(job_id=job.job_id, rows=tuple(rows), predictions=predictions, report=report,
                     fit_seconds=fit_s, predict_seconds=predict_s, feature_seconds=feature_s,
                     seconds=time.perf_counter() - start)
