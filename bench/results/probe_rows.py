"""Metric rows of robustness probes: the probe's score and its difference from the clean text.

A probe row is a pooled metric row (``bench.results.rows``) with ``probe`` set, the number
of items the probe changed (``n_changed``), and ``delta = metric(probe) - metric(clean)``
with a paired bootstrap interval (``delta_ci_low``/``delta_ci_high``): the same resample of
the test items is applied to the clean and the probe predictions of the same trained model
(``bench.metrics.joint.JointSample``), so the interval is about this model on these items
and is narrow when few items change. Its stream is named by the job's seed, the probe and
the metric (``named_rng``), so it does not change when probes or metrics are added. Intervals
are percentile intervals even under ``method: bca`` (BCa needs a jackknife of the delta that
the joint engine does not provide); without a bootstrap the delta has no interval.

``bench run`` builds these rows from the arrays it holds and ``bench rescore`` from the
saved ``predictions/<job>.probes.parquet`` through the same function, so rescoring
reproduces them bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.core.errors import ResultsError
from bench.results.layout import SCORE_PREFIX
from bench.results.rows import RowKey, metric_rows, prediction_labels
from bench.results.seed_predictions import SeedPredictions

if TYPE_CHECKING:
    import pandas as pd

    from bench.config.spec import BootstrapSpec

PROBE_FIELDS = ("probe", "n_changed", "delta", "delta_ci_low", "delta_ci_high")


def probe_rows(key: RowKey, probe: str, *, y_true: np.ndarray, clean: tuple[np.ndarray, np.ndarray | None],
               probed: tuple[np.ndarray, np.ndarray | None], labels: Sequence[str], metrics: Sequence[str],
               bootstrap: BootstrapSpec | None, n_changed: int, where: str | None = None) -> list[dict[str, Any]]:
    """Pooled rows of one probe, with ``n_changed`` and the paired delta against the clean predictions.

    Args:
        clean, probed: ``(pred, scores)`` of the same items in the same order.
    """
    from bench.metrics.joint import JointSample, resolve_metric
    from bench.stats.bootstrap import interval, named_rng

    labels = tuple(labels)
    rows = metric_rows(replace(key, probe=probe), y_true=y_true, y_pred=probed[0], scores=probed[1], labels=labels,
                       metrics=metrics, bootstrap=bootstrap, fold=None, where=where)
    systems = [SeedPredictions(labels=labels, multilabel=y_true.ndim == 2, ids=np.arange(len(y_true)), gold=y_true,
                               seeds=(key.seed,), preds=pred[None], scores=None if scores is None else scores[None])
               for pred, scores in (clean, probed)]
    for row in rows:
        sample = JointSample(systems, resolve_metric(row["metric"]))
        clean_value, probe_value = sample.points()
        delta = float(probe_value - clean_value)
        low = high = None
        if bootstrap is not None:
            draws = sample.draws(bootstrap.samples, named_rng(key.seed, "probe-delta", probe, row["metric"]))
            ci = interval(draws[:, 1] - draws[:, 0], np.asarray(delta), bootstrap.confidence)
            if not np.isnan(ci.low):
                low, high = float(ci.low), float(ci.high)
        row.update(n_changed=int(n_changed), delta=delta, delta_ci_low=low, delta_ci_high=high)
    return rows


def _arrays(frame: pd.DataFrame, labels: tuple[str, ...], multilabel: bool,
            where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    columns = [f"{SCORE_PREFIX}{label}" for label in labels]
    scores = frame[columns].to_numpy(np.float64) if all(c in frame.columns for c in columns) else None
    return (prediction_labels(frame["gold"].tolist(), labels, multilabel, where),
            prediction_labels(frame["pred"].tolist(), labels, multilabel, where), scores)


def score_probe_frame(clean: pd.DataFrame, probes: pd.DataFrame, key: RowKey, *, labels: Sequence[str],
                      multilabel: bool, metrics: Sequence[str], bootstrap: BootstrapSpec | None,
                      where: str) -> list[dict[str, Any]]:
    """Probe rows from saved predictions: the clean frame and ``<job>.probes.parquet`` (probes in file order).

    Raises:
        ResultsError: a probe scored on other items than the clean predictions.
    """
    labels = tuple(labels)
    y_true, pred, scores = _arrays(clean, labels, multilabel, where)
    ids = clean["id"].astype(str).to_numpy()
    rows: list[dict[str, Any]] = []
    for probe in dict.fromkeys(probes["probe"].astype(str)):
        part = probes[probes["probe"].astype(str) == probe]
        order = {item: i for i, item in enumerate(part["id"].astype(str))}
        if len(order) != len(part) or set(order) != set(ids):
            raise ResultsError(f"{where}: probe {probe!r} has other items than the clean predictions; the run "
                               "folder is damaged (rerun the job)")
        part = part.iloc[[order[item] for item in ids]]
        gold, probe_pred, probe_scores = _arrays(part, labels, multilabel, where)
        if not np.array_equal(gold, y_true):
            raise ResultsError(f"{where}: probe {probe!r} has other gold labels than the clean predictions; the "
                               "run folder is damaged (rerun the job)")
        rows += probe_rows(key, probe, y_true=y_true, clean=(pred, scores), probed=(probe_pred, probe_scores),
                           labels=labels, metrics=metrics, bootstrap=bootstrap,
                           n_changed=int(part["changed"].sum()), where=where)
    return rows
