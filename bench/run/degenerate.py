"""Degenerate data: the splits a run learns from and scores on, checked before anything trains.

A dataset with one class scores 1.0 on every metric; a label with no training rows can never
be predicted; a label with no test rows is averaged over as if measured by class-averaged
metrics. None of these is an error in the code, and each gives a number that looks fine in a
table. So a run finds them from the label counts of its splits (``stats.json``), says so on
stderr (one line each), records them in
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


def find_degenerate(ds: BuiltDataset, evaluation: EvaluationSpec) -> list[Degenerate]:
    """The degenerate splits and labels of one built dataset under ``evaluation``, in a stable order.

    The counts are those of the whole splits: a ``train_subset`` keeps every label of its
    split (``bench.corpus.splits.nested_subset``), and CV folds are stratified.
    """
    return degenerate_in(ds.name, ds.labels, ds.multilabel, ds.stats()["splits"], evaluation)


def degenerate_in(name: str, labels: Sequence[str], multilabel: bool, splits: Mapping[str, Any],
                  evaluation: EvaluationSpec) -> list[Degenerate]:
    """The findings from a dataset's per-split statistics (``stats.json["splits"]``)."""
    from bench.metrics import METRICS

    train_split = evaluation.train
    test_split = evaluation.test or evaluation.train  # with cv, the folds of the train split
    if train_split not in splits or test_split not in splits:
        return []  # check_datasets names the missing split
    train = dict(splits[train_split]["label_counts"])
    test = dict(splits[test_split]["label_counts"])
    found: list[Degenerate] = []

    def add(split: str, label: str | None, problem: str, detail: str) -> None:
        found.append(Degenerate(dataset=name, split=split, label=label, problem=problem, detail=detail))

    if not multilabel:
        for split, counts, role in ((train_split, train, "training"), (test_split, test, "test")):
            present = [label for label, n in counts.items() if n > 0]
            if len(present) == 1 and (role == "training" or test_split != train_split):
                add(split, present[0], "single_class", f"every {role} row has label {present[0]!r} (one class): "
                    "a constant prediction scores perfectly, the metrics say nothing")
    for label in labels:
        if train.get(label, 0) == 0:
            add(train_split, label, "no_train_rows", f"label {label!r} has no training rows: no model can "
                "learn or predict it")
        elif multilabel and train[label] == splits[train_split]["n_rows"]:
            add(train_split, label, "in_every_train_row", f"label {label!r} is in every training row: its "
                "classifier sees one class")
    averaged = [m for m in evaluation.metrics if METRICS.get(m).class_averaged]
    if averaged:
        for label in labels:
            if test.get(label, 0) == 0:
                add(test_split, label, "no_test_rows", f"label {label!r} has no test rows: class-averaged "
                    f"metrics ({', '.join(averaged)}) cannot measure it")
    return found


def check_degenerate(loaded: LoadedConfig, datasets: Mapping[str, BuiltDataset]) -> list[Degenerate]:
    """Every dataset's findings, reported by ``report_degenerate``."""
    evaluation = loaded.config.evaluation
    return report_degenerate(loaded, [d for ds in _unique(datasets.values()) for d in find_degenerate(ds, evaluation)])


def report_degenerate(loaded: LoadedConfig, found: list[Degenerate]) -> list[Degenerate]:
    """Warn on stderr, one line each; with ``on_degenerate: error`` the first is a ``ConfigError`` at that key."""
    if found and loaded.config.evaluation.on_degenerate == "error":
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
