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

from bench.core.plugins import summary
from bench.core.registry import Registry
from bench.learn.import_path import split_import_path

if TYPE_CHECKING:
    import numpy as np

    from bench.config.spec import ModelSpec

ScoreKind = Literal["proba", "decision"] | None
TEXT_BLOCK = "text"  # the feature name of text-in models' jobs (docs/configs.md)

__all__ = ["ESTIMATORS", "TEXT_BLOCK", "EstimatorSpec", "ModelParamError", "ScoreKind", "build_estimator", "check_model_params",
           "estimator_class", "model_input", "needs_nonnegative", "predict_with_scores", "score_kind", "text_inputs"]


@dataclass(frozen=True, kw_only=True)
class EstimatorSpec:
    """A registered estimator.

    Attributes:
        name: the ``estimator`` in configs.
        factory: import path of the scikit-learn class.
        defaults: parameters newsbench sets, which a config's ``params`` override.
        description: one line for the docs.
        nonnegative: whether it needs features >= 0 (naive Bayes).
        input: ``"features"`` (it is fitted on a feature block's matrix) or ``"text"`` (on
            the texts themselves, see ``text_inputs``).
    """

    name: str
    factory: str
    description: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    nonnegative: bool = False
    input: Literal["features", "text"] = "features"


def _adapt_plugin(name: str, obj: Any, path: str) -> EstimatorSpec:
    """A ``newsbench.models`` entry point: an ``EstimatorSpec``, or a class/factory at ``path``.

    A class or factory reads feature blocks unless it says ``newsbench_input = "text"``.
    """
    if isinstance(obj, EstimatorSpec):
        return EstimatorSpec(name=name, factory=obj.factory, description=obj.description, defaults=obj.defaults,
                             nonnegative=obj.nonnegative, input=obj.input)
    if not callable(obj):
        raise TypeError(f"{path} is neither an EstimatorSpec nor a class or factory")
    text_in = getattr(obj, "newsbench_input", "features")
    if text_in not in ("features", "text"):
        raise ValueError(f"{path}.newsbench_input is {text_in!r}, expected 'features' or 'text'")
    return EstimatorSpec(name=name, factory=path, description=summary(obj, path), input=text_in)


# common names for registered estimators: used for suggestions only, never to resolve a config
ESTIMATOR_ALIASES = {
    "logreg": ["logistic_regression"], "lr": ["logistic_regression"], "logistic": ["logistic_regression"],
    "maxent": ["logistic_regression"], "svm": ["linear_svc"], "svc": ["linear_svc"],
    "linearsvc": ["linear_svc"], "nb": ["complement_nb", "multinomial_nb"],
    "naive_bayes": ["complement_nb", "multinomial_nb"], "mnb": ["multinomial_nb"], "cnb": ["complement_nb"],
    "most_frequent": ["majority"], "baseline": ["majority", "dummy"], "perceptron": ["sgd"],
    "pa": ["passive_aggressive"], "neural_net": ["mlp"], "ridge_classifier": ["ridge"],
}
ESTIMATORS: Registry[EstimatorSpec] = Registry("estimator", ESTIMATOR_ALIASES, adapt=_adapt_plugin)
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
    EstimatorSpec(name="torch_mlp", factory="bench.learn.neural.TorchMLP",
                  description="PyTorch MLP with dropout, UCLMR's settings by default (extra: neural)"),
    # PassiveAggressiveClassifier is deprecated in scikit-learn 1.8; this is its documented equivalent.
    # text-in; the extra `fasttext` (bench/learn/fasttext_model.py, imported when a model is built)
    EstimatorSpec(name="fasttext", factory="bench.learn.fasttext_model.FastTextClassifier", input="text",
                  description="fastText supervised (Joulin et al. 2016): word and bigram embeddings, reading texts"),
    EstimatorSpec(name="passive_aggressive", factory="sklearn.linear_model.SGDClassifier",
                  defaults={"loss": "hinge", "penalty": None, "learning_rate": "pa1", "eta0": 1.0},
                  description="passive-aggressive (PA-I) online linear model"),
    EstimatorSpec(name="transformer", factory="bench.learn.transformer.FineTunedTransformer", input="text",
                  description="a Hugging Face checkpoint fine-tuned on the texts (extra: transformers)"),
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


