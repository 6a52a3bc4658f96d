"""Jobs: ``plan`` expands a config into jobs; ``run_job`` trains and scores one, with no results I/O.

A job is one (dataset, feature block, model, seed). It is evaluated on one *unit* (the
train/test splits) or on k units (the CV folds of the train split): ``bench.run.units``.
Feature blocks do not depend on the model or the seed, so they are fitted by
``FeatureTask``s before any model job, once per (dataset, block, unit), and stored in the
on-disk ``FeatureCache``; model jobs then read them from the cache.

Metric rows follow docs/results.md and come from ``bench.results.rows``. With CV, the pooled
out-of-fold predictions give the rows with ``fold: null`` (with bootstrap CIs) and each fold
gives rows with ``fold: i`` (no CIs: a fold is a slice of the pooled sample, not an
independent test set).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.config.spec import EvaluationSpec, FeatureSpec, ModelSpec, RunConfig
from bench.core.errors import BenchError, DataError
from bench.learn.fitcontext import FitContext, fitting
from bench.results.naming import make_job_id, safe_part
from bench.results.rows import RowKey, metric_rows
from bench.run.probes import ProbeRun
from bench.run.units import Unit, feature_seed, make_units, n_units, transfer_unit, unit_features

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from bench.corpus import BuiltDataset
    from bench.learn.feature_types import FeatureMatrices
    from bench.run.transfer import Pair

@dataclass(frozen=True, kw_only=True)
class _Work:
    """What feature tasks and model jobs both need: a dataset, a feature block, how to evaluate.

    A transfer job (``bench.run.transfer``) also has ``source``, the dataset it trains on, and
    its ``pair``; ``dataset`` is then the test dataset, as in its rows.
    """

    dataset: BuiltDataset
    features: FeatureSpec
    blocks: Mapping[str, FeatureSpec]
    evaluation: EvaluationSpec
    cache_dir: Path
    source: BuiltDataset | None = None
    pair: Pair | None = None

    @property
    def labels(self) -> list[str]:
        """The label space of the model and the metrics: the train dataset's."""
        return list((self.source or self.dataset).labels)

    @property
    def fingerprint(self) -> str:
        """What names the data in the feature cache key (both datasets for a transfer pair)."""
        if self.source is None or self.pair is None:
            return self.dataset.fingerprint
        from bench.run.transfer import pair_fingerprint

        return pair_fingerprint(self.source, self.dataset, self.pair)

    def units(self, folds: Sequence[int | None] | None = None) -> list[Unit]:
        """The units this work is evaluated on (one for a transfer pair)."""
        if self.source is None or self.pair is None:
            return make_units(self.dataset, self.evaluation, folds)
        return [transfer_unit(self.source, self.dataset, self.evaluation, self.pair)]


@dataclass(frozen=True, kw_only=True)
class FeatureTask(_Work):
    """Fit one feature block on one unit of one dataset and put it in the cache."""

    task_id: str
    fold: int | None


@dataclass(frozen=True, kw_only=True)
class Job(_Work):
    """One (dataset, feature block, model, seed) of the grid."""

    job_id: str
    model: ModelSpec
    seed: int
    fit_context: FitContext | None = None  # checkpoint folder and progress lines (bench.learn.fitcontext)

    def row_key(self, split: str) -> RowKey:
        """What every metric row of this job repeats."""
        return RowKey(dataset=self.dataset.name, features=self.features.name, model=self.model.name,
                      seed=self.seed, split=split, train_dataset=self.source.name if self.source else None)


