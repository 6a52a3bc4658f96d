"""The one paired bootstrap: several systems, each with several seeds, resampled on the same items.

``bench compare`` (cells, deltas, the gate), ``bench show``/``bench run`` (the seed-mean
interval of a cell) and the report all resample through ``JointSample``; its item
bootstrap is checked against ``scipy.stats.bootstrap`` in the tests.

Items: every bootstrap resample of the test items is applied to every seed of every system
at once, and the statistic is each system's metric averaged over its seeds, which is the
number shown in a table cell; the difference of two such seed means under the same
resample gives the paired distribution of a delta. Seeds: ``seed_aware`` adds the
uncertainty of having trained only these seeds (``bench.stats.seeds``), so an interval or
p-value is about the recipe, not about these particular trained models.

Why it is fast: a metric of (gold, prediction) pairs depends on the items only through how
many items show each joint pattern ``(gold, pred of system 1 seed 1, ...)``. Resampling
``n`` items is the same as drawing pattern counts from ``Multinomial(n, pattern shares)``,
so with P distinct patterns a resample costs O(P), not O(n); with one seed per system and
K labels, P <= K^3 whatever n is. Score-based metrics (log loss, ROC AUC) are not
functions of patterns and use item weights instead (``bench.stats.bootstrap``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bench.core.errors import ResultsError
from bench.metrics.catalog import METRICS, MetricSpec
from bench.metrics.scoring import weight_function
from bench.stats import bootstrap as bs
from bench.stats.seeds import SeedAware, seed_aware


class Predictions(Protocol):
    """One system's predictions: gold and every seed's predictions on the same sorted items."""

    labels: tuple[str, ...]
    multilabel: bool
    gold: np.ndarray
    seeds: tuple[int, ...]
    preds: np.ndarray
    scores: np.ndarray | None

    @property
    def n_items(self) -> int: ...


_PER_CLASS = re.compile(r"^(precision|recall|f1)\[(.+)\]$")


@dataclass(frozen=True, kw_only=True)
class MetricRef:
    """A scalar metric: a registered metric, or one class of a per-class metric (``f1[agree]``)."""

    name: str
    spec: MetricSpec
    label: str | None = None

    @property
    def greater_is_better(self) -> bool:
        return self.spec.greater_is_better


def resolve_metric(name: str) -> MetricRef:
    """``accuracy`` -> its spec; ``f1[agree]`` -> ``f1_per_class`` restricted to ``agree``."""
    match = _PER_CLASS.match(name)
    if match:
        return MetricRef(name=name, spec=METRICS.get(f"{match.group(1)}_per_class"), label=match.group(2))
    spec = METRICS.get(name)
    if spec.per_class:
        raise ResultsError(f"metric {name!r} has one value per class; compare one class, e.g. "
                           f"--metric {spec.name.removesuffix('_per_class')}[<label>]")
    return MetricRef(name=name, spec=spec)


def _column(ref: MetricRef, labels: tuple[str, ...], values: np.ndarray) -> np.ndarray:
    """The scalar metric out of a formula's result (one class of a per-class metric)."""
    if ref.label is None:
        return values
    if ref.label not in labels:
        raise ResultsError(f"metric {ref.name!r}: no label {ref.label!r}; labels: {', '.join(labels)}")
    return values[..., labels.index(ref.label)]


