"""Fresh scikit-learn estimators by registry name or import path, with checked parameters.

``ESTIMATORS`` holds the baselines a news classification paper reports; any other
scikit-learn style classifier can be named by import path (``sklearn.svm.LinearSVC``).
Parameters from the config are checked against the class signature and scikit-learn's own
constraints before anything runs. The run's seed reaches every ``random_state`` (nested
ones included), so the user may not set ``random_state``: two sources for one seed would
make a run's seeds lie. ``build_estimator`` returns a new object on every call.

Scores: ``predict_proba`` when the estimator has it, else ``decision_function``. Decision
values are scores, not probabilities: they rank (ROC AUC) but cannot be used for log loss,
which is why ``score_kind`` tells ``proba`` from ``decision``.

scikit-learn is imported inside functions, so that importing this module stays cheap.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bench.core.registry import Registry
from bench.learn.import_path import split_import_path

if TYPE_CHECKING:
    import numpy as np

    from bench.config.spec import ModelSpec

ScoreKind = Literal["proba", "decision"] | None

__all__ = ["ESTIMATORS", "EstimatorSpec", "ModelParamError", "ScoreKind", "build_estimator", "check_model_params",
           "estimator_class", "needs_nonnegative", "predict_with_scores", "score_kind"]


@dataclass(frozen=True, kw_only=True)
class EstimatorSpec:
    """A registered estimator.

    Attributes:
        name: the ``estimator`` in configs.
        factory: import path of the scikit-learn class.
        defaults: parameters newsbench sets, which a config's ``params`` override.
        description: one line for the docs.
        nonnegative: whether it needs features >= 0 (naive Bayes).
    """

    name: str
    factory: str
    description: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    nonnegative: bool = False


# common names for registered estimators: used for suggestions only, never to resolve a config
ESTIMATOR_ALIASES = {
    "logreg": ["logistic_regression"], "lr": ["logistic_regression"], "logistic": ["logistic_regression"],
    "maxent": ["logistic_regression"], "svm": ["linear_svc"], "svc": ["linear_svc"],
    "linearsvc": ["linear_svc"], "nb": ["complement_nb", "multinomial_nb"],
    "naive_bayes": ["complement_nb", "multinomial_nb"], "mnb": ["multinomial_nb"], "cnb": ["complement_nb"],
    "most_frequent": ["majority"], "baseline": ["majority", "dummy"], "perceptron": ["sgd"],
    "pa": ["passive_aggressive"], "neural_net": ["mlp"], "ridge_classifier": ["ridge"],
}
ESTIMATORS: Registry[EstimatorSpec] = Registry("estimator", ESTIMATOR_ALIASES)
for _spec in (
    EstimatorSpec(name="majority", factory="sklearn.dummy.DummyClassifier", defaults={"strategy": "most_frequent"},
                  description="always the most frequent training label"),
    EstimatorSpec(name="dummy", factory="sklearn.dummy.DummyClassifier", defaults={"strategy": "prior"},
                  description="the most frequent label, with the class priors as scores"),
    EstimatorSpec(name="stratified", factory="sklearn.dummy.DummyClassifier", defaults={"strategy": "stratified"},
                  description="random labels drawn with the training label frequencies"),
    EstimatorSpec(name="complement_nb", factory="sklearn.naive_bayes.ComplementNB", nonnegative=True,
                  description="complement naive Bayes (robust to class imbalance)"),
    EstimatorSpec(name="multinomial_nb", factory="sklearn.naive_bayes.MultinomialNB", nonnegative=True,
                  description="multinomial naive Bayes"),
    # saga: measured 4x faster than lbfgs on sparse text features, with a fraction of its memory;
    # liblinear is not an option, it rejects 3+ classes.
    EstimatorSpec(name="logistic_regression", factory="sklearn.linear_model.LogisticRegression",
                  defaults={"solver": "saga", "max_iter": 1000},
                  description="multinomial logistic regression (saga solver)"),
    EstimatorSpec(name="linear_svc", factory="sklearn.svm.LinearSVC",
                  description="linear SVM (liblinear); decision values as scores"),
    EstimatorSpec(name="sgd", factory="sklearn.linear_model.SGDClassifier",
                  description="linear model by SGD (hinge loss by default; loss: log_loss gives probabilities)"),
    EstimatorSpec(name="ridge", factory="sklearn.linear_model.RidgeClassifier",
                  description="ridge regression on +-1 targets"),
    EstimatorSpec(name="mlp", factory="sklearn.neural_network.MLPClassifier",
                  defaults={"hidden_layer_sizes": (100,), "early_stopping": True},
                  description="one hidden layer of 100 ReLUs, early stopping on 10% of train"),
    # PassiveAggressiveClassifier is deprecated in scikit-learn 1.8; this is its documented equivalent.
    EstimatorSpec(name="passive_aggressive", factory="sklearn.linear_model.SGDClassifier",
                  defaults={"loss": "hinge", "penalty": None, "learning_rate": "pa1", "eta0": 1.0},
                  description="passive-aggressive (PA-I) online linear model"),
):
    ESTIMATORS.add(_spec.name, _spec)


class ModelParamError(ValueError):
    """A model's estimator or parameter is wrong; ``str()`` is ``"<key>: <problem>; <fix>"``."""

    def __init__(self, key: str, problem: str) -> None:
        self.key, self.problem = key, problem
        super().__init__(f"{key}: {problem}")