@dataclass(frozen=True, kw_only=True)
class JobResult:
    """What one job computed: metric rows, predictions and a report; saved by ``bench.results.store``."""

    job_id: str
    rows: tuple[dict[str, Any], ...]
    predictions: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)
    probe_predictions: pd.DataFrame | None = None  # robustness probes (bench.run.probes), saved beside predictions
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    feature_seconds: float = 0.0
    seconds: float = 0.0

    def timings(self) -> dict[str, float]:
        """Seconds spent, for the manifest."""
        return {"fit_seconds": round(self.fit_seconds, 4), "predict_seconds": round(self.predict_seconds, 4),
                "feature_seconds": round(self.feature_seconds, 4), "seconds": round(self.seconds, 4)}

    def record(self) -> dict[str, Any]:
        """The ``jobs/<job_id>.json`` content."""
        return {"job_id": self.job_id, "status": "done", **self.timings(), **self.report, "rows": list(self.rows)}


def job_grid(config: RunConfig) -> list[tuple[FeatureSpec | None, ModelSpec]]:
    """(feature block, model) of each job of one dataset and seed, in the grid's order.

    A model on feature blocks pairs with every block (or those in its ``blocks``); a text-in model (docs/models.md) reads
    the texts, so it pairs with none (``None``) and forms one job under the pseudo block ``text``.
    """
    from bench.learn.models import model_input

    text_in = [m for m in config.models if model_input(m) == "text"]
    return [(f, m) for f in config.features for m in config.models
            if m not in text_in and (m.blocks is None or f.name in m.blocks)] + [
        (None, m) for m in text_in]


def plan(config: RunConfig, datasets: Mapping[str, BuiltDataset], cache_dir: Path) -> list[Job]:
    """The job grid in a stable order: datasets, then features, then models, then seeds.

    Args:
        config: the checked config.
        datasets: the built dataset of each ``config.datasets`` entry.
        cache_dir: the feature cache folder.
    """
    from bench.learn.models import TEXT_BLOCK

    blocks = {f.name: f for f in config.features}
    text = FeatureSpec(name=TEXT_BLOCK, kind=TEXT_BLOCK)  # text-in models' pseudo block: fits nothing
    if config.evaluation.transfer is not None:
        import dataclasses

        from bench.config.spec import StreamingSpec
        from bench.run.transfer import dataset_pairs

        # the streaming path reads job.dataset's train split: a transfer job trains on another dataset
        evaluation = dataclasses.replace(config.evaluation, streaming=StreamingSpec(enabled=False))
        return _unique([Job(job_id=make_job_id(f"{source.name}_to_{target.name}", (feat or text).name, model.name, seed),
                            dataset=target, source=source, pair=pair, features=feat or text, blocks=blocks,
                            model=model, seed=seed, evaluation=evaluation, cache_dir=cache_dir)
                        for source, target, pair in dataset_pairs(config.evaluation, datasets.values())
                        for feat, model in job_grid(config) for seed in config.seeds])
    return _unique([Job(job_id=make_job_id(datasets[entry].name, (feat or text).name, model.name, seed),
                dataset=datasets[entry], features=feat or text,
                blocks=blocks, model=model, seed=seed, evaluation=config.evaluation, cache_dir=cache_dir)
            for entry in config.datasets for feat, model in job_grid(config) for seed in config.seeds])


def _unique(jobs: list[Job]) -> list[Job]:
    """``jobs``, or a ``DataError`` when two get the same id."""
    seen: dict[str, Job] = {}
    for job in jobs:
        if job.job_id in seen:
            raise DataError(job.dataset.path, None, "datasets", f"two jobs get the id {job.job_id!r}; "
                            "give the datasets, features or models names that differ in letters or digits")
        seen[job.job_id] = job
    return jobs


def plan_features(jobs: Sequence[Job]) -> list[list[FeatureTask]]:
    """Feature tasks in waves: plain blocks first, then unions (which reuse their cached members)."""
    waves: list[list[FeatureTask]] = [[], []]
    seen: set[str] = set()
    for job in jobs:
        if job.features.kind == "text":
            continue  # a text-in model: nothing to fit before it
        for fold in (range(n_units(job.dataset, job.evaluation)) if job.evaluation.cv else [None]):
            data = (f"{safe_part(job.source.name)}_to_" if job.source else "") + safe_part(job.dataset.name)
            task_id = f"{data}__{safe_part(job.features.name)}" + (
                f"__f{fold}" if fold is not None else "")
            if task_id in seen:
                continue
            seen.add(task_id)
            wave = 1 if job.features.kind == "union" else 0
            waves[wave].append(FeatureTask(task_id=task_id, dataset=job.dataset, features=job.features,
                                           blocks=job.blocks, evaluation=job.evaluation, fold=fold,
                                           cache_dir=job.cache_dir, source=job.source, pair=job.pair))
    return [w for w in waves if w]


