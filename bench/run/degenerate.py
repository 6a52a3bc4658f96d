"""Degenerate data: the splits a run learns from and scores on, checked before anything trains.

A dataset with one class scores 1.0 on every metric; a label with no training rows can never
be predicted; a label with no test rows is averaged over as if measured by class-averaged
metrics. None of these is an error in the code, and each gives a number that looks fine in a
table. So a run finds them from the label counts of its splits (``stats.json``; the subset
itself with ``evaluation.train_subset``), says so on stderr (one line each), records them in
the manifest (``degenerate``) and in the results table's notes, or refuses with
``evaluation.on_degenerate: error``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bench.config.spec import EvaluationSpec, LoadedConfig
from bench.results.summary import DEGENERATE

if TYPE_CHECKING:
    from bench.corpus import BuiltDataset

MANIFEST_KEY = DEGENERATE


@dataclass(frozen=True, kw_only=True)
class Degenerate:
    """One problem of one split of one dataset, e.g. a label without training rows."""

    dataset: str
    split: str
    label: str | None
    problem: str  # single_class, no_train_rows, no_test_rows, in_every_train_row
    detail: str

    def message(self) -> str:
        """One line naming the dataset, the split and the label."""
        return f"dataset {self.dataset!r}, split {self.split!r}: {self.detail}"

    def record(self) -> dict[str, Any]:
        """What the manifest keeps (``degenerate``)."""
        return {**asdict(self), "message": self.message()}


def _train_counts(ds: BuiltDataset, evaluation: EvaluationSpec, counts: dict[str, int]) -> dict[str, int]:
    """Label counts of the rows the models learn from: the train split, or its ``train_subset``."""
    if evaluation.train_subset is None:
        return counts
    from bench.corpus import load_split
    from bench.corpus.splits import SplitError, nested_subset

    labels = load_split(ds, evaluation.train)["label"].tolist()
    first = [v[0] if isinstance(v, list) else v for v in labels]
    try:
        keep = nested_subset(first, evaluation.train_subset.size, evaluation.train_subset.seed)
    except SplitError:
        return counts  # the job reports the bad size itself
    out = dict.fromkeys(ds.labels, 0)
    for i in keep:
        for label in (labels[i] if ds.multilabel else (labels[i],)):
            out[label] += 1
    return out


def find_degenerate(ds: BuiltDataset, evaluation: EvaluationSpec) -> list[Degenerate]:
    """The degenerate splits and labels of one dataset under ``evaluation``, in a stable order."""
    from bench.metrics import METRICS

    splits = ds.stats()["splits"]
    train_split = evaluation.train
    test_split = evaluation.test or evaluation.train  # with cv, the folds of the train split
    if train_split not in splits or test_split not in splits:
        return []  # check_datasets names the missing split
    train = _train_counts(ds, evaluation, dict(splits[train_split]["label_counts"]))
    test = dict(splits[test_split]["label_counts"])
    found: list[Degenerate] = []

    def add(split: str, label: str | None, problem: str, detail: str) -> None:
        found.append(Degenerate(dataset=ds.name, split=split, label=label, problem=problem, detail=detail))

    if not ds.multilabel:
        for split, counts, role in ((train_split, train, "training"), (test_split, test, "test")):
            present = [label for label, n in counts.items() if n > 0]
            if len(present) == 1 and (role == "training" or test_split != train_split):
                add(split, present[0], "single_class", f"every {role} row has label {present[0]!r} (one class): "
                    "a constant prediction scores perfectly, the metrics say nothing")
    for label in ds.labels:
        if train.get(label, 0) == 0:
            add(train_split, label, "no_train_rows", f"label {label!r} has no training rows: no model can "
                "learn or predict it")
        elif ds.multilabel and evaluation.train_subset is None and train[label] == splits[train_split]["n_rows"]:
            add(train_split, label, "in_every_train_row", f"label {label!r} is in every training row: its "
                "classifier sees one class")
    averaged = [m for m in evaluation.metrics if METRICS.get(m).class_averaged]
    if averaged:
        for label in ds.labels:
            if test.get(label, 0) == 0:
                add(test_split, label, "no_test_rows", f"label {label!r} has no test rows: class-averaged "
                    f"metrics ({', '.join(averaged)}) cannot measure it")
    return found


def check_degenerate(loaded: LoadedConfig, datasets: Mapping[str, BuiltDataset]) -> list[Degenerate]:
    """Every dataset's findings, each warned on stderr; with ``on_degenerate: error`` the first is a ``ConfigError``."""
    evaluation = loaded.config.evaluation
    found = [d for ds in _unique(datasets.values()) for d in find_degenerate(ds, evaluation)]
    if found and evaluation.on_degenerate == "error":
        raise loaded.doc.error(("evaluation", "on_degenerate"), f"{found[0].message()} ({len(found)} such "
                               "problems); fix the dataset, or set evaluation.on_degenerate: warn to run anyway")
    for finding in found:
        print(f"bench: warning: degenerate data: {finding.message()}", file=sys.stderr, flush=True)
    return found


def _unique(datasets: Sequence[BuiltDataset] | Any) -> list[BuiltDataset]:
    seen: dict[str, BuiltDataset] = {}
    for ds in datasets:
        seen.setdefault(ds.name, ds)
    return list(seen.values())
