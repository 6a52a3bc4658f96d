"""Saved predictions of a run, grouped by system and aligned on item ids.

A *system* is ``(dataset, features, model)``; a run holds one job per system and seed.
``load_outputs`` reads every job's predictions once and returns, per system, the gold
labels and each seed's predictions as label indices, sorted by item id, so that two runs
can be paired item by item. Pairing refuses, in one line, test sets whose item ids, gold
labels or label sets differ: a paired test on different items is meaningless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.core.errors import ResultsError
from bench.results.seed_predictions import SeedPredictions, jobs_by_system, load_seed_predictions
from bench.results.transfer import label_dataset, test_dataset

if TYPE_CHECKING:
    from bench.results.store import RunDir

MAJORITY_ESTIMATORS = frozenset({"majority", "dummy", "sklearn.dummy.DummyClassifier"})
# Estimators whose fit does not depend on the seed: one seed of them says everything.
DETERMINISTIC_ESTIMATORS = MAJORITY_ESTIMATORS | {"complement_nb", "multinomial_nb", "sklearn.naive_bayes.ComplementNB",
                                                  "sklearn.naive_bayes.MultinomialNB"}


@dataclass(frozen=True, order=True)
class SystemKey:
    """A row of a comparison table; a transfer system's ``dataset`` is ``train→test`` (bench.results.transfer)."""

    dataset: str
    features: str
    model: str

    def __str__(self) -> str:
        return f"{self.dataset}/{self.features}/{self.model}"


@dataclass(frozen=True, kw_only=True, eq=False)
class Outputs(SeedPredictions):
    """One system of one run: its seeds' predictions and what a comparison needs to know of it.

    Attributes:
        key: the system.
        run: the run folder name (for messages).
        is_majority: the model is a majority-class (dummy) baseline.
        deterministic: the model's fit does not depend on the seed (majority, naive Bayes).
        stream: what names the run's random streams: its config hash (or name), not its folder,
            so that re-running the same configs and comparing them again gives the same numbers.
    """

    key: SystemKey
    run: str
    is_majority: bool
    deterministic: bool = False
    stream: str = ""

    @property
    def stream_name(self) -> str:
        """The name of this run's random streams (``stream``, else the folder name)."""
        return self.stream or self.run

    def correct(self) -> np.ndarray:
        """Per seed and item, whether the prediction is right (exact set match if multi-label)."""
        if self.multilabel:
            return (self.preds == self.gold[None]).all(axis=2)
        return self.preds == self.gold[None]

    def vote(self) -> np.ndarray:
        """The majority vote over seeds, like ``gold`` (ties go to the first label)."""
        if self.preds.shape[0] == 1:
            return self.preds[0]
        if self.multilabel:
            return (2 * self.preds.sum(axis=0) > self.preds.shape[0]).astype(self.preds.dtype)
        k = len(self.labels)
        counts = np.zeros((self.n_items, k), dtype=np.int64)
        for pred in self.preds:
            counts[np.arange(self.n_items), pred] += 1
        return counts.argmax(axis=1)


def _models_in(config: Any, estimators: frozenset[str]) -> set[str]:
    models = (config or {}).get("models", []) if isinstance(config, dict) else []
    return {str(m.get("name")) for m in models
            if isinstance(m, dict) and (m.get("estimator") in estimators or m.get("name") == "majority")}


def load_outputs(run: RunDir) -> dict[SystemKey, Outputs]:
    """Every finished job's predictions, grouped by system; seeds sorted, items sorted by id."""
    manifest = run.manifest
    datasets = manifest.get("datasets", {})
    try:
        majority = _models_in(run.config, MAJORITY_ESTIMATORS)
        deterministic = _models_in(run.config, DETERMINISTIC_ESTIMATORS)
    except ResultsError:
        majority = deterministic = set()
    by_key = {SystemKey(*system): jobs for system, jobs in jobs_by_system(run).items()}
    out = {}
    for key, jobs in sorted(by_key.items()):
        # a transfer system (dataset ``train→test``) predicts in its train dataset's label space
        info = datasets.get(label_dataset(key.dataset))
        if info is None or test_dataset(key.dataset) not in datasets:
            raise ResultsError(f"{run.manifest_path}: datasets: no entry for {key.dataset!r}; "
                               "the run folder is damaged")
        out[key] = _load_system(run, key, jobs, tuple(info["labels"]), bool(info.get("multilabel")),
                                key.model in majority or key.model == "majority", key.model in deterministic)
    return out


def _load_system(run: RunDir, key: SystemKey, jobs: list[tuple[int, str]], labels: tuple[str, ...],
                 multilabel: bool, is_majority: bool, deterministic: bool) -> Outputs:
    seeds = load_seed_predictions(run, jobs, labels, multilabel)
    return Outputs(
        key=key, run=run.path.name, labels=labels, multilabel=multilabel, ids=seeds.ids, gold=seeds.gold,
        seeds=seeds.seeds, preds=seeds.preds, scores=seeds.scores, is_majority=is_majority,
        deterministic=deterministic or is_majority,
        stream=str(run.manifest.get("config_hash") or run.manifest.get("name") or run.path.name),
    )


def check_paired(a: Outputs, b: Outputs) -> None:
    """Refuse, in one line, to pair systems scored on different items, golds or label sets."""
    what = f"cannot pair {b.run} with {a.run} on {a.key.dataset}"
    if a.labels != b.labels:
        raise ResultsError(f"{what}: label sets differ ({list(a.labels)} vs {list(b.labels)}); "
                           "compare runs on the same dataset build")
    if a.multilabel != b.multilabel:
        raise ResultsError(f"{what}: one is multi-label and the other not; compare runs on the same dataset build")
    if not np.array_equal(a.ids, b.ids):
        only_a = np.setdiff1d(a.ids, b.ids)
        only_b = np.setdiff1d(b.ids, a.ids)
        example = (only_a[:1].tolist() or only_b[:1].tolist() or ["?"])[0]
        raise ResultsError(f"{what}: test item ids differ ({len(only_a)} only in {a.run}, {len(only_b)} only in "
                           f"{b.run}, e.g. {example!r}); paired tests need the same test items")
    if not np.array_equal(a.gold, b.gold):
        diff = np.flatnonzero((a.gold != b.gold).reshape(a.n_items, -1).any(axis=1))
        raise ResultsError(f"{what}: gold labels differ on {len(diff)} items (e.g. {a.ids[diff[0]]!r}); "
                           "the runs used different dataset builds")
