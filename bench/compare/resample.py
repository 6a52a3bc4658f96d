"""Joint bootstrap of several systems, each with several seeds, on the same test items.

How seeds are pooled, and why: every bootstrap resample of the test items is applied to
every seed of every system at once, and the statistic is each system's metric averaged
over its seeds, which is exactly the number shown in a table cell. The difference of two
such seed means under the same resample gives the paired distribution of the delta.
We chose this over the alternatives because (1) it tests the quantity the table shows;
(2) a majority vote over seeds would score an ensemble nobody trained (and usually a
better one); (3) pairing seed ``s`` of one run with seed ``s`` of the other needs equal
seed sets, and averaging per-seed p-values is not a valid test. Seed-to-seed variation
is reported beside it as a standard deviation, a second and separate source of uncertainty.

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

import numpy as np

from bench.compare.systems import Outputs
from bench.core.errors import ResultsError
from bench.metrics import METRICS, MetricSpec
from bench.metrics.scoring import weight_function
from bench.stats import bootstrap as bs

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


def check_usable(ref: MetricRef, out: Outputs) -> None:
    """Refuse a metric that this system's predictions cannot give (one line, with the fix)."""
    spec = ref.spec
    if spec.needs_scores and out.scores is None:
        raise ResultsError(f"{out.run}: {out.key}: metric {ref.name!r} needs per-class scores but the "
                           "predictions have none; compare another metric (e.g. --metric accuracy)")
    if (out.multilabel and spec.from_indicators is None) or (not out.multilabel and spec.from_indicators
                                                              is not None and spec.from_confusion is None):
        kind = "multi-label" if out.multilabel else "single-label"
        raise ResultsError(f"{out.run}: {out.key}: metric {ref.name!r} does not apply to a {kind} dataset; "
                           "pick a metric the run computed (see `bench show`)")


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
        outputs: one ``Outputs`` per system, all on the same item ids (check that first
            with ``bench.compare.systems.check_paired``).
        ref: the metric.
    """

    def __init__(self, outputs: Sequence[Outputs], ref: MetricRef) -> None:
        self.outputs, self.ref = list(outputs), ref
        first = self.outputs[0]
        self.labels, self.multilabel, self.n = first.labels, first.multilabel, first.n_items
        for out in self.outputs:
            check_usable(ref, out)
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

    def _functions(self, out: Outputs) -> list:
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

    def draws(self, samples: int, rng: np.random.Generator) -> np.ndarray:
        """``(samples, n_systems)``: seed means under ``samples`` joint resamples of the items."""
        if self.by_items:
            chunks = bs.item_weight_draws(self.n, samples, rng)
        else:
            chunks = bs.cell_count_draws(self.counts, samples, rng, width=len(self.first))
        return bs.collect(chunks, self._seed_means)

    @property
    def n_patterns(self) -> int:
        """Distinct joint patterns (items when the metric needs scores)."""
        return len(self.first)
