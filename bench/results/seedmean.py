"""The confidence interval of a seed mean, for one run's table (``bench run``, ``bench show``).

A cell of the run table is the mean of the metric over seeds. The mean of the seeds' own
bootstrap bounds is not an interval for that mean: it ignores that the seeds were a sample
of training randomness, and averaging quantiles is not a quantile of the average. So for
every system with several seeds the interval is recomputed from the saved predictions by
the engine ``bench compare`` uses (``bench.metrics.joint``): item resamples applied to all
seeds at once, plus the seed part (``bench.stats.seeds``). One-seed rows keep the interval
stored with the metric rows (the same thing, and BCa when the config asks for it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.core.errors import ResultsError
from bench.metrics.joint import JointSample, resolve_metric
from bench.results.rows import prediction_labels
from bench.results.layout import SCORE_PREFIX
from bench.stats import bootstrap as bs

if TYPE_CHECKING:
    import pandas as pd

    from bench.results.store import RunDir


@dataclass(frozen=True, kw_only=True)
class SeedPredictions:
    """One system's seeds on the same sorted test items (what ``JointSample`` resamples)."""

    labels: tuple[str, ...]
    multilabel: bool
    gold: np.ndarray
    seeds: tuple[int, ...]
    preds: np.ndarray
    scores: np.ndarray | None

    @property
    def n_items(self) -> int:
        return len(self.gold)


def _jobs_by_system(run: RunDir) -> dict[tuple[str, str, str], list[tuple[int, str]]]:
    done = run.finished_jobs()
    out: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    for job_id in run.job_ids():
        if job_id not in done:
            continue
        record = run.job(job_id)
        row = {**((record.get("rows") or [{}])[0]), **record}
        if all(k in row for k in ("dataset", "features", "model", "seed")):
            key = (str(row["dataset"]), str(row["features"]), str(row["model"]))
            out.setdefault(key, []).append((int(row["seed"]), job_id))
    return out


def load_seeds(run: RunDir, key: tuple[str, str, str], jobs: list[tuple[int, str]]) -> SeedPredictions | None:
    """Every seed's predictions of one system, sorted by item id; ``None`` if the seeds' items differ."""
    info = (run.manifest.get("datasets") or {}).get(key[0])
    if info is None:
        return None
    labels, multilabel = tuple(info["labels"]), bool(info.get("multilabel"))
    ids, gold, preds, scores = None, None, [], []
    for _, job_id in sorted(jobs):
        frame = run.predictions(job_id).sort_values("id", kind="stable")
        where = str(run.predictions_path(job_id))
        job_ids = frame["id"].astype(str).to_numpy()
        if ids is None:
            ids, gold = job_ids, prediction_labels(frame["gold"].tolist(), labels, multilabel, where)
        elif not np.array_equal(ids, job_ids):
            return None
        preds.append(prediction_labels(frame["pred"].tolist(), labels, multilabel, where))
        columns = [f"{SCORE_PREFIX}{label}" for label in labels]
        scores.append(frame[columns].to_numpy(np.float64) if all(c in frame for c in columns) else None)
    return SeedPredictions(labels=labels, multilabel=multilabel, gold=np.asarray(gold),
                           seeds=tuple(sorted(s for s, _ in jobs)), preds=np.stack(preds),
                           scores=None if any(s is None for s in scores) else np.stack(scores))


def _rng(seed: int, *names: Any) -> np.random.Generator:
    digest = hashlib.sha256("\0".join(map(str, names)).encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def seed_mean_intervals(run: RunDir, summary: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``summary`` with the CI of every several-seed row replaced by the CI of its seed mean.

    Adds ``seed_share`` (share of the interval's variance due to seeds) and ``undefined``
    (item resamples where the metric was undefined, left out). Rows by target get no
    interval (NaN): their seed mean is not resampled here.
    """
    out = summary.copy()
    out["seed_share"] = 0.0
    boot = (run.manifest.get("evaluation") or {}).get("bootstrap")
    several = out["n_seeds"] >= 2
    if not boot or not several.any():
        return out
    out.loc[several, ["ci_low", "ci_high", "undefined"]] = [np.nan, np.nan, 0]
    jobs = _jobs_by_system(run)
    loaded: dict[tuple[str, str, str], SeedPredictions | None] = {}
    for index in out.index[several & (out["target"] == "")]:
        rec = out.loc[index]
        key = (str(rec["dataset"]), str(rec["features"]), str(rec["model"]))
        if key not in loaded:
            loaded[key] = load_seeds(run, key, jobs.get(key, []))
        system = loaded[key]
        if system is None:
            continue
        try:
            joint = JointSample([system], resolve_metric(str(rec["metric"])))
        except (ResultsError, ValueError):
            continue
        aware = joint.seed_aware(int(boot["samples"]), _rng(seed, *key, rec["metric"]), [1.0])
        ci = bs.interval(aware.draws, np.asarray(aware.point), float(boot["confidence"]))
        out.loc[index, ["ci_low", "ci_high", "seed_share", "undefined"]] = [
            float(ci.low), float(ci.high), aware.seed_share, aware.undefined]
    return out