def _resolve(spec: ModelSpec) -> tuple[Any, Mapping[str, Any]]:
    """The class (or, text-in, factory) and newsbench defaults for a registry name or an import path."""
    estimator = spec.estimator
    if "." not in estimator:
        if estimator not in ESTIMATORS:
            close = ESTIMATORS.suggest(estimator)
            hint = (f"did you mean {' or '.join(repr(c) for c in close)}?" if close
                    else f"use one of {', '.join(ESTIMATORS.names())} or an import path such as sklearn.svm.LinearSVC")
            raise ModelParamError("estimator", f"unknown estimator {estimator!r}; {hint}")
        entry = ESTIMATORS.get(estimator)
        return _import_class(entry.factory, text_in=entry.input == "text"), entry.defaults
    return _import_class(estimator, text_in=model_input(spec) == "text"), {}


def model_input(spec: ModelSpec) -> Literal["features", "text"]:
    """What the model is fitted on: a feature block's matrix or the texts (``text_inputs``).

    The config's ``input`` must agree with a registered model's own: a text-in model cannot
    be paired with a feature block, nor a feature model be given texts.
    """
    registered = (ESTIMATORS.get(spec.estimator).input
                  if "." not in spec.estimator and spec.estimator in ESTIMATORS else None)
    if spec.input is None:
        return registered or "features"
    if registered is not None and registered != spec.input:
        fix = ("it reads texts, so it forms its own jobs without a feature block; remove `input`"
               if registered == "text" else "it is fitted on feature blocks; remove `input: text` or name "
               "a text-in estimator (a Pipeline that vectorizes its texts)")
        raise ModelParamError("input", f"model {spec.name!r} has input: {spec.input} but {spec.estimator} "
                              f"reads {registered}; {fix}")
    return spec.input


def _import_class(path: str, *, text_in: bool = False) -> Any:
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
    if text_in:
        if not callable(cls):
            raise ModelParamError("estimator", f"{path} is not a class or factory; a text-in estimator is a class "
                                  "or function that returns an object with fit(X, y) and predict(X)")
        return cls
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator) and issubclass(cls, ClassifierMixin)):
        raise ModelParamError("estimator", f"{path} is not a scikit-learn classifier (a BaseEstimator with "
                              "ClassifierMixin); name a classifier class such as sklearn.svm.LinearSVC, or set "
                              "input: text for a model that reads texts")
    return cls


def estimator_class(spec: ModelSpec) -> Any:
    """The class a model spec builds, or a text-in model's factory (``ModelParamError`` if unresolved)."""
    return _resolve(spec)[0]


def _params(spec: ModelSpec) -> dict[str, Any]:
    """Defaults overridden by the config, YAML lists turned into the tuples sklearn expects."""
    _, defaults = _resolve(spec)
    out = {**defaults, **spec.params}
    for key, value in out.items():
        if isinstance(value, list) and key in ("hidden_layer_sizes", "ngram_range"):
            out[key] = tuple(value)
    return out


def _signature(cls: Any) -> tuple[list[str], bool]:
    """The parameter names of a class or factory, and whether it takes ``**kwargs``."""
    params = inspect.signature(cls).parameters.values()
    names = [p.name for p in params if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)


def _new(spec: ModelSpec, seed: int | None) -> Any:
    """A new estimator; ``seed`` goes to a text-in factory's own ``random_state`` when it takes one."""
    factory, params = estimator_class(spec), _params(spec)
    if model_input(spec) == "text" and seed is not None and "random_state" in _signature(factory)[0]:
        params["random_state"] = seed
    return factory(**params)