def _closest(name: str, choices: list[str]) -> list[str]:
    """The choice equal to ``name`` but for case, else the closest one (``c`` -> ``C``)."""
    same = [c for c in choices if c.lower() == name.lower()]
    return same or difflib.get_close_matches(name, choices, n=1)


def _resolve(estimator: str) -> tuple[type, Mapping[str, Any]]:
    """The class and newsbench defaults for a registry name or an import path."""
    if "." not in estimator:
        if estimator not in ESTIMATORS:
            close = ESTIMATORS.suggest(estimator)
            hint = (f"did you mean {' or '.join(repr(c) for c in close)}?" if close
                    else f"use one of {', '.join(ESTIMATORS.names())} or an import path such as sklearn.svm.LinearSVC")
            raise ModelParamError("estimator", f"unknown estimator {estimator!r}; {hint}")
        entry = ESTIMATORS.get(estimator)
        return _import_class(entry.factory), entry.defaults
    return _import_class(estimator), {}


def _import_class(path: str) -> type:
    from sklearn.base import BaseEstimator, ClassifierMixin

    try:  # the shape first: importing runs the module's code
        module_name, name = split_import_path(path)
    except ValueError as exc:
        raise ModelParamError("estimator", str(exc)) from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelParamError("estimator", f"cannot import module {module_name!r} ({exc}); "
                              "check the import path, e.g. sklearn.svm.LinearSVC") from None
    if not hasattr(module, name):
        public = [n for n in dir(module) if not n.startswith("_")]
        hint = difflib.get_close_matches(name, public, n=1)
        raise ModelParamError("estimator", f"module {module_name!r} has no {name!r}"
                              + (f"; did you mean {module_name}.{hint[0]}?" if hint else "; check the name"))
    cls = getattr(module, name)
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator) and issubclass(cls, ClassifierMixin)):
        raise ModelParamError("estimator", f"{path} is not a scikit-learn classifier (a BaseEstimator with "
                              "ClassifierMixin); name a classifier class such as sklearn.svm.LinearSVC")
    return cls


def estimator_class(spec: ModelSpec) -> type:
    """The class a model spec builds (``ModelParamError`` if it cannot be resolved)."""
    return _resolve(spec.estimator)[0]


def _params(spec: ModelSpec) -> dict[str, Any]:
    """Defaults overridden by the config, YAML lists turned into the tuples sklearn expects."""
    _, defaults = _resolve(spec.estimator)
    out = {**defaults, **spec.params}
    for key, value in out.items():
        if isinstance(value, list) and key in ("hidden_layer_sizes",):
            out[key] = tuple(value)
    return out