def fit_feature_task(task: FeatureTask) -> float:
    """Fit (or find in the cache) one feature block on one unit; returns the seconds spent."""
    start = time.perf_counter()
    folds = None if task.fold is None else [task.fold]
    for unit in task.units(folds):
        unit_features(task.dataset, task.features, task.blocks, unit, task.cache_dir, feature_seed(task.evaluation),
                      task.fingerprint)
    return time.perf_counter() - start


# --- one job ---------------------------------------------------------------------------------


def run_job(job: Job) -> JobResult:
    """Train and score one job on every unit; reads data and the feature cache, writes nothing else."""
    import numpy as np
    import pandas as pd

    from bench.learn.models import TEXT_BLOCK, text_inputs
    from bench.learn.tasks import dataset_labels, fit_predict
    from bench.run.predictions import class_report, prediction_frame

    start = time.perf_counter()
    ds, labels = job.dataset, job.labels
    golds, preds, scores, frames, rows, train_sizes = [], [], [], [], [], []
    fit_s = predict_s = feature_s = 0.0
    n_features = 0
    tuned: list[dict[str, Any]] = []
    training: list[dict[str, Any]] = []  # what models report of their fits (a transformer: device, epochs)
    probes = ProbeRun.for_job(job)  # perturbed test rows, predicted by the same fitted model
    for unit in job.units():
        model = job.model
        if model.tune is not None:  # inner CV on unit.train only; the outer test rows are not passed
            t0 = time.perf_counter()
            model, record = _tuned_model(job, unit)
            tuned.append(record)
            fit_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        if job.features.kind == "text":
            X_train, X_test = (text_inputs(unit.train, stance=ds.task == "stance"),
                               text_inputs(unit.test, stance=ds.task == "stance"))
        else:
            mats = unit_features(ds, job.features, job.blocks, unit, job.cache_dir, feature_seed(job.evaluation),
                                 job.fingerprint)
            X_train, X_test, n_features = mats.X_train, mats.X_test, mats.n_features
        X_test = probes.stack(unit, X_test)
        feature_s += time.perf_counter() - t0
        train_sizes.append(len(unit.train))
        y_train = dataset_labels(unit.train, labels, ds.multilabel)
        y_test = dataset_labels(unit.test, labels, ds.multilabel)
        targets = {}
        if job.model.per_target:
            targets = {"train_targets": unit.train["target"].astype(str).to_numpy(),
                       "test_targets": unit.test["target"].astype(str).to_numpy()}
        targets = probes.route(targets)
        context = (job.fit_context or FitContext(label=job.job_id)).for_unit(unit.fold)
        try:
            with fitting(context):
                out = fit_predict(model, X_train, y_train, X_test, seed=job.seed,
                                  multilabel=ds.multilabel, n_labels=len(labels), **targets)
        except (TypeError, ValueError, AttributeError) as exc:
            if job.features.kind != TEXT_BLOCK or isinstance(exc, BenchError):
                raise
            raise _text_model_error(job, exc) from None
        out = probes.split(out, unit, y_test)
        training += [context.report] if context.report else []
        fit_s += out.fit_seconds
        predict_s += out.predict_seconds
        if unit.fold is not None:
            rows += score_job(job, unit.test, y_test, out.pred, out.scores, fold=unit.fold, split=unit.split,
                              bootstrap=False, held_out_target=unit.held_out_target)
        golds.append(y_test)
        preds.append(out.pred)
        scores.append(out.scores)
        frames.append(unit.test.assign(fold=unit.fold) if unit.fold is not None else unit.test)
    test = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    y_true, y_pred = np.concatenate(golds), np.concatenate(preds)
    y_scores = None if any(s is None for s in scores) else np.concatenate(scores)
    split = job.evaluation.test or job.evaluation.train
    pooled = score_job(job, test, y_true, y_pred, y_scores, fold=None, split=split, bootstrap=True)
    report = {"dataset": ds.name, **({"train_dataset": job.source.name} if job.source else {}),
              "features": job.features.name, "model": job.model.name, "seed": job.seed,
              # rows the model learned from (per CV fold, their mean), after any train_subset
              "split": split, "n_train": int(round(float(np.mean(train_sizes)))), "n_test": int(len(y_true)),
              "n_features": int(n_features), **class_report(y_true, y_pred, labels, ds.multilabel)}
    if tuned:  # chosen parameters per unit (CV: per outer fold) and every candidate's inner CV score
        report.update(params=[t["params"] for t in tuned], tuning=tuned)
    if training:
        report.update(training=training)
    predictions = prediction_frame(test, y_true, y_pred, y_scores, labels, ds.multilabel)
    report.update(probes.report(len(y_true)))
    rows += probes.rows(predictions, split)
    return JobResult(job_id=job.job_id, rows=tuple(pooled + rows), predictions=predictions, report=report,
                     probe_predictions=probes.predictions(),
                     fit_seconds=fit_s, predict_seconds=predict_s, feature_seconds=feature_s,
                     seconds=time.perf_counter() - start)


