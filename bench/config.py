"""Benchmark run configs (SPEC section 4): frozen specs and a loader that checks everything first.

A config is data. ``load_config`` parses the YAML with line marks, applies ``--set``
overrides, binds it to the frozen dataclasses below and then checks what annotations cannot
say: registry names (with suggestions), feature and model parameters against the real
signatures, unique names, ``union`` references, a non-empty job grid. ``check_datasets``
adds the checks that need the datasets (splits, metrics against task and labels). Every
problem is a ``ConfigError`` at ``file:line: key.path``, raised before anything trains.

Heavy modules (features, models, metrics) are imported inside functions, so that importing
this module stays cheap for ``bench validate`` and ``bench --help``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bench.errors import ConfigError, UnknownNameError
from bench.loader import Doc, KeyPath, apply_overrides, bind, check_keys, format_path, load_yaml

if TYPE_CHECKING:
    from bench.metrics import BootstrapSpec

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureSpec:
    """One feature block: a vectorizer (or a union of other blocks) and its parameters."""

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    of: tuple[str, ...] = ()
    interaction: Literal["none", "cosine"] = "cosine"


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelSpec:
    """One classifier: a registry name or an import path, its parameters, per-target or not."""

    name: str
    estimator: str
    params: dict[str, Any] = field(default_factory=dict)
    per_target: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class CVSpec:
    """k-fold cross-validation on the train split.

    ``seed`` fixes the fold assignment independently of the model seeds, so that every seed
    sees the same folds and feature blocks are fitted once per fold.
    """

    folds: int = 5
    by: Literal["label", "group"] = "label"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise ValueError(f"folds: need at least 2 folds, got {self.folds}; use folds: 5")


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainSubsetSpec:
    """Train on a stratified subset of the training rows (learning curves, ``bench report``).

    ``size`` is a fraction in (0, 1] or a number of rows; the subset depends on ``seed`` only
    (not on the model seeds), and a smaller size with the same seed keeps a subset of the
    rows of a larger one (``bench.splits.nested_subset``). The test rows are unchanged.
    """

    size: int | float
    seed: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.size, bool) or not isinstance(self.size, (int, float)):
            raise ValueError(f"size: expected a fraction or a number of rows, got {self.size!r}")
        if isinstance(self.size, float) and not 0 < self.size <= 1:
            raise ValueError(f"size: a fraction must be in (0, 1], got {self.size}; or give a number of rows")
        if isinstance(self.size, int) and self.size < 1:
            raise ValueError(f"size: a number of rows must be at least 1, got {self.size}")


@dataclass(frozen=True, kw_only=True, slots=True)
class StreamingSpec:
    """The streaming path for corpora larger than memory (``bench.streaming``, docs/scale.md).

    ``enabled: auto`` streams when the train split has more than ``above_rows`` rows and
    the config can stream (stateless features such as hashing, models with
    ``partial_fit``, a test split); ``true`` always streams (and the config must be able
    to); ``false`` never. ``streaming: true | false | auto`` is short for ``{enabled: ...}``.
    """

    enabled: bool | Literal["auto"] = "auto"
    above_rows: int = 500_000
    chunk_rows: int = 20_000
    epochs: int = 1
    workers: int = 1  # processes that featurize chunks ahead of the model; no number depends on it

    def __post_init__(self) -> None:
        for key in ("above_rows", "chunk_rows", "epochs", "workers"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key}: must be at least 1, got {getattr(self, key)}")

    @classmethod
    def from_yaml(cls, value: Any, doc: Doc, path: KeyPath) -> StreamingSpec:
        """``true``, ``false``, ``auto`` or a mapping of the fields."""
        if isinstance(value, bool) or value == "auto":
            return cls(enabled=value)
        if not isinstance(value, dict):
            raise doc.error(path, f"expected true, false, auto or a mapping with keys enabled, above_rows, "
                            f"chunk_rows, epochs, workers, got {value!r}")
        check_keys(cls, value, doc, path)
        hints = {"enabled": bool | Literal["auto"], "above_rows": int, "chunk_rows": int, "epochs": int,
                 "workers": int}
        kwargs = {key: bind(tp, value[key], doc, (*path, key)) for key, tp in hints.items() if key in value}
        try:
            return cls(**kwargs)
        except ValueError as exc:
            key, _, problem = str(exc).partition(": ")
            raise doc.error((*path, key), problem) from None


def _default_bootstrap() -> BootstrapSpec:
    from bench.metrics import BootstrapSpec

    return BootstrapSpec()


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluationSpec:
    """How a job is evaluated: which splits (or CV), which metrics, which bootstrap.

    With ``cv``, the models are trained and scored by k-fold on ``train`` and ``test`` must be
    left out (it becomes ``None``). ``by_target`` adds one row per target value for every
    metric (SemEval-2016 reports F_avg per target). ``bootstrap: null`` turns CIs off.
    """

    train: str = "train"
    test: str | None = "test"
    cv: CVSpec | None = None
    metrics: tuple[str, ...] = ("accuracy", "f1_macro")
    bootstrap: BootstrapSpec | None = field(default_factory=_default_bootstrap)
    by_target: bool = False
    train_subset: TrainSubsetSpec | None = None
    streaming: StreamingSpec = field(default_factory=StreamingSpec)

    @classmethod
    def from_yaml(cls, value: Any, doc: Doc, path: KeyPath) -> EvaluationSpec:
        """Bind field by field: ``bootstrap`` is bound to ``bench.metrics.BootstrapSpec`` lazily."""
        from bench.metrics import BootstrapSpec

        if not isinstance(value, dict):
            raise doc.error(path, "expected a mapping with keys train, test, cv, metrics, bootstrap, by_target, "
                            "train_subset, streaming")
        check_keys(cls, value, doc, path)
        types: dict[str, Any] = {"train": str, "test": str | None, "cv": CVSpec | None,
                                 "metrics": tuple[str, ...], "bootstrap": BootstrapSpec | None,
                                 "by_target": bool, "train_subset": TrainSubsetSpec | None,
                                 "streaming": StreamingSpec}
        kwargs = {key: bind(tp, value[key], doc, (*path, key)) for key, tp in types.items() if key in value}
        if kwargs.get("cv") is not None:
            if kwargs.get("test") is not None:
                raise doc.error((*path, "test"), "give either a test split or cv, not both; "
                                "remove `test:` to cross-validate on the train split")
            kwargs["test"] = None
        elif "test" in value and kwargs.get("test") is None:
            raise doc.error((*path, "test"), "no test split and no cv; name a test split or add cv: {folds: 5}")
        if "metrics" in kwargs and not kwargs["metrics"]:
            raise doc.error((*path, "metrics"), "no metrics; list at least one, e.g. [accuracy, f1_macro]")
        return cls(**kwargs)


@dataclass(frozen=True, kw_only=True, slots=True)
class RunConfig:
    """A benchmark: the jobs are datasets x features x models x seeds."""

    name: str
    datasets: tuple[str, ...]
    features: tuple[FeatureSpec, ...]
    models: tuple[ModelSpec, ...]
    seeds: tuple[int, ...] = (0,)
    evaluation: EvaluationSpec = field(default_factory=EvaluationSpec)

    @property
    def n_jobs(self) -> int:
        """Jobs in the grid."""
        return len(self.datasets) * len(self.features) * len(self.models) * len(self.seeds)


@dataclass(frozen=True, kw_only=True)
class LoadedConfig:
    """A checked config with the parsed document, to locate later errors at their line."""

    config: RunConfig
    doc: Doc
    path: Path


@dataclass(frozen=True, kw_only=True)
class DatasetInfo:
    """What the config checks need to know of a dataset (from its ``stats.json``)."""

    name: str
    task: str
    multilabel: bool
    labels: tuple[str, ...]
    splits: tuple[str, ...]


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> LoadedConfig:
    """Read, override, bind and check a run config; ``ConfigError`` on the first problem."""
    path = Path(path)
    doc = apply_overrides(load_yaml(path), overrides)
    if doc.data is None:
        raise ConfigError(path, None, "", "empty config; see SPEC section 4 for the keys")
    config = bind(RunConfig, doc.data, doc)
    check_config(config, doc)
    return LoadedConfig(config=config, doc=doc, path=path)


def check_config(config: RunConfig, doc: Doc) -> None:
    """The checks that need no dataset: names, grid, registries, parameters."""
    if not SAFE_NAME.match(config.name):
        raise doc.error(("name",), f"{config.name!r} is not a safe name; use letters, digits, '.', '_' or '-'")
    for key in ("datasets", "features", "models", "seeds"):
        if not getattr(config, key):
            raise doc.error((key,), f"empty {key}: the job grid is empty; list at least one")
    _check_unique(doc, "datasets", list(config.datasets))
    _check_unique(doc, "seeds", list(config.seeds))
    _check_unique(doc, "features", [f.name for f in config.features], attr="name")
    _check_unique(doc, "models", [m.name for m in config.models], attr="name")
    for key, specs in (("features", config.features), ("models", config.models)):
        for i, spec in enumerate(specs):
            if not SAFE_NAME.match(spec.name) or "__" in spec.name:
                raise doc.error((key, i, "name"), f"{spec.name!r} is not a safe name; use letters, digits, "
                                "'.', '_' or '-' (no '__', it separates job id parts)")
    _check_features(config, doc)
    _check_models(config, doc)
    _check_metric_names(config, doc)
    _check_streaming(config, doc)


def _check_unique(doc: Doc, key: str, values: list[Any], attr: str | None = None) -> None:
    seen: dict[Any, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            where = (key, i, attr) if attr else (key, i)
            raise doc.error(where, f"duplicate {value!r} (also {key}[{seen[value]}]); names must be unique")
        seen[value] = i


def _check_features(config: RunConfig, doc: Doc) -> None:
    from bench.features import FEATURES, check_feature_params

    blocks = {f.name: f for f in config.features}
    for i, spec in enumerate(config.features):
        try:
            FEATURES.get(spec.kind)
        except UnknownNameError as exc:
            raise doc.error(("features", i, "kind"), _with_known(exc, FEATURES.names())) from None
        try:
            check_feature_params(spec, blocks)
        except ValueError as exc:
            raise _located(doc, ("features", i), exc) from None


def _check_models(config: RunConfig, doc: Doc) -> None:
    from bench.features import features_nonnegative
    from bench.models import check_model_params, needs_nonnegative

    blocks = {f.name: f for f in config.features}
    for i, spec in enumerate(config.models):
        try:
            check_model_params(spec)
        except UnknownNameError as exc:
            raise doc.error(("models", i, "estimator"), str(exc)) from None
        except ValueError as exc:
            raise _located(doc, ("models", i), exc) from None
        if needs_nonnegative(spec):
            for block in config.features:
                if not features_nonnegative(block, blocks):
                    raise doc.error(("models", i, "estimator"), f"{spec.estimator} needs features >= 0 but feature "
                                    f"block {block.name!r} can be negative; use tfidf/count blocks (or hashing with "
                                    "alternate_sign: false) or another model")


def _check_metric_names(config: RunConfig, doc: Doc) -> None:
    from bench.metrics import METRICS

    for i, name in enumerate(config.evaluation.metrics):
        try:
            METRICS.get(name)
        except UnknownNameError as exc:
            raise doc.error(("evaluation", "metrics", i), _with_known(exc, METRICS.names())) from None
    _check_unique(doc, "evaluation.metrics", list(config.evaluation.metrics))


def _check_streaming(config: RunConfig, doc: Doc) -> None:
    """``streaming: true`` needs a config that can stream (``bench.streaming.streaming_problem``)."""
    if config.evaluation.streaming.enabled is not True:
        return
    from bench.streaming import streaming_problem

    problem = streaming_problem(config)
    if problem is not None:
        raise doc.error(("evaluation", "streaming"), problem)


def _with_known(exc: UnknownNameError, names: Sequence[str]) -> str:
    return str(exc) if exc.suggestions else f"{exc}; known: {', '.join(names)}"


def _located(doc: Doc, base: KeyPath, exc: Exception) -> ConfigError:
    """Turn ``ValueError("params.C: problem; fix")`` into an error at ``base.params.C``.

    The line is that of the deepest part of the key path that the document knows.
    """
    key, sep, problem = str(exc).partition(": ")
    if not (sep and re.fullmatch(r"[A-Za-z_][\w.]*", key)):
        return doc.error(base, str(exc))
    path: KeyPath = (*base, *key.split("."))
    while len(path) > len(base) and path not in doc.origins:
        path = path[:-1]
    file, line = doc.where(path)
    return ConfigError(file, line, f"{format_path(base)}.{key}", problem)


def _scores_problem(metric: str, model: ModelSpec) -> str | None:
    """Why ``model`` cannot give what ``metric`` needs, or ``None``.

    Decision values rank items (enough for ROC AUC) but are no probabilities: a metric of
    probabilities (``MetricSpec.needs_probabilities``) needs a model with predict_proba.
    """
    from bench.metrics import METRICS
    from bench.models import score_kind

    kind = score_kind(model)
    if METRICS.get(metric).needs_probabilities and kind == "decision":
        return (f"{metric} needs probabilities but model {model.name!r} ({model.estimator}) gives decision "
                "values only; drop the metric or use a model with predict_proba (logistic_regression, "
                "complement_nb, sgd with loss: log_loss)")
    return None


def check_datasets(loaded: LoadedConfig, datasets: Mapping[str, DatasetInfo]) -> None:
    """The checks that need the datasets: splits exist, each metric fits each task and model.

    Args:
        loaded: the checked config.
        datasets: dataset info by the config's ``datasets`` entry.
    """
    from bench.metrics import check_metric
    from bench.models import score_kind

    config, doc = loaded.config, loaded.doc
    ev = config.evaluation
    for entry in config.datasets:
        info = datasets[entry]
        for key in ("train", "test"):
            split = getattr(ev, key)
            if split is not None and split not in info.splits:
                raise doc.error(("evaluation", key), f"dataset {info.name!r} has no split {split!r}; "
                                f"its splits: {', '.join(info.splits)}")
        if ev.by_target and info.task != "stance":
            raise doc.error(("evaluation", "by_target"), f"dataset {info.name!r} is a {info.task} task "
                            "without targets; remove by_target or use a stance dataset")
        for m, model in enumerate(config.models):
            if model.per_target and info.task != "stance":
                raise doc.error(("models", m, "per_target"), f"dataset {info.name!r} is a {info.task} task "
                                "without targets; set per_target: false")
            has_scores = score_kind(model) is not None
            for j, metric in enumerate(ev.metrics):
                try:
                    check_metric(metric, task=info.task, multilabel=info.multilabel,
                                 labels=info.labels, has_scores=has_scores)
                except ValueError as exc:
                    raise doc.error(("evaluation", "metrics", j),
                                    f"{metric} on dataset {info.name!r} with model {model.name!r}: {exc}") from None
                problem = _scores_problem(metric, model)
                if problem:
                    raise doc.error(("evaluation", "metrics", j), problem)