def check_model_params(spec: ModelSpec) -> None:
    """Check the estimator name, input and parameters against the class, before anything runs.

    Raises:
        ModelParamError: a ``ValueError`` whose message is ``"<key>: <problem>; <fix>"``,
            e.g. ``params.C: unknown parameter 'c' of LinearSVC; did you mean 'C'?``.
    """
    cls = estimator_class(spec)
    text_in = model_input(spec) == "text"
    allowed, any_key = _signature(cls)
    for key, value in spec.params.items():
        if key == "random_state":
            raise ModelParamError("params.random_state", "is set from the run's seeds; remove it and list the "
                                  "seeds under `seeds:`")
        if key not in allowed and not any_key:
            hint = _closest(str(key), allowed)
            raise ModelParamError(f"params.{key}", f"unknown parameter {key!r} of {cls.__name__}; "
                                  + (f"did you mean {hint[0]!r}?" if hint else f"expected one of {', '.join(allowed)}"))
        if key == "class_weight" and isinstance(value, dict):
            raise ModelParamError("params.class_weight", "a mapping cannot be used (labels are encoded as "
                                  "indices inside newsbench); use 'balanced' or null")
    if spec.per_target and text_in:
        raise ModelParamError("per_target", "text-in models are fitted once on every pair; remove per_target "
                              "(the model sees each row's target in its (target, text) pairs)")
    try:
        estimator = _new(spec, 0)
    except ModelParamError:
        raise  # the model checked its own params and named the key
    except (TypeError, ValueError) as exc:
        raise ModelParamError("params", f"{spec.estimator} cannot be built with these params ({exc}); "
                              "fix the params") from None
    missing = [m for m in ("fit", "predict") if not callable(getattr(estimator, m, None))]
    if missing:
        raise ModelParamError("estimator", f"{spec.estimator} builds a {type(estimator).__name__} without "
                              f"{' or '.join(missing)}; a model implements fit(X, y) and predict(X)")
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
    estimator = _new(spec, 0)
    if hasattr(estimator, "predict_proba"):
        return "proba"
    if hasattr(estimator, "decision_function"):
        return "decision"
    return None


def needs_nonnegative(spec: ModelSpec) -> bool:
    """Whether the model rejects negative feature values (naive Bayes); never for text-in models."""
    if model_input(spec) == "text":
        return False
    if "." not in spec.estimator and spec.estimator in ESTIMATORS:
        return ESTIMATORS.get(spec.estimator).nonnegative
    from sklearn.naive_bayes import CategoricalNB, ComplementNB, MultinomialNB

    return issubclass(estimator_class(spec), (ComplementNB, MultinomialNB, CategoricalNB))


def build_estimator(spec: ModelSpec, *, seed: int, multilabel: bool) -> Any:
    """A new, unfitted estimator; ``seed`` is set on every ``random_state`` it has.

    Args:
        spec: the model.
        seed: the run seed (0 <= seed < 2**32).
        multilabel: wrap it in ``OneVsRestClassifier`` (one binary model per label), unless it
            says ``newsbench_multilabel = True`` (it fits the indicator matrix itself).
    """
    estimator = _new(spec, seed)
    if multilabel and not getattr(estimator, "newsbench_multilabel", False):  # fastText's ova fits all labels at once
        from sklearn.multiclass import OneVsRestClassifier

        estimator = OneVsRestClassifier(estimator)
    get_params = getattr(estimator, "get_params", None)  # a text-in model need not be a scikit-learn one
    seeded = {key: seed for key in (get_params(deep=True) if get_params else ())
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


def text_inputs(frame: Any, *, stance: bool) -> list[Any]:
    """What a text-in model's ``fit``/``predict`` get as X: one item per row, in row order.

    Topic tasks: the texts (``list[str]``). Stance tasks: ``(target, text)`` tuples, the
    target (claim, headline) first as in a sentence-pair model's first segment.
    """
    if stance:
        return list(zip(frame["target"].astype(str).tolist(), frame["text"].astype(str).tolist(), strict=True))
    return frame["text"].astype(str).tolist()