def _text_model_error(job: Job, exc: Exception) -> BenchError:
    """A text-in model that fails on what it is given: one line that says what X is."""
    given = "(target, text) tuples" if job.dataset.task == "stance" else "a list of texts"
    first = (str(exc).splitlines() or [""])[0]
    return BenchError(f"model {job.model.name!r} ({job.model.estimator}) failed on dataset {job.dataset.name!r}: "
                      f"{type(exc).__name__}: {first}; a text-in model gets {given} as X (docs/models.md)")


def _tuned_model(job: Job, unit: Unit) -> tuple[ModelSpec, dict[str, Any]]:
    """The job's model with the parameters its search chose on ``unit.train``, and the search's record."""
    from bench.run.tuning import search, with_params

    fseed = feature_seed(job.evaluation)

    def features_for(inner_train: pd.DataFrame, inner_test: pd.DataFrame) -> FeatureMatrices:
        inner = Unit(fold=unit.fold, split=unit.split, train=inner_train, test=inner_test)
        return unit_features(job.dataset, job.features, job.blocks, inner, job.cache_dir, fseed, job.fingerprint)

    result = search(job.model, unit.train, labels=job.labels, multilabel=job.dataset.multilabel,
                    features_for=features_for, fold_seed=fseed, seed=job.seed)
    return with_params(job.model, result.params), result.record(unit.fold)


def score_job(job: Job, test: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray | None,
              *, fold: int | None, split: str, bootstrap: bool,
              held_out_target: str | None = None) -> list[dict[str, Any]]:
    """Metric rows for one sample, overall, (with ``by_target``) per target value and (drift) per window."""
    from bench.results.windows import Windows, window_names

    ev = job.evaluation
    targets = test["target"].astype(str).to_numpy() if ev.by_target else None
    windows = None
    if ev.drift is not None and fold is None:
        of_item = test["window"].astype(str).to_numpy()
        windows = Windows(of_item=of_item, names=window_names(ev.drift, sorted(set(of_item.tolist()))),
                          min_items=ev.drift.min_items)
    return metric_rows(job.row_key(split), y_true=y_true, y_pred=y_pred, scores=scores, labels=job.labels,
                       metrics=ev.metrics, bootstrap=ev.bootstrap if bootstrap else None, fold=fold, targets=targets,
                       windows=windows, held_out_target=held_out_target)
