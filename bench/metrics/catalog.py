"""The metric registry: every metric with the facts needed to use it correctly.

A ``MetricSpec`` says whether greater is better, whether it needs per-class scores, which
kind of task it fits (single-label, multi-label, stance) and which labels it needs, so
``check_metric`` can refuse misuse before anything runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bench.core.registry import Registry
from bench.metrics import formulas as fm

FNC1_LABELS = ("agree", "disagree", "discuss", "unrelated")


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """A metric and the facts needed to use it correctly.

    Exactly one way of computing is given per kind of task: ``from_confusion`` (single-label,
    counts ``(..., K, K)`` and labels -> values), ``from_scores`` (single-label, ``(y_true,
    scores)`` -> a function of item weights ``(c, n)``) and/or ``from_indicators``
    (multi-label, item sums ``(..., 3L+2)`` -> values).
    """

    name: str
    greater_is_better: bool
    needs_scores: bool = False
    needs_probabilities: bool = False   # scores must be probabilities (predict_proba), not decision values
    class_averaged: bool = False        # an unweighted mean over classes (or one class's value): a rare class
                                        # weighs as much as a common one, and its CI leans on its few items
    multilabel: bool | None = None
    required_labels: tuple[str, ...] = ()
    exact_labels: bool = False          # labels must be exactly ``required_labels`` (any case, any order)
    task: str | None = None             # "stance": only meaningful for stance tasks
    per_class: bool = False             # one value per label, named ``<base>[<label>]``
    description: str = ""
    from_confusion: Callable[[np.ndarray, tuple[str, ...]], np.ndarray] | None = None
    from_scores: Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]] | None = None
    from_indicators: Callable[[np.ndarray], np.ndarray] | None = None

    def __post_init__(self) -> None:
        single = self.from_confusion is not None or self.from_scores is not None
        multi = self.from_indicators is not None
        expected = None if single and multi else (True if multi else False)
        if expected != self.multilabel or self.needs_scores != (self.from_scores is not None):
            raise ValueError(f"metric {self.name!r}: multilabel/needs_scores do not match its formulas")
        if self.needs_probabilities and not self.needs_scores:
            raise ValueError(f"metric {self.name!r}: needs_probabilities needs scores")

    def value_names(self, labels: Sequence[str]) -> list[str]:
        """Names of the values this metric produces (``f1[agree]``, ... for per-class ones)."""
        if not self.per_class:
            return [self.name]
        base = self.name.removesuffix("_per_class")
        return [f"{base}[{label}]" for label in labels]


def _adapt_plugin(name: str, obj: object, path: str) -> MetricSpec:
    """A ``newsbench.metrics`` entry point: a ``MetricSpec``, registered under the entry point's name."""
    if not isinstance(obj, MetricSpec):
        raise TypeError(f"{path} is not a bench.metrics.MetricSpec")
    return dataclasses.replace(obj, name=name)


# common names for registered metrics: used for suggestions only, never to resolve a config
METRIC_ALIASES = {
    "f1": ["f1_macro"], "macro_f1": ["f1_macro"], "f1macro": ["f1_macro"], "micro_f1": ["f1_micro"],
    "weighted_f1": ["f1_weighted"], "acc": ["accuracy"], "precision": ["precision_macro"],
    "recall": ["recall_macro"], "kappa": ["cohen_kappa"], "auc": ["roc_auc"], "fnc": ["fnc1_score"],
    "fnc1": ["fnc1_score"], "favg": ["f_avg"], "semeval": ["f_avg"], "matthews": ["mcc"],
    "balanced_acc": ["balanced_accuracy"], "logloss": ["log_loss"], "cross_entropy": ["log_loss"],
}
METRICS: Registry[MetricSpec] = Registry("metric", METRIC_ALIASES, adapt=_adapt_plugin)


def _add(spec: MetricSpec) -> MetricSpec:
    return METRICS.add(spec.name, spec)


_add(MetricSpec(name="accuracy", greater_is_better=True, multilabel=False, from_confusion=fm.accuracy,
                description="share of items predicted correctly"))
_add(MetricSpec(name="balanced_accuracy", greater_is_better=True, multilabel=False, class_averaged=True,
                from_confusion=fm.balanced_accuracy, description="mean recall over the classes present"))
_add(MetricSpec(name="mcc", greater_is_better=True, multilabel=False, from_confusion=fm.mcc,
                description="Matthews correlation coefficient (multi-class)"))