def _patterns(columns: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``columns`` ``(n, m)``: the first item of each and its count."""
    m = columns.shape[1]
    if m * np.log2(max(base, 2)) < 62:
        weights = base ** np.arange(m, dtype=np.int64)
        keys = columns.astype(np.int64) @ weights
        _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    else:
        _, first, counts = np.unique(columns, axis=0, return_index=True, return_counts=True)
    return first, counts


class JointSample:
    """Systems scored on the same items, ready to be resampled together.

    Args:
        outputs: one system each, all on the same item ids (``bench compare`` checks that
            with ``bench.compare.systems.check_paired``), each usable with the metric.
        ref: the metric.
    """

    def __init__(self, outputs: Sequence[Predictions], ref: MetricRef) -> None:
        self.outputs, self.ref = list(outputs), ref
        first = self.outputs[0]
        self.labels, self.multilabel, self.n = first.labels, first.multilabel, first.n_items
        self.by_items = ref.spec.needs_scores
        if self.by_items:
            self.first, self.counts = np.arange(self.n), np.ones(self.n, dtype=np.int64)
        elif self.multilabel:
            stacked = np.hstack([first.gold] + [p for out in self.outputs for p in out.preds])
            self.first, self.counts = _patterns(stacked, 2)
        else:
            stacked = np.column_stack([first.gold] + [p for out in self.outputs for p in out.preds])
            self.first, self.counts = _patterns(stacked, len(self.labels))
        self.functions = [self._functions(out) for out in self.outputs]

    def _functions(self, out: Predictions) -> list:
        """Per seed, the metric as a function of pattern (or item) weights ``(B, P)`` -> ``(B,)``."""
        if self.ref.spec.needs_scores:
            return [weight_function(self.ref.spec, y_true=out.gold, y_pred=pred, labels=self.labels, scores=scores)
                    for pred, scores in zip(out.preds, out.scores)]
        gold = out.gold[self.first]
        if self.multilabel:
            return [weight_function(self.ref.spec, y_true=gold, y_pred=pred[self.first], labels=self.labels)
                    for pred in out.preds]
        # Confusion counts of every resample by one matrix product (exact: integer sums < 2**53).
        k, spec = len(self.labels), self.ref.spec
        functions = []
        for pred in out.preds:
            onehot = np.zeros((len(self.first), k * k))
            onehot[np.arange(len(self.first)), gold * k + pred[self.first]] = 1.0
            functions.append(lambda w, m=onehot: spec.from_confusion((w @ m).reshape(-1, k, k), self.labels))
        return functions

    def _per_seed(self, out_index: int, seed_index: int, weights: np.ndarray) -> np.ndarray:
        values = self.functions[out_index][seed_index](weights)
        return _column(self.ref, self.labels, np.asarray(values, dtype=np.float64))

    def _seed_means(self, weights: np.ndarray) -> np.ndarray:
        """``(B, n_systems)``: each system's metric averaged over its seeds."""
        return np.column_stack([
            np.mean([self._per_seed(i, s, weights) for s in range(len(out.seeds))], axis=0)
            for i, out in enumerate(self.outputs)])

    def per_seed_points(self) -> list[tuple[float, ...]]:
        """Each system's metric for each of its seeds, on the original items."""
        weights = self.counts[None, :].astype(np.float64)
        return [tuple(float(self._per_seed(i, s, weights)[0]) for s in range(len(out.seeds)))
                for i, out in enumerate(self.outputs)]

    def points(self) -> np.ndarray:
        """``(n_systems,)``: the seed-mean metric on the original items."""
        return self._seed_means(self.counts[None, :].astype(np.float64))[0]

    def _chunks(self, samples: int, rng: np.random.Generator):
        if self.by_items:
            return bs.item_weight_draws(self.n, samples, rng)
        return bs.cell_count_draws(self.counts, samples, rng, width=len(self.first))

    def draws(self, samples: int, rng: np.random.Generator) -> np.ndarray:
        """``(samples, n_systems)``: seed means under ``samples`` joint resamples of the items."""
        return bs.collect(self._chunks(samples, rng), self._seed_means)

    def seed_draws(self, samples: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Per system ``(samples, n_seeds)``: each seed's metric under the same joint resamples."""
        def per_seed(weights: np.ndarray) -> np.ndarray:
            return np.column_stack([self._per_seed(i, s, weights) for i, out in enumerate(self.outputs)
                                    for s in range(len(out.seeds))])

        flat = bs.collect(self._chunks(samples, rng), per_seed)
        bounds = np.cumsum([0] + [len(out.seeds) for out in self.outputs])
        return [flat[:, a:b] for a, b in zip(bounds[:-1], bounds[1:])]

    def seed_aware(self, samples: int, rng: np.random.Generator, weights: Sequence[float]) -> SeedAware:
        """Draws of ``sum_i weights[i] * seed mean_i`` over items *and* seeds (``bench.stats.seeds``).

        ``weights`` ``(1,)`` gives a system's seed mean, ``(-1, 1)`` the delta of two systems.
        The item part is the joint resample above (seed means of the same items); the seed
        part is drawn after it from the same ``rng``, so with one seed per system (or seeds
        that agree) the draws are the item draws, bit for bit.
        """
        per_seed = self.seed_draws(samples, rng)
        points = self.per_seed_points()
        return seed_aware([np.asarray(p) for p in points], per_seed, np.asarray(weights, dtype=np.float64), rng)

    @property
    def n_patterns(self) -> int:
        """Distinct joint patterns (items when the metric needs scores)."""
        return len(self.first)
