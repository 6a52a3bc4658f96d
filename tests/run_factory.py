"""Run folders for tests, written through ``bench.results.store.RunDir`` in the shape ``bench run`` writes.

Predictions are simulated: a classifier with a chosen accuracy on a gold sequence, with
errors spread over the other labels. Metric rows come from ``bench.results.rows.score_frame``,
the same scoring ``bench run`` uses, so the runs look exactly like real ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from bench.config.spec import BootstrapSpec
from bench.results.naming import make_job_id
from bench.results.rows import RowKey, score_frame
from bench.results.store import RunDir

LABELS = ("agree", "disagree", "discuss", "unrelated")


@dataclass(frozen=True, kw_only=True)
class Job:
    """One simulated job: predictions of ``model`` with ``features`` and ``seed`` on ``dataset``."""

    dataset: str
    features: str
    model: str
    seed: int
    ids: Sequence[str]
    gold: Sequence[str]
    pred: Sequence[str]
    scores: np.ndarray | None = None
    estimator: str = "logistic_regression"


@dataclass(frozen=True, kw_only=True)
class DatasetInfo:
    """What the manifest says about a dataset."""

    name: str
    labels: tuple[str, ...] = LABELS
    task: str = "stance"
    multilabel: bool = False
    fingerprint: str = field(default="0" * 64)


def gold_labels(rng: np.random.Generator, n: int, labels: Sequence[str] = LABELS) -> np.ndarray:
    """``n`` gold label indices with unequal class sizes (a realistic, imbalanced test set)."""
    weights = np.linspace(1.0, 2.0, len(labels))
    return rng.choice(len(labels), size=n, p=weights / weights.sum())


def noisy(rng: np.random.Generator, gold: np.ndarray, accuracy: float, n_labels: int) -> np.ndarray:
    """Predictions right with probability ``accuracy``, otherwise another label at random."""
    wrong = rng.random(len(gold)) >= accuracy
    shift = rng.integers(1, n_labels, size=len(gold))
    return np.where(wrong, (gold + shift) % n_labels, gold)


def write_run(root: Path, name: str, jobs: Sequence[Job], datasets: Mapping[str, DatasetInfo] | None = None,
              *, metrics: Sequence[str] = ("accuracy", "f1_macro"), samples: int = 200,
              created: str = "2026-01-01T00:00:00+00:00") -> Path:
    """A complete run folder under ``root``; returns its path."""
    datasets = dict(datasets or {})
    for job in jobs:
        datasets.setdefault(job.dataset, DatasetInfo(name=job.dataset))
    bootstrap = BootstrapSpec(samples=samples)
    evaluation = {"train": "train", "test": "test", "cv": None, "metrics": list(metrics),
                  "bootstrap": {"samples": samples, "confidence": 0.95, "method": "percentile"}, "by_target": False}
    models = {(j.model, j.estimator) for j in jobs}
    config = {"name": name, "datasets": sorted(datasets),
              "features": [{"name": f, "kind": "tfidf"} for f in sorted({j.features for j in jobs})],
              "models": [{"name": m, "estimator": e} for m, e in sorted(models)],
              "seeds": sorted({j.seed for j in jobs}), "evaluation": evaluation}
    job_ids = [make_job_id(j.dataset, j.features, j.model, j.seed) for j in jobs]
    run_id = f"20260101T000000-{name}-{hashlib.sha256(repr((name, job_ids)).encode()).hexdigest()[:8]}"
    manifest = {
        "schema_version": 1, "run_id": run_id, "name": name, "status": "running", "command": ["bench", "run"],
        "created": created, "git": {"commit": None, "dirty": None}, "versions": {},
        "datasets": {d.name: {"fingerprint": d.fingerprint, "path": str(root / "data" / d.name), "task": d.task,
                              "labels": list(d.labels), "multilabel": d.multilabel, "splits": ["train", "test"]}
                     for d in datasets.values()},
        "seeds": config["seeds"], "jobs": {job_id: {"status": "pending"} for job_id in job_ids},
        "evaluation": evaluation,
    }
    run = RunDir.create(root, run_id, config_yaml=yaml.safe_dump(config, sort_keys=False), manifest=manifest)
    for job, job_id in zip(jobs, job_ids):
        info = datasets[job.dataset]
        frame = pd.DataFrame({"id": list(map(str, job.ids)), "gold": list(job.gold), "pred": list(job.pred)})
        if job.scores is not None:
            for k, label in enumerate(info.labels):
                frame[f"score:{label}"] = job.scores[:, k]
        key = RowKey(dataset=job.dataset, features=job.features, model=job.model, seed=job.seed, split="test")
        rows = score_frame(frame, key, labels=info.labels, multilabel=info.multilabel, metrics=metrics,
                           bootstrap=bootstrap)
        record = {"job_id": job_id, "status": "done", "dataset": job.dataset, "features": job.features,
                  "model": job.model, "seed": job.seed, "split": "test", "rows": rows}
        run.write_job(job_id, record, frame)
        run.set_job(job_id, status="done")
    return run.finalize().path


def simulated_job(rng: np.random.Generator, *, dataset: str, model: str, seed: int, gold: np.ndarray,
                  accuracy: float, features: str = "word", labels: Sequence[str] = LABELS,
                  estimator: str = "logistic_regression") -> Job:
    """A job whose predictions have about ``accuracy`` on ``gold`` (indices into ``labels``)."""
    pred = noisy(rng, gold, accuracy, len(labels))
    return Job(dataset=dataset, features=features, model=model, seed=seed,
               ids=[f"{dataset}-{i:05d}" for i in range(len(gold))],
               gold=[labels[g] for g in gold], pred=[labels[p] for p in pred], estimator=estimator)


def created_at(offset_seconds: int) -> str:
    """A creation time ``offset_seconds`` after a fixed origin (run order in listings)."""
    origin = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return (origin + dt.timedelta(seconds=offset_seconds)).isoformat(timespec="seconds")


def run_tiny_benchmark(folder: Path, *, cv: bool = False, by_target: bool = True) -> Path:
    """A real ``bench run`` of majority + logistic regression (2 seeds) on a tiny stance dataset.

    Returns the run folder; the built dataset is under ``folder / "data"``.
    """
    from bench.cli import main
    from tests.tiny_news import write_stance

    spec = write_stance(folder / "src", n_train=36, n_test=24)
    evaluation = "{folds: 3}" if cv else "null"
    test = "null" if cv else "test"
    config = folder / "tiny.yaml"
    config.write_text(f"""name: tiny
datasets: [{spec}]
features:
  - {{name: word, kind: tfidf}}
models:
  - {{name: majority, estimator: majority}}
  - {{name: logreg, estimator: logistic_regression}}
seeds: [0, 1]
evaluation:
  test: {test}
  cv: {evaluation}
  metrics: [accuracy, f1_macro, f_avg]
  by_target: {str(by_target).lower()}
  bootstrap: {{samples: 200}}
""", encoding="utf-8")
    results = folder / "results"
    code = main(["run", str(config), "--data", str(folder / "data"), "--results", str(results), "--quiet"])
    if code != 0:
        raise RuntimeError(f"bench run failed with exit code {code}")
    (run,) = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run
