"""Metrics: the registry, vectorised formulas, scoring with bootstrap confidence intervals, and
the paired tests of a metric between two systems (``bench.metrics.paired``).

Conventions: ``labels`` is the ordered label tuple of the dataset; single-label ``y_true``
and ``y_pred`` are 1-D int arrays of indices into it; multi-label ones are 2-D 0/1
indicator arrays ``(n, n_labels)``; ``scores`` is ``(n, n_labels)`` or ``None``.
Per-class metrics give one value per label, named ``f1[<label>]``.
"""

from bench.metrics.catalog import FNC1_LABELS, METRICS, MetricSpec, check_metric
from bench.metrics.scoring import MetricValue, score_metrics

__all__ = ["FNC1_LABELS", "METRICS", "MetricSpec", "MetricValue", "check_metric",
           "score_metrics"]
