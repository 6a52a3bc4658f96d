"""The joint bootstrap of ``bench compare``: systems of several runs on the same items.

The engine itself is ``bench.metrics.joint.JointSample`` (one engine for compare, show and
the report); this module checks that each system's predictions can give the metric,
naming the run and system in the one-line error.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.compare.systems import Outputs
from bench.core.errors import ResultsError
from bench.metrics.joint import JointSample, MetricRef, resolve_metric

__all__ = ["JointSample", "MetricRef", "check_usable", "joint_sample", "resolve_metric"]


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


def joint_sample(outputs: Sequence[Outputs], ref: MetricRef) -> JointSample:
    """Check every system against the metric, then resample them together."""
    for out in outputs:
        check_usable(ref, out)
    return JointSample(outputs, ref)
