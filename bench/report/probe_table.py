"""The report's robustness probe table: per system and probe, the score and its change from clean text.

Each line is one (run, dataset, features, model, probe): the report's metric on the clean
test items and on the probe's version of them, averaged over the system's seeds, and the
difference with a paired bootstrap interval. The interval comes from the saved predictions,
like every interval of the report: one joint resample of the test items is applied to the
clean and the probe predictions of every seed (``bench.metrics.joint.JointSample``), and the
statistic is the difference of the two seed means, so the interval is about these trained
models on these items. It uses the report's resamples, confidence and seed; with one seed it
is the same computation as the run's own ``delta_ci_low``/``delta_ci_high`` rows, on another
random stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bench.core.errors import BenchError

if TYPE_CHECKING:
    from bench.results.seed_predictions import SeedPredictions
    from bench.results.store import RunDir


@dataclass(frozen=True, kw_only=True)
class ProbeLine:
    """One system under one probe (seed means; the interval is that of ``delta``)."""

    run: str
    dataset: str
    features: str
    model: str
    probe: str
    n_seeds: int
    n: int
    n_changed: int
    clean: float
    value: float
    delta: float
    ci_low: float
    ci_high: float


def _probe_system(run: RunDir, jobs: Sequence[tuple[int, str]], probe: str,
                  clean: SeedPredictions) -> tuple[int, SeedPredictions]:
    """How many items the probe changed, and its predictions of every seed on the clean items' sorted ids."""
    from bench.results.layout import SCORE_PREFIX
    from bench.results.rows import prediction_labels
    from bench.results.seed_predictions import SeedPredictions

    labels, multilabel = clean.labels, clean.multilabel
    preds, scores, changed = [], [], 0
    for _, job_id in jobs:
        frame = run.probe_predictions(job_id)
        part = frame[frame["probe"].astype(str) == probe].sort_values("id", kind="stable")
        where = str(run.probe_predictions_path(job_id))
        if not np.array_equal(part["id"].astype(str).to_numpy(), clean.ids):
            raise BenchError(f"{where}: probe {probe!r} has other items than the clean predictions")
        preds.append(prediction_labels(part["pred"].tolist(), labels, multilabel, where))
        columns = [f"{SCORE_PREFIX}{label}" for label in labels]
        scores.append(part[columns].to_numpy(np.float64) if all(c in part for c in columns) else None)
        changed = int(part["changed"].sum())  # the same for every seed: probes do not depend on the model seed
    return changed, SeedPredictions(labels=labels, multilabel=multilabel, ids=clean.ids, gold=clean.gold,
                                    seeds=clean.seeds, preds=np.stack(preds),
                                    scores=None if any(s is None for s in scores) else np.stack(scores))


def probe_lines(runs: Sequence[RunDir], run_labels: Sequence[str], metric: str, *, samples: int,
                confidence: float, seed: int) -> tuple[list[ProbeLine], list[str]]:
    """Every probe of every system of the runs, and warnings for systems the metric cannot score.

    ``samples``, ``confidence``, ``seed``: the report's resampling settings (``ReportOptions``).
    """
    from bench.metrics.joint import JointSample, resolve_metric
    from bench.results.seed_predictions import jobs_by_system, load_seed_predictions
    from bench.stats.bootstrap import interval, named_rng

    lines: list[ProbeLine] = []
    warnings: list[str] = []
    for run, label in zip(runs, run_labels):
        datasets = run.manifest.get("datasets") or {}
        for (dataset, features, model), jobs in jobs_by_system(run).items():
            if any(run.probe_predictions(job_id) is None for _, job_id in jobs):
                continue
            info = datasets.get(dataset) or {}
            labels, multilabel = tuple(info.get("labels") or ()), bool(info.get("multilabel"))
            clean = load_seed_predictions(run, jobs, labels, multilabel)
            first = run.probe_predictions(jobs[0][1])
            for probe in dict.fromkeys(first["probe"].astype(str)):
                changed, probed = _probe_system(run, jobs, probe, clean)
                try:
                    sample = JointSample([clean, probed], resolve_metric(metric))
                    points = sample.points()
                    draws = sample.draws(samples, named_rng(
                        seed, "probe-table", label, dataset, features, model, probe, metric))
                except (ValueError, BenchError) as exc:
                    warnings.append(f"{dataset} {features}/{model} {probe}: no {metric} ({exc})")
                    continue
                delta = float(points[1] - points[0])
                ci = interval(draws[:, 1] - draws[:, 0], np.asarray(delta), confidence)
                lines.append(ProbeLine(run=label, dataset=dataset, features=features, model=model, probe=probe,
                                       n_seeds=len(clean.seeds), n=clean.n_items, n_changed=changed,
                                       clean=float(points[0]), value=float(points[1]), delta=delta,
                                       ci_low=float(ci.low), ci_high=float(ci.high)))
    return lines, warnings


def markdown(lines: Sequence[ProbeLine], metric: str, confidence: float) -> str:
    """The lines as a Markdown table (docs/generalization.md shows one)."""
    head = (f"| dataset | model | probe | items changed | {metric} clean | {metric} probe | "
            f"Δ [{confidence:.0%} CI] |\n|---|---|---|---|---|---|---|\n")
    return head + "".join(
        f"| {x.dataset} | {x.features}/{x.model} | {x.probe} | {x.n_changed} / {x.n} | {x.clean:.4f} | {x.value:.4f} | "
        f"{x.delta:+.4f} [{x.ci_low:+.4f}, {x.ci_high:+.4f}] |\n" for x in lines)
