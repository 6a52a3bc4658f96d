"""Benchmark run configs as frozen data: the dataclasses a run config's YAML binds to.

A config is data: these classes say which keys exist, their types and defaults, and check
what a single value can check alone. Everything that needs a registry (feature kinds, models,
metrics) or a dataset is checked one layer up, in ``bench.run.validate``. The keys are
documented for users in ``docs/configs.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.core.loader import Doc, KeyPath, bind, check_keys
from bench.stats.bootstrap import METHODS

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True, kw_only=True, slots=True)
class FeatureSpec:
    """One feature block: a vectorizer (or a union of other blocks) and its parameters."""

    name: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    of: tuple[str, ...] = ()
    interaction: Literal["none", "cosine", "cosine_only"] = "cosine"


@dataclass(frozen=True, kw_only=True, slots=True)
class TuneSpec:
    """A search space for a model's parameters, searched by inner cross-validation (docs/configs.md).

    Each ``params`` value is a list (grid values) or a range ``{uniform: [a, b]}`` /
    ``{log_uniform: [a, b]}`` (random search: needs ``n_iter``). With ``n_iter``, that many
    candidates are drawn with ``seed`` (default: the job's seed); without, the full grid is
    tried in the order written. Registry-dependent checks live in ``bench.run.validate``.
    """

    params: dict[str, Any]
    folds: int = 3
    metric: str = "f1_macro"
    n_iter: int | None = None
    seed: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelSpec:
    """One classifier: a registry name or an import path, its parameters, per-target or not.

    ``input: text`` (docs/models.md) is a model fitted on the texts themselves: it forms one
    job per dataset and seed with the pseudo feature block ``text`` instead of one per block;
    unset, a registered model's own input applies (feature blocks for import paths).
    """

    name: str
    estimator: str
    params: dict[str, Any] = field(default_factory=dict)
    per_target: bool = False
    # left out of the snapshot while unset, so configs written before the key keep their hash
    input: Literal["features", "text"] | None = field(default=None, metadata={"omit_if_none": True})
    # left out of the snapshot when unset, so that configs without tuning keep their hash
    tune: TuneSpec | None = field(default=None, metadata={"omit_if_none": True})
    # the feature blocks it pairs with (unset: every block); left out of the snapshot while unset
    blocks: tuple[str, ...] | None = field(default=None, metadata={"omit_if_none": True})


@dataclass(frozen=True, kw_only=True, slots=True)
class CVSpec:
    """k-fold cross-validation on the train split.

    ``seed`` fixes the fold assignment independently of the model seeds, so that every seed
    sees the same folds and feature blocks are fitted once per fold. ``by: target`` is
    leave-one-target-out: one fold per target value (``folds`` and ``seed`` then play no part).
    """

    folds: int = 5
    by: Literal["label", "group", "target"] = "label"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise ValueError(f"folds: need at least 2 folds, got {self.folds}; use folds: 5")


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainSubsetSpec:
    """Train on a stratified subset of the training rows (learning curves, ``bench report``).

    ``size`` is a fraction in (0, 1] or a number of rows; the subset depends on ``seed`` only
    (not on the model seeds), and a smaller size with the same seed keeps a subset of the
    rows of a larger one (``bench.corpus.splits.nested_subset``). The test rows are unchanged.
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
    """The streaming path for corpora larger than memory (``bench.run.streaming``, docs/scale.md).

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


@dataclass(frozen=True, kw_only=True, slots=True)
class DriftSpec:
    """Temporal drift (``evaluation.drift``, ``bench.run.drift``): train before a date, score later windows.

    ``window`` is ``month``, ``quarter``, ``year`` (calendar periods) or a number of days
    (periods counted from ``train_before``). A window with fewer than ``min_items`` test items
    gets rows without a value rather than a number too noisy to read. ``undated: skip`` leaves
    rows without a date out of both sides (the default refuses them).
    """

    train_before: dt.date
    column: str = "date"
    window: str | int = "quarter"
    min_items: int = 10
    undated: Literal["error", "skip"] = "error"

    def __post_init__(self) -> None:
        if isinstance(self.window, str) and self.window not in WINDOWS:
            raise ValueError(f"window: expected {', '.join(WINDOWS)} or a number of days, got {self.window!r}")
        if isinstance(self.window, int) and self.window < 1:
            raise ValueError(f"window: a number of days must be at least 1, got {self.window}")
        if self.min_items < 1:
            raise ValueError(f"min_items: must be at least 1, got {self.min_items}")


WINDOWS = ("month", "quarter", "year")


@dataclass(frozen=True, kw_only=True)
class BootstrapSpec:
    """How to bootstrap confidence intervals (the ``evaluation.bootstrap`` config block)."""

    samples: int = 1000
    confidence: float = 0.95
    method: Literal["percentile", "bca"] = "percentile"

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ValueError(f"samples: must be at least 1, got {self.samples}; 1000 is usual")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence: must be between 0 and 1, got {self.confidence}; e.g. 0.95")
        if self.method not in METHODS:
            raise ValueError(f"method: unknown {self.method!r}; use one of {', '.join(METHODS)}")


@dataclass(frozen=True, kw_only=True, slots=True)
class TransferSpec:
    """Train on each ``train`` dataset, test on each ``test`` dataset (``evaluation.transfer``, docs/configs.md).

    Names are dataset names (``name:`` in a dataset spec). ``label_map`` maps a test label to a
    train label, or to ``null`` to leave that label's test rows out; test labels that are also
    train labels map to themselves. ``train``/``test`` take one name or a list.
    """

    train: tuple[str, ...]
    test: tuple[str, ...]
    label_map: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, value: Any, doc: Doc, path: KeyPath) -> TransferSpec:
        if not isinstance(value, dict):
            raise doc.error(path, "expected a mapping like {train: fnc1, test: [arc], label_map: {}}")
        check_keys(cls, value, doc, path)
        for key in ("train", "test"):
            if key not in value:
                raise doc.error(path, f"missing key {key!r}; write {{train: fnc1, test: [arc]}}")
        kwargs: dict[str, Any] = {key: bind(tuple[str, ...], [value[key]] if isinstance(value[key], str)
                                            else value[key], doc, (*path, key)) for key in ("train", "test")}
        for key in ("train", "test"):
            if not kwargs[key]:
                raise doc.error((*path, key), "empty list; name at least one dataset")
        kwargs["label_map"] = bind(dict[str, str | None], value.get("label_map", {}), doc, (*path, "label_map"))
        return cls(**kwargs)


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeSpec:
    """A robustness probe (docs/generalization.md): ``typos`` or ``{name: typos, params: {rate: 0.1}}``.

    Names and parameters are checked against ``bench.corpus.perturb.PROBES`` in ``bench.run.validate``.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, value: Any, doc: Doc, path: KeyPath) -> ProbeSpec:
        if isinstance(value, str):
            return cls(name=value)
        if not isinstance(value, dict):
            raise doc.error(path, f"expected a probe name or {{name: ..., params: {{...}}}}, got {value!r}")
        check_keys(cls, value, doc, path)
        if "name" not in value:
            raise doc.error(path, "missing required key 'name'; e.g. {name: typos, params: {rate: 0.05}}")
        return cls(name=bind(str, value["name"], doc, (*path, "name")),
                   params=bind(dict[str, Any], value.get("params", {}), doc, (*path, "params")))


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluationSpec:
    """How a job is evaluated: which splits (or CV), which metrics, which bootstrap.

    With ``cv``, the models are trained and scored by k-fold on ``train`` and ``test`` must be
    left out (it becomes ``None``). ``by_target`` adds one row per target value for every
    metric (SemEval-2016 reports F_avg per target). ``bootstrap: null`` turns CIs off.
    ``on_degenerate`` says what a run does with degenerate data (one class in a split, a
    label without training or test rows: ``bench.run.degenerate``): warn, or refuse.
    ``drift`` trains before a date and scores later time windows (``bench.run.drift``).
    """

    train: str = "train"
    test: str | None = "test"
    cv: CVSpec | None = None
    metrics: tuple[str, ...] = ("accuracy", "f1_macro")
    bootstrap: BootstrapSpec | None = field(default_factory=BootstrapSpec)
    by_target: bool = False
    train_subset: TrainSubsetSpec | None = None
    streaming: StreamingSpec = field(default_factory=StreamingSpec)
    on_degenerate: Literal["warn", "error"] = "warn"
    # left out of the snapshot while unset, so configs written before the key keep their hash
    drift: DriftSpec | None = field(default=None, metadata={"omit_if_none": True})
    # train on one dataset, test on others (bench.run.transfer); omitted while unset: old hashes stay
    transfer: tuple[TransferSpec, ...] | None = field(default=None, metadata={"omit_if_none": True})
    # robustness probes (docs/generalization.md); left out of the snapshot while unset (old hashes hold)
    probes: tuple[ProbeSpec, ...] | None = field(default=None, metadata={"omit_if_none": True})

    @classmethod
    def from_yaml(cls, value: Any, doc: Doc, path: KeyPath) -> EvaluationSpec:
        """Bind field by field: ``bootstrap`` is bound to ``bench.metrics.BootstrapSpec`` lazily."""

        if not isinstance(value, dict):
            raise doc.error(path, "expected a mapping with keys train, test, cv, metrics, bootstrap, by_target, "
                            "train_subset, streaming, on_degenerate, drift, transfer, probes")
        check_keys(cls, value, doc, path)
        types: dict[str, Any] = {"train": str, "test": str | None, "cv": CVSpec | None,
                                 "metrics": tuple[str, ...], "bootstrap": BootstrapSpec | None,
                                 "by_target": bool, "train_subset": TrainSubsetSpec | None,
                                 "streaming": StreamingSpec, "on_degenerate": Literal["warn", "error"],
                                 "drift": DriftSpec | None, "transfer": tuple[TransferSpec, ...] | None,
                                 "probes": tuple[ProbeSpec, ...] | None}
        kwargs = {key: bind(tp, value[key], doc, (*path, key)) for key, tp in types.items() if key in value}
        if kwargs.get("cv") is not None:
            if kwargs.get("test") is not None:
                raise doc.error((*path, "test"), "give either a test split or cv, not both; "
                                "remove `test:` to cross-validate on the train split")
            kwargs["test"] = None
        elif "test" in value and kwargs.get("test") is None:
            raise doc.error((*path, "test"), "no test split and no cv; name a test split or add cv: {folds: 5}")
        if kwargs.get("drift") is not None and kwargs.get("cv") is not None:
            raise doc.error((*path, "drift"), "drift trains once before a date; remove cv (or drift)")
        if kwargs.get("drift") is not None and kwargs.get("transfer") is not None:
            raise doc.error((*path, "drift"), "drift and transfer are two evaluations; keep one per config")
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
        """Jobs in the grid, counting ``input: text`` models once per dataset and seed.

        A registered text-in model without ``input:`` is known only to the registry:
        ``bench.run.validate.job_grid`` gives the exact grid.
        """
        n_text = sum(m.input == "text" for m in self.models)
        per_seed = sum(len(self.features if m.blocks is None else m.blocks) for m in self.models
                       if m.input != "text") + n_text
        ev = self.evaluation
        n_data = sum(len(t.train) * len(t.test) for t in ev.transfer) if ev.transfer else len(self.datasets)
        return n_data * per_seed * len(self.seeds)


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
