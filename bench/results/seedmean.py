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

from typing import TYPE_CHECKING

import numpy as np

from bench.core.errors import ResultsError
from bench.metrics.joint import JointSample, resolve_metric
from bench.results.seed_predictions import System, SeedPredictions, jobs_by_system, load_seed_predictions
from bench.results.transfer import label_dataset
from bench.stats import bootstrap as bs

if TYPE_CHECKING:
    import pandas as pd

    from bench.results.store import RunDir


def load_seeds(run: RunDir, key: System, jobs: list[tuple[int, str]]) -> SeedPredictions | None:
    """Every seed's predictions of one system; ``None`` where they cannot be resampled together."""
    info = (run.manifest.get("datasets") or {}).get(label_dataset(key[0]))
    if info is None or not jobs:
        return None
    try:
        return load_seed_predictions(run, jobs, tuple(info["labels"]), bool(info.get("multilabel")))
    except ResultsError:  # seeds scored on different items: no joint interval, the cell shows none
        return None


def seed_mean_intervals(run: RunDir, summary: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``summary`` with the CI of every several-seed row replaced by the CI of its seed mean.

    Adds ``seed_share`` (share of the interval's variance due to seeds) and ``undefined``
    (item resamples where the metric was undefined, left out). Rows by target get no
    interval (NaN): their seed mean is not resampled here; nor do rows by drift window.
    """
    out = summary.copy()
    out["seed_share"] = 0.0
    boot = (run.manifest.get("evaluation") or {}).get("bootstrap")
    several = out["n_seeds"] >= 2
    if not boot or not several.any():
        return out
    out.loc[several, ["ci_low", "ci_high", "undefined"]] = [np.nan, np.nan, 0]
    jobs = jobs_by_system(run)
    loaded: dict[System, SeedPredictions | None] = {}
    whole = out["target"] == ""
    if "window" in out:  # a drift window is a slice like a target: its seed mean is not resampled here
        whole &= out["window"] == ""
    for index in out.index[several & whole]:
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
        aware = joint.seed_aware(int(boot["samples"]), bs.named_rng(seed, *key, rec["metric"]), [1.0])
        ci = bs.interval(aware.draws, np.asarray(aware.point), float(boot["confidence"]))
        out.loc[index, ["ci_low", "ci_high", "seed_share", "undefined"]] = [
            float(ci.low), float(ci.high), aware.seed_share, aware.undefined]
    return out