_add(MetricSpec(name="cohen_kappa", greater_is_better=True, multilabel=False, from_confusion=fm.cohen_kappa,
                description="Cohen's kappa between gold and predicted labels"))
_add(MetricSpec(name="fnc1_score", greater_is_better=True, multilabel=False, from_confusion=fm.fnc1,
                task="stance", required_labels=FNC1_LABELS, exact_labels=True,
                description="FNC-1 relative score (official scorer points / maximum)"))
_add(MetricSpec(name="f_avg", greater_is_better=True, multilabel=False, from_confusion=fm.f_avg, class_averaged=True,
                task="stance", required_labels=fm.STANCE_FAVOR_AGAINST,
                description="SemEval-2016 F_avg: mean F1 of FAVOR and AGAINST"))
_add(MetricSpec(name="log_loss", greater_is_better=False, needs_scores=True, needs_probabilities=True,
                multilabel=False,
                from_scores=fm.log_loss, description="cross-entropy of the predicted probabilities"))
_add(MetricSpec(name="roc_auc", greater_is_better=True, needs_scores=True, multilabel=False, class_averaged=True,
                from_scores=fm.roc_auc_ovr, description="one-vs-rest macro ROC AUC"))
_add(MetricSpec(name="hamming_loss", greater_is_better=False, multilabel=True, from_indicators=fm.hamming,
                description="share of wrong label decisions"))
_add(MetricSpec(name="subset_accuracy", greater_is_better=True, multilabel=True,
                from_indicators=fm.subset_accuracy, description="share of items with exactly the gold label set"))

for _kind in ("precision", "recall", "f1"):
    for _average in ("macro", "micro", "weighted", None):
        _formula = fm.prf(_kind, _average)
        _add(MetricSpec(
            name=f"{_kind}_{_average or 'per_class'}", greater_is_better=True, per_class=_average is None,
            class_averaged=_average in ("macro", None),
            from_confusion=lambda c, labels, f=_formula: f(*fm.tp_fp_fn(c)),
            from_indicators=lambda s, f=_formula: f(*fm.indicator_parts(s)[:3]),
            description=f"{_kind} ({_average or 'one value per class'})"))



def check_metric(name: str, *, task: str | None, multilabel: bool, labels: Sequence[str],
                 has_scores: bool) -> None:
    """Refuse a metric that cannot be computed or means nothing for this task.

    Raises:
        UnknownNameError: ``name`` is not registered (with suggestions).
        ValueError: ``"<problem>; <fix>"`` for misuse.
    """
    spec = METRICS.get(name)
    if spec.multilabel is True and not multilabel:
        raise ValueError(f"{name} is a multi-label metric but the dataset is single-label; "
                         "use accuracy or f1_macro")
    if spec.multilabel is False and multilabel:
        raise ValueError(f"{name} needs single-label predictions but the dataset is multi-label; "
                         "use subset_accuracy, hamming_loss, f1_micro or f1_macro")
    if spec.task is not None and task is not None and task != spec.task:
        raise ValueError(f"{name} is a {spec.task} metric but the task is {task}; use f1_macro or accuracy")
    lower = sorted(label.lower() for label in labels)
    missing = [r for r in spec.required_labels if r not in lower]
    if missing or (spec.exact_labels and lower != sorted(spec.required_labels)):
        need = "exactly" if spec.exact_labels else "at least"
        raise ValueError(f"{name} needs {need} the labels {', '.join(spec.required_labels)} (any case) "
                         f"but the dataset has {', '.join(labels)}; drop {name} for this dataset")
    if spec.needs_scores and not has_scores:
        raise ValueError(f"{name} needs per-class scores but the model gives none; "
                         "drop it or use a model with predict_proba or decision_function")


def default_headline(*, task: str | None, multilabel: bool, labels: Sequence[str]) -> str:
    """The metric a dataset is judged by when its spec names none (``headline_metric``, docs/datasets.md):
    ``fnc1_score`` or ``f_avg`` when a stance dataset's labels allow it, else ``f1_macro``."""
    if task == "stance" and not multilabel:
        for name in ("fnc1_score", "f_avg"):
            try:
                check_metric(name, task=task, multilabel=False, labels=labels, has_scores=False)
            except ValueError:
                continue
            return name
    return "f1_macro"
