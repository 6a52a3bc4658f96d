"""Transfer evaluation: train on one dataset, test on another (``evaluation.transfer``, docs/generalization.md).

A transfer job is one (train dataset, test dataset, feature block, model, seed). Its unit is
the train dataset's ``evaluation.train`` split and the test dataset's ``evaluation.test``
split; feature blocks are fitted on the train rows only. Labels live in the *train*
dataset's label space (what the model can output): each test label is mapped into it by the
pair's ``label_map`` (a test label that is also a train label maps to itself; ``null`` leaves
that label's test rows out), and the metrics are computed on that space. A test label with no
mapping is a config error that names the pair and the label.

Every row of a transfer run carries ``train_dataset`` (in-domain pairs too, equal to
``dataset``), so that one run's table and heatmap read the same way for every cell.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.config.spec import DatasetInfo, EvaluationSpec, LoadedConfig

if TYPE_CHECKING:
    import pandas as pd

    from bench.corpus import BuiltDataset


@dataclass(frozen=True, kw_only=True)
class Pair:
    """One (train dataset, test dataset) of the transfer grid; ``index`` is its ``transfer`` entry."""

    train: str
    test: str
    label_map: Mapping[str, str | None] = field(default_factory=dict)
    index: int = 0


def transfer_pairs(evaluation: EvaluationSpec) -> list[Pair]:
    """The pairs in config order: entries, then train datasets, then test datasets."""
    return [Pair(train=train, test=test, label_map=dict(entry.label_map), index=i)
            for i, entry in enumerate(evaluation.transfer or ()) for train in entry.train for test in entry.test]


def map_label(pair: Pair, label: str, train_labels: tuple[str, ...]) -> str | None:
    """The train-space label of a test label (``None``: its rows are left out); ``KeyError`` if unmapped."""
    if label in pair.label_map:
        return pair.label_map[label]
    if label in train_labels:
        return label
    raise KeyError(label)


def check_transfer(loaded: LoadedConfig, infos: Mapping[str, DatasetInfo], *, complete: bool = True) -> None:
    """Config errors of ``evaluation.transfer`` that need the datasets' names, tasks and labels.

    Args:
        infos: dataset info by ``datasets`` entry.
        complete: every dataset of the config is in ``infos`` (``bench validate`` before a build
            knows only some: pairs naming an unknown dataset are then skipped, not refused).
    """
    config, doc = loaded.config, loaded.doc
    ev = config.evaluation
    if ev.transfer is None:
        return
    base = ("evaluation", "transfer")
    if ev.cv is not None:
        raise doc.error((*base,), "transfer trains on one dataset and tests on another; remove cv")
    if ev.streaming.enabled is True:
        raise doc.error(("evaluation", "streaming"), "transfer jobs do not stream; set streaming: false")
    for m, model in enumerate(config.models):
        if model.per_target:
            raise doc.error(("models", m, "per_target"), "a per-target model has no model for the test dataset's "
                            "targets; set per_target: false in a transfer run")
    by_name = {info.name: info for info in infos.values()}
    seen: dict[tuple[str, str], int] = {}
    for pair in transfer_pairs(ev):
        where = (*base, pair.index)
        for side in ("train", "test"):
            name = getattr(pair, side)
            if name not in by_name:
                if not complete:
                    break
                raise doc.error((*where, side), f"no dataset named {name!r} in this config's datasets "
                                f"({', '.join(sorted(by_name))}); list its spec under datasets")
        else:
            _check_pair(loaded, pair, by_name[pair.train], by_name[pair.test])
        if (pair.train, pair.test) in seen:
            raise doc.error(where, f"pair {pair.train} -> {pair.test} is also in transfer[{seen[pair.train, pair.test]}]"
                            "; list each pair once")
        seen[pair.train, pair.test] = pair.index
    for i, entry in enumerate(ev.transfer):
        tests = [by_name[name] for name in entry.test if name in by_name]
        if len(tests) < len(entry.test):
            continue
        known = {label for info in tests for label in info.labels}
        for label in entry.label_map:
            if label not in known:
                raise doc.error((*base, i, "label_map", label), f"{label!r} is not a label of "
                                f"{', '.join(entry.test)} ({', '.join(sorted(known))}); map test labels only")


def _check_pair(loaded: LoadedConfig, pair: Pair, train: DatasetInfo, test: DatasetInfo) -> None:
    doc = loaded.doc
    where = ("evaluation", "transfer", pair.index)
    name = f"{pair.train} -> {pair.test}"
    if train.task != test.task:
        raise doc.error(where, f"pair {name}: a {train.task} dataset cannot be tested on a {test.task} dataset; "
                        "pair datasets of one task")
    if train.multilabel or test.multilabel:
        raise doc.error(where, f"pair {name}: transfer supports single-label datasets only")
    for label, target in pair.label_map.items():
        if target is not None and target not in train.labels:
            raise doc.error((*where, "label_map", label), f"pair {name}: {target!r} is not a label of {pair.train} "
                            f"({', '.join(train.labels)}); map to one of them, or to null to leave the rows out")
    for label in test.labels:
        try:
            map_label(pair, label, train.labels)
        except KeyError:
            raise doc.error((*where, "label_map"), f"pair {name}: test label {label!r} has no mapping into "
                            f"{pair.train}'s labels ({', '.join(train.labels)}); add label_map: {{{label}: LABEL}} "
                            "with one of them, or null to leave its test rows out") from None


def map_test_frame(frame: pd.DataFrame, pair: Pair, train_labels: tuple[str, ...]) -> pd.DataFrame:
    """The test rows with labels in the train space; rows mapped to ``null`` are left out."""
    mapped = [map_label(pair, str(label), train_labels) for label in frame["label"]]
    keep = [m is not None for m in mapped]
    out = frame.assign(label=mapped)
    return out[keep].reset_index(drop=True) if not all(keep) else out


def pair_fingerprint(train: BuiltDataset, test: BuiltDataset, pair: Pair) -> str:
    """The data identity of a pair's feature matrices: both datasets and the label map.

    Row ids alone could repeat across datasets (``1, 2, ...``), so the feature cache key of
    a transfer unit holds both fingerprints, in order: fnc1 -> arc never answers for arc -> fnc1.
    """
    digest = hashlib.sha256()
    for part in ("transfer", train.fingerprint, test.fingerprint, repr(sorted(pair.label_map.items()))):
        digest.update(part.encode("utf-8") + b"\n")
    return digest.hexdigest()


def dataset_pairs(evaluation: EvaluationSpec, datasets: Iterable[BuiltDataset]
                  ) -> list[tuple[BuiltDataset, BuiltDataset, Pair]]:
    """(train dataset, test dataset, pair) of every pair, in ``transfer_pairs`` order."""
    by_name = {ds.name: ds for ds in datasets}
    return [(by_name[p.train], by_name[p.test], p) for p in transfer_pairs(evaluation)]