def check_model_params(spec: ModelSpec) -> None:
    """Check the estimator name and parameters against the class, before anything runs.

    Raises:
        ModelParamError: a ``ValueError`` whose message is ``"<key>: <problem>; <fix>"``,
            e.g. ``params.C: unknown parameter 'c' of LinearSVC; did you mean 'C'?``.
    """
    cls = estimator_class(spec)
    allowed = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
    for key, value in spec.params.items():
        if key == "random_state":
            raise ModelParamError("params.random_state", "is set from the run's seeds; remove it and list the "
                                  "seeds under `seeds:`")
        if key not in allowed:
            hint = _closest(str(key), allowed)
            raise ModelParamError(f"params.{key}", f"unknown parameter {key!r} of {cls.__name__}; "
                                  + (f"did you mean {hint[0]!r}?" if hint else f"expected one of {', '.join(allowed)}"))
        if key == "class_weight" and isinstance(value, dict):
            raise ModelParamError("params.class_weight", "a mapping cannot be used (labels are encoded as "
                                  "indices inside newsbench); use 'balanced' or null")
    estimator = cls(**_params(spec))
    validate = getattr(estimator, "_validate_params", None)
    # scikit-learn's own type/range/choice checks, normally run at fit time; a third-party
    # BaseEstimator subclass inherits _validate_params without the constraints it reads.
    if validate is not None and hasattr(estimator, "_parameter_constraints"):
        from sklearn.utils._param_validation import InvalidParameterError

        try:
            validate()
        except InvalidParameterError as exc:
            match = re.search(r"The '([^']+)' parameter", str(exc))
            key = f"params.{match.group(1)}" if match else "params"
            raise ModelParamError(key, f"{str(exc).rstrip('.')}; fix the value") from None


def score_kind(spec: ModelSpec) -> ScoreKind:
    """``"proba"``, ``"decision"`` or ``None``: what ``predict_with_scores`` will return.

    Depends on params (``sgd`` with ``loss: log_loss`` has probabilities, with hinge not).
    """
    estimator = estimator_class(spec)(**_params(spec))
    if hasattr(estimator, "predict_proba"):
        return "proba"
    if hasattr(estimator, "decision_function"):
        return "decision"
    return None


def needs_nonnegative(spec: ModelSpec) -> bool:
    """Whether the model rejects negative feature values (naive Bayes)."""
    if "." not in spec.estimator and spec.estimator in ESTIMATORS:
        return ESTIMATORS.get(spec.estimator).nonnegative
    from sklearn.naive_bayes import CategoricalNB, ComplementNB, MultinomialNB

    return issubclass(estimator_class(spec), (ComplementNB, MultinomialNB, CategoricalNB))


def build_estimator(spec: ModelSpec, *, seed: int, multilabel: bool) -> Any:
    """A new, unfitted estimator; ``seed`` is set on every ``random_state`` it has.

    Args:
        spec: the model.
        seed: the run seed (0 <= seed < 2**32).
        multilabel: wrap it in ``OneVsRestClassifier`` (one binary model per label).
    """
    estimator = estimator_class(spec)(**_params(spec))
    if multilabel:
        from sklearn.multiclass import OneVsRestClassifier

        estimator = OneVsRestClassifier(estimator)
    seeded = {key: seed for key in estimator.get_params(deep=True)
              if key == "random_state" or key.endswith("__random_state")}
    if seeded:
        estimator.set_params(**seeded)
    return estimator


def predict_with_scores(estimator: Any, X: Any, *, n_labels: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions and per-class scores (``predict_proba``, else ``decision_function``).

    Args:
        estimator: a fitted estimator.
        X: features.
        n_labels: the task's number of labels; single-label scores get one column per
            label even when training saw fewer classes (unseen classes score 0 for
            probabilities, and below every seen class for decision values).

    Returns:
        ``pred`` as the estimator predicts it, and ``scores`` of shape (n, n_labels) or None.
    """
    import numpy as np

    pred = np.asarray(estimator.predict(X))
    if hasattr(estimator, "predict_proba"):
        scores, floor = np.asarray(estimator.predict_proba(X), dtype=np.float64), 0.0
    elif hasattr(estimator, "decision_function"):
        scores = np.asarray(estimator.decision_function(X), dtype=np.float64)
        if scores.ndim == 1:  # binary: one column, the score of classes_[1]
            scores = np.column_stack([-scores, scores])
        floor = float(scores.min()) - 1.0 if scores.size else 0.0
    else:
        return pred, None
    classes = getattr(estimator, "classes_", None)
    if n_labels is None or pred.ndim != 1 or classes is None or len(classes) == n_labels:
        return pred, scores
    full = np.full((scores.shape[0], n_labels), floor)
    full[:, np.asarray(classes, dtype=int)] = scores
    return pred, full
