"""Checking a run config: the YAML bound to the spec dataclasses, then every name and parameter.

``load_config`` parses the YAML with line marks, applies ``--set`` overrides, binds it to the
frozen dataclasses of ``bench.config.spec`` and then checks what annotations cannot say:
registry names (with suggestions), feature and model parameters against the real signatures,
unique names, ``union`` references, a non-empty job grid. ``check_datasets`` adds the checks
that need the datasets (splits, metrics against task and labels). Every problem is a
``ConfigError`` at ``file:line: key.path``, raised before anything trains.

Heavy modules (features, models, metrics) are imported inside functions, so that importing
this module stays cheap for ``bench validate`` and ``bench --help``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.config.spec import SAFE_NAME, DatasetInfo, LoadedConfig, ModelSpec, RunConfig
from bench.core.errors import ConfigError, UnknownNameError
from bench.core.loader import Doc, KeyPath, apply_overrides, bind, format_path, load_yaml


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> LoadedConfig:
    """Read, override, bind and check a run config; ``ConfigError`` on the first problem."""
    path = Path(path)
    doc = apply_overrides(load_yaml(path), overrides)
    if doc.data is None:
        raise ConfigError(path, None, "", "empty config; see docs/configs.md for the keys")
    config = bind(RunConfig, doc.data, doc)
    check_config(config, doc)
    return LoadedConfig(config=config, doc=doc, path=path)


def check_config(config: RunConfig, doc: Doc) -> None:
    """The checks that need no dataset: names, grid, registries, parameters."""
    if not SAFE_NAME.match(config.name):
        raise doc.error(("name",), f"{config.name!r} is not a safe name; use letters, digits, '.', '_' or '-'")
    for key in ("datasets", "models", "seeds"):
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
    _check_text_models(config, doc)
    _check_tune(config, doc)
    _check_held_out_targets(config, doc)
    _check_metric_names(config, doc)
    _check_streaming(config, doc)
    _check_probes(config, doc)


def _check_probes(config: RunConfig, doc: Doc) -> None:
    """Known probe names and parameters, each probe once, not on the streaming path."""
    from bench.corpus.perturb import PROBES, resolve_probe

    probes = config.evaluation.probes
    if probes is None:
        return
    if not probes:
        raise doc.error(("evaluation", "probes"), "no probes; list at least one (e.g. [typos, lowercase]) or "
                        "remove the key")
    if config.evaluation.streaming.enabled is True:
        raise doc.error(("evaluation", "probes"), "probes score the test split again in memory, and streaming is "
                        "on; set streaming: false or remove probes")
    seen: dict[str, int] = {}
    for i, spec in enumerate(probes):
        try:
            label = resolve_probe(spec.name, spec.params).label
        except UnknownNameError as exc:
            raise doc.error(("evaluation", "probes", i, "name"), _with_known(exc, PROBES.names())) from None
        except ValueError as exc:
            raise _located(doc, ("evaluation", "probes", i), exc) from None
        if label in seen:
            raise doc.error(("evaluation", "probes", i), f"probe {label} is listed twice (also evaluation.probes"
                            f"[{seen[label]}]); list each once")
        seen[label] = i


def _check_unique(doc: Doc, key: str, values: list[Any], attr: str | None = None) -> None:
    seen: dict[Any, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            where = (key, i, attr) if attr else (key, i)
            raise doc.error(where, f"duplicate {value!r} (also {key}[{seen[value]}]); names must be unique")
        seen[value] = i


def _check_features(config: RunConfig, doc: Doc) -> None:
    from bench.learn.features import FEATURES, check_feature_params, feature_kind

    blocks = {f.name: f for f in config.features}
    for i, spec in enumerate(config.features):
        try:
            feature_kind(spec.kind)
        except UnknownNameError as exc:
            raise doc.error(("features", i, "kind"), _with_known(exc, FEATURES.names())) from None
        try:
            check_feature_params(spec, blocks)
        except ValueError as exc:
            raise _located(doc, ("features", i), exc) from None


def _check_models(config: RunConfig, doc: Doc) -> None:
    from bench.learn.features import features_nonnegative
    from bench.learn.models import check_model_params, needs_nonnegative

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


def _check_text_models(config: RunConfig, doc: Doc) -> None:
    """Text-in models need no block, models on blocks need one (``blocks``: known ones), no block is ``text``."""
    from bench.learn.models import TEXT_BLOCK, model_input

    inputs = [model_input(m) for m in config.models]
    if "text" in inputs:
        for i, block in enumerate(config.features):
            if block.name == TEXT_BLOCK:
                raise doc.error(("features", i, "name"), f"{TEXT_BLOCK!r} is the feature name of text-in models' "
                                "jobs; rename this block")
    names = [f.name for f in config.features]
    for i, (model, kind) in enumerate(zip(config.models, inputs, strict=True)):
        if model.blocks is not None and kind == "text":
            raise doc.error(("models", i, "blocks"), f"model {model.name!r} reads texts and pairs with no feature "
                            "block; remove blocks")
        if model.blocks is not None and not model.blocks:
            raise doc.error(("models", i, "blocks"), "empty list; name the blocks to pair with, or remove blocks "
                            "to pair with every block")
        for j, name in enumerate(model.blocks or ()):
            if name not in names:
                hint = difflib.get_close_matches(name, names, n=1)
                raise doc.error(("models", i, "blocks", j), f"no feature block named {name!r}"
                                + (f"; did you mean {hint[0]!r}?" if hint else "; name a block under features"))
    if not config.features and "features" in inputs:
        i = inputs.index("features")
        raise doc.error(("models", i, "estimator"), f"model {config.models[i].name!r} is fitted on feature blocks "
                        "and the config has none; add a block under features, or set input: text for a model "
                        "that reads texts")


def _check_tune(config: RunConfig, doc: Doc) -> None:
    """Each ``tune``: known metric of one value, folds >= 2, non-empty values of real parameters."""
    from dataclasses import replace

    from bench.learn.models import check_model_params, model_input
    from bench.metrics import METRICS
    from bench.run.tuning import RANGES, range_of

    for i, model in enumerate(config.models):
        tune = model.tune
        if tune is None:
            continue
        base = ("models", i, "tune")
        if model_input(model) == "text":
            raise doc.error(base, f"model {model.name!r} reads texts (input: text), and tuning searches over feature "
                            "blocks' inner folds; tune inside the model (e.g. a GridSearchCV) or drop tune")
        if not tune.params:
            raise doc.error((*base, "params"), "empty search space; list at least one parameter, e.g. {C: [0.5, 2]}")
        if tune.folds < 2:
            raise doc.error((*base, "folds"), f"need at least 2 inner folds, got {tune.folds}; use folds: 3")
        if tune.n_iter is not None and tune.n_iter < 1:
            raise doc.error((*base, "n_iter"), f"need at least 1 candidate, got {tune.n_iter}; use n_iter: 10")
        try:
            metric = METRICS.get(tune.metric)
        except UnknownNameError as exc:
            raise doc.error((*base, "metric"), _with_known(exc, METRICS.names())) from None
        if metric.per_class:
            raise doc.error((*base, "metric"), f"{tune.metric} has one value per class; tune on one number, "
                            "e.g. f1_macro")
        problem = _scores_problem(tune.metric, model)
        if problem:
            raise doc.error((*base, "metric"), problem)
        for name, values in tune.params.items():
            where = (*base, "params", name)
            span = range_of(values)
            if span is not None:
                if tune.n_iter is None:
                    raise doc.error(where, f"a {span[0]} range needs random search; add n_iter (e.g. n_iter: 10) "
                                    "or list values")
                if not span[1] < span[2] or (span[0] == "log_uniform" and span[1] <= 0):
                    raise doc.error(where, f"{span[0]} range [{span[1]:g}, {span[2]:g}] is empty or not positive; "
                                    "write [low, high] with low < high (and low > 0 for log_uniform)")
                tried = [span[1], span[2]]
            elif isinstance(values, list) and values:
                tried = values
            else:
                raise doc.error(where, f"expected a non-empty list of values or a range "
                                f"({' or '.join(f'{{{r}: [low, high]}}' for r in RANGES)}); e.g. [0.5, 2]")
            if name in model.params:
                raise doc.error(where, f"{name!r} is also in models[{i}].params; remove it from one of them")
            for value in tried:
                try:
                    check_model_params(replace(model, params={**model.params, name: value}, tune=None))
                except ValueError as exc:
                    raise doc.error(where, str(exc).partition(": ")[2] or str(exc)) from None


def count_fits(config: RunConfig, grid_models: Sequence[ModelSpec] | None = None) -> int:
    """Model fits a run makes: per job and outer unit, the refit plus inner folds x candidates when tuned.

    ``grid_models``: the model of each (block, model) job of one dataset and seed
    (``bench.run.runner.job_grid``); default: every model with every block.
    """
    from bench.run.tuning import n_candidates

    if grid_models is None:
        grid_models = [m for f in config.features for m in config.models if m.blocks is None or f.name in m.blocks]
    units = config.evaluation.cv.folds if config.evaluation.cv else 1
    per_seed = sum(1 + (m.tune.folds * n_candidates(m.tune) if m.tune else 0) for m in grid_models)
    ev = config.evaluation
    n_data = sum(len(t.train) * len(t.test) for t in ev.transfer) if ev.transfer else len(config.datasets)
    return n_data * len(config.seeds) * units * per_seed


def _check_held_out_targets(config: RunConfig, doc: Doc) -> None:
    """Leave-one-target-out has no training rows of the held-out target: a per-target model has nothing to fit."""
    cv = config.evaluation.cv
    if cv is None or cv.by != "target":
        return
    for i, model in enumerate(config.models):
        if model.per_target:
            raise doc.error(("models", i, "per_target"), "a per-target model has no training rows for the target "
                            "that cv by: target holds out; set per_target: false")


def _check_metric_names(config: RunConfig, doc: Doc) -> None:
    from bench.metrics import METRICS

    for i, name in enumerate(config.evaluation.metrics):
        try:
            METRICS.get(name)
        except UnknownNameError as exc:
            raise doc.error(("evaluation", "metrics", i), _with_known(exc, METRICS.names())) from None
    _check_unique(doc, "evaluation.metrics", list(config.evaluation.metrics))


def _check_streaming(config: RunConfig, doc: Doc) -> None:
    """``streaming: true`` needs a config that can stream (``bench.run.streaming.streaming_problem``)."""
    if config.evaluation.streaming.enabled is not True:
        return
    from bench.run.streaming import streaming_problem

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
    from bench.learn.models import score_kind
    from bench.metrics import METRICS

    kind = score_kind(model)
    if METRICS.get(metric).needs_probabilities and kind == "decision":
        return (f"{metric} needs probabilities but model {model.name!r} ({model.estimator}) gives decision "
                "values only; drop the metric or use a model with predict_proba (logistic_regression, "
                "complement_nb, sgd with loss: log_loss)")
    return None


def check_datasets(loaded: LoadedConfig, datasets: Mapping[str, DatasetInfo], *, complete: bool = True) -> None:
    """The checks that need the datasets: splits exist, each metric fits each task and model.

    Args:
        loaded: the checked config.
        datasets: dataset info by the config's ``datasets`` entry.
        complete: ``datasets`` holds every dataset of the run (``bench validate`` before a build
            does not: transfer pairs naming a dataset not built yet are then skipped).
    """
    from bench.learn.models import score_kind
    from bench.metrics import check_metric
    from bench.run.transfer import check_transfer

    config, doc = loaded.config, loaded.doc
    ev = config.evaluation
    check_transfer(loaded, datasets, complete=complete)
    _check_probe_tasks(loaded, datasets)
    for entry in config.datasets:
        info = datasets[entry]
        for key in ("train", "test"):
            split = getattr(ev, key)
            if split is not None and split not in info.splits:
                raise doc.error(("evaluation", key), f"dataset {info.name!r} has no split {split!r}; "
                                f"its splits: {', '.join(info.splits)}")
        if ev.cv is not None and ev.cv.by == "target" and info.task != "stance":
            raise doc.error(("evaluation", "cv", "by"), f"dataset {info.name!r} is a {info.task} task without "
                            "targets; leave-one-target-out needs a stance dataset")
        if ev.by_target and info.task != "stance":
            raise doc.error(("evaluation", "by_target"), f"dataset {info.name!r} is a {info.task} task "
                            "without targets; remove by_target or use a stance dataset")
        for f, block in enumerate(config.features):
            if block.interaction == "cosine_only" and info.task != "stance":
                raise doc.error(("features", f, "interaction"), f"cosine_only is the cosine of a text and its target, "
                                f"and dataset {info.name!r} is a {info.task} task without targets; remove it")
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
            if model.tune is not None:
                try:
                    check_metric(model.tune.metric, task=info.task, multilabel=info.multilabel,
                                 labels=info.labels, has_scores=has_scores)
                except ValueError as exc:
                    raise doc.error(("models", m, "tune", "metric"), f"{model.tune.metric} on dataset "
                                    f"{info.name!r}: {exc}") from None


def _check_probe_tasks(loaded: LoadedConfig, datasets: Mapping[str, DatasetInfo]) -> None:
    """A pairs-only probe must fit some dataset; on the others it is skipped (noted in each job's record)."""
    from bench.corpus.perturb import PROBES

    tasks = {info.task for info in datasets.values()}
    for i, spec in enumerate(loaded.config.evaluation.probes or ()):
        if PROBES.get(spec.name).pairs_only and "stance" not in tasks:
            raise loaded.doc.error(("evaluation", "probes", i), f"probe {spec.name!r} needs headline/body pairs, "
                                   f"and no dataset of this config is a stance task; remove it")
