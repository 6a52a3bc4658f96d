"""Error analysis: where the systems of a dataset go wrong, item by item.

Three views, each pointing at item ids (the report links them to the item's full text):

- **frequent confusions**: (gold, predicted) pairs counted over systems, with the items
  where most systems make that confusion as examples;
- **most confident errors**: per system with per-class scores, the wrong predictions with
  the largest margin ``score(predicted) - score(gold)``;
- **errors shared by every system**: items that no system gets right: hard items, or
  mislabeled ones (above all when every system agrees on the same other label).

A system's prediction for an item is its majority vote over seeds (``Outputs.vote``) and
its score the mean over seeds. Majority-class baselines are left out whenever another
system exists: they are wrong on every item outside one class, which says nothing about
the items. Multi-label items are compared as whole label sets (``a|b``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bench.report.collect import DatasetView, SystemView, short_labels

NONE_LABEL = "(none)"


@dataclass(frozen=True, kw_only=True)
class Confusion:
    """One (gold, predicted) pair.

    Attributes:
        gold: the gold label (set).
        pred: the predicted label (set).
        count: (system, item) pairs with this confusion.
        share: ``count`` over (systems x items of this gold label).
        n_systems: systems that make it at least once.
        examples: item ids, those confused by the most systems first.
    """

    gold: str
    pred: str
    count: int
    share: float
    n_systems: int
    examples: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ConfidentError:
    """A wrong prediction made with a large margin."""

    system: str
    id: str
    gold: str
    pred: str
    pred_score: float
    gold_score: float
    probability: bool

    @property
    def margin(self) -> float:
        return self.pred_score - self.gold_score


@dataclass(frozen=True, kw_only=True)
class SharedError:
    """An item that every considered system gets wrong.

    Attributes:
        id: the item.
        gold: its gold label.
        predictions: (predicted label, systems predicting it), most frequent first.
    """

    id: str
    gold: str
    predictions: tuple[tuple[str, int], ...]

    @property
    def unanimous(self) -> bool:
        """Every system predicts the same other label: check the gold label."""
        return len(self.predictions) == 1


@dataclass(frozen=True, kw_only=True)
class ErrorAnalysis:
    """The error analysis of one dataset."""

    dataset: str
    systems: tuple[str, ...]
    confusions: tuple[Confusion, ...]
    confident: tuple[ConfidentError, ...]
    shared: tuple[SharedError, ...]
    n_shared: int
    n_items: int
    notes: tuple[str, ...]

    def item_ids(self) -> list[str]:
        """Every item id the analysis points at, in first-mention order."""
        ids = [i for c in self.confusions for i in c.examples] + [e.id for e in self.confident] + \
            [s.id for s in self.shared]
        return list(dict.fromkeys(ids))


def label_strings(values: np.ndarray, labels: Sequence[str], multilabel: bool) -> np.ndarray:
    """Label indices (or indicator rows) -> label text (``a|b`` for sets, ``(none)`` for an empty set)."""
    if not multilabel:
        return np.asarray(labels, dtype=object)[values]
    return np.array(["|".join(labels[j] for j in np.flatnonzero(row)) or NONE_LABEL for row in values], dtype=object)


def _considered(ds: DatasetView) -> tuple[list[SystemView], list[str]]:
    """The systems analysed: all but majority baselines (unless nothing else is left), on the same items."""
    notes = []
    systems = [s for s in ds.systems if not s.is_majority] or list(ds.systems)
    if len(systems) < len(ds.systems):
        notes.append(f"{len(ds.systems) - len(systems)} majority-class baselines are left out.")
    ids = systems[0].outputs.ids
    same = [s for s in systems if np.array_equal(s.outputs.ids, ids)]
    if len(same) < len(systems):
        notes.append(f"{len(systems) - len(same)} systems scored on other items (another build of the dataset) are "
                     "left out.")
    return same, notes


def _confusions(ids: np.ndarray, gold: np.ndarray, preds: list[np.ndarray], top: int) -> list[Confusion]:
    wrong = [(p != gold) for p in preds]
    counts: Counter[tuple[str, str]] = Counter()
    systems_with: Counter[tuple[str, str]] = Counter()
    per_item: dict[tuple[str, str], Counter[int]] = {}
    for pred, bad in zip(preds, wrong):
        seen = set()
        for i in np.flatnonzero(bad):
            pair = (gold[i], pred[i])
            counts[pair] += 1
            per_item.setdefault(pair, Counter())[int(i)] += 1
            seen.add(pair)
        for pair in seen:
            systems_with[pair] += 1
    gold_sizes = Counter(gold.tolist())
    out = []
    for pair, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
        examples = sorted(per_item[pair].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        out.append(Confusion(gold=pair[0], pred=pair[1], count=count,
                             share=count / (len(preds) * gold_sizes[pair[0]]), n_systems=systems_with[pair],
                             examples=tuple(str(ids[i]) for i, _ in examples)))
    return out


def _is_probability(scores: np.ndarray) -> bool:
    return bool(scores.min() >= 0 and scores.max() <= 1 and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3))


def _confident(systems: list[SystemView], names: list[str], top: int) -> list[ConfidentError]:
    scored = [(s, n) for s, n in zip(systems, names) if s.outputs.scores is not None and not s.outputs.multilabel]
    if not scored:
        return []
    per_system = max(2, top // len(scored))
    out = []
    for system, name in scored:
        o = system.outputs
        scores = o.scores.mean(axis=0)
        pred = o.vote()
        rows = np.arange(o.n_items)
        wrong = np.flatnonzero(pred != o.gold)
        margin = scores[rows, pred] - scores[rows, o.gold]
        order = wrong[np.lexsort((o.ids[wrong], -margin[wrong]))][:per_system]
        probability = _is_probability(scores)
        out += [ConfidentError(system=name, id=str(o.ids[i]), gold=o.labels[o.gold[i]], pred=o.labels[pred[i]],
                               pred_score=float(scores[i, pred[i]]), gold_score=float(scores[i, o.gold[i]]),
                               probability=probability) for i in order]
    return out


def _shared(ids: np.ndarray, gold: np.ndarray, preds: list[np.ndarray], top: int) -> tuple[list[SharedError], int]:
    wrong = np.all([p != gold for p in preds], axis=0)
    index = np.flatnonzero(wrong)
    items = []
    for i in index:
        votes = Counter(str(p[i]) for p in preds)
        items.append(SharedError(id=str(ids[i]), gold=str(gold[i]),
                                 predictions=tuple(sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])))))
    items.sort(key=lambda e: (not e.unanimous, e.id))
    return items[:top], len(items)


def analyse(ds: DatasetView, top: int = 10, confident_from: Sequence[SystemView] | None = None) -> ErrorAnalysis:
    """The error analysis of a dataset's systems.

    Args:
        ds: the dataset and its systems.
        top: bounds each table.
        confident_from: the systems whose most confident errors are listed (default: all
            analysed systems; the report passes the best few, since margins of different
            systems are not comparable and one block per system grows long).
    """
    systems, notes = _considered(ds)
    names = short_labels(systems)
    first = systems[0].outputs
    gold = label_strings(first.gold, first.labels, first.multilabel)
    preds = [label_strings(s.outputs.vote(), first.labels, first.multilabel) for s in systems]
    shared, n_shared = _shared(first.ids, gold, preds, 2 * top) if len(systems) >= 2 else ([], 0)
    if len(systems) < 2:
        notes.append("Errors shared by every system need at least two systems.")
    keep = [confident_from is None or any(s is c for c in confident_from) for s in systems]
    chosen = [s for s, k in zip(systems, keep) if k]
    confident = _confident(chosen, [n for n, k in zip(names, keep) if k], top)
    if len(chosen) < len(systems) and confident:
        notes.append(f"Most confident errors: the {len(chosen)} best systems by the report's metric only.")
    if not confident:
        notes.append("No system has per-class scores for single-label items, so no most-confident errors.")
    confusions = _confusions(first.ids, gold, preds, top)
    return ErrorAnalysis(dataset=ds.name, systems=tuple(names), confusions=tuple(confusions),
                         confident=tuple(confident), shared=tuple(shared), n_shared=n_shared,
                         n_items=first.n_items, notes=tuple(notes))
