"""Metrics per slice of the test items: language, source outlet, stance target, text length.

An aggregate score hides where a model fails: a stance classifier can be good on one
target and at chance on another, a topic model good on one outlet's house style only.
A slice is the set of test items that share a value of one dimension:

- ``language``, ``source``, ``target``: the dataset's own column of that name;
- ``length``: the text's word count, cut at the test split's terciles, so the three
  buckets hold about a third of the items each and are labelled with their word ranges.

Each slice gets the metric averaged over seeds with a percentile bootstrap CI over its
items, computed exactly like a ``bench compare`` cell (``bench.metrics.joint``).
**Rule for small slices:** a slice with fewer than ``MIN_ITEMS`` (30) items is marked
``too_small`` and given no number: with 29 items the 95% CI of an accuracy between 0.5
and 0.8 is ±0.15 to ±0.18 wide, and a number without its interval would invite reading
noise as signal.
A dimension whose column is missing, or holds one value only, gives no slices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.results.recorded import open_recorded
from bench.results.transfer import test_dataset

if TYPE_CHECKING:
    import pandas as pd

    from bench.compare.systems import Outputs
    from bench.results.store import RunDir

MIN_ITEMS = 30
DIMENSIONS = ("language", "source", "target", "length")
MAX_GROUPS = 25


@dataclass(frozen=True, kw_only=True)
class SliceRow:
    """One system's metric on one slice.

    Attributes:
        dataset: the dataset.
        system: ``features/model`` (prefixed by the run label when several runs are sliced).
        dimension: one of ``DIMENSIONS``.
        group: the slice's value (a language code, an outlet, a target, a length bucket).
        n_items: test items in the slice.
        metric: the metric.
        value: seed-mean metric, ``None`` when ``too_small``.
        ci_low: lower end of the bootstrap CI, ``None`` when ``too_small``.
        ci_high: upper end.
        too_small: fewer than ``min_items`` items: no number is given.
    """

    dataset: str
    system: str
    dimension: str
    group: str
    n_items: int
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    too_small: bool


def evaluated_split(run: RunDir, dataset: str) -> str:
    """The split a run's predictions on ``dataset`` cover (``test``, or ``train`` for CV)."""
    rows = [r for r in run.rows() if r.get("dataset") == dataset and r.get("split")]
    if rows:
        return str(rows[0]["split"])
    evaluation = run.manifest.get("evaluation") or {}
    return str(evaluation.get("test") or evaluation.get("train") or "test")


def load_items(run: RunDir, dataset: str, data_root: Path | None = None) -> pd.DataFrame:
    """The evaluated split of a run's dataset, indexed by item id (text, label, target, ...).

    Raises:
        DataError: the dataset is missing, or was rebuilt since the run (another fingerprint
            than the manifest's): its items may carry other labels, so no slice is computed.
    """
    from bench.corpus import load_split

    built = open_recorded(run, dataset, data_root)
    frame = load_split(built, evaluated_split(run, dataset))
    return frame.set_index(frame["id"].astype(str), drop=False)


def length_buckets(texts: Sequence[str]) -> list[str]:
    """Each text's length bucket: word count cut at the terciles, labelled with the word range."""
    counts = np.array([len(str(t).split()) for t in texts], dtype=np.int64)
    if len(counts) == 0:
        return []
    # short: <= the first tercile; medium: up to the second; long: above (fewer when values tie)
    edges = np.unique(np.quantile(counts, [1 / 3, 2 / 3], method="lower"))
    bucket = np.searchsorted(edges, counts, side="left")
    present = np.unique(bucket)
    words = {3: ("short", "medium", "long"), 2: ("short", "long"), 1: ("all",)}[len(present)]
    names = {}
    for word, b in zip(words, present):
        members = counts[bucket == b]
        low, high = int(members.min()), int(members.max())
        names[b] = f"{word}: {low} word{'s' if low != 1 else ''}" if low == high else f"{word}: {low}-{high} words"
    return [names[b] for b in bucket]


def item_groups(items: pd.DataFrame, dimension: str) -> pd.Series | None:
    """The slice of every item along ``dimension`` (index: item id), or ``None`` if it has no slices."""
    import pandas as pd

    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown slice dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
    if dimension == "length":
        groups = pd.Series(length_buckets(items["text"].tolist()), index=items.index, dtype=object)
    elif dimension in items.columns:
        groups = items[dimension].astype(object).where(items[dimension].notna(), "(none)").astype(str)
        groups = groups.replace("", "(none)")
    else:
        return None
    return groups if groups.nunique() > 1 else None


def subset(out: Outputs, index: np.ndarray) -> Outputs:
    """The same system restricted to the items at ``index`` (positions in ``out.ids``)."""
    return dataclasses.replace(out, ids=out.ids[index], gold=out.gold[index], preds=out.preds[:, index],
                               scores=None if out.scores is None else out.scores[:, index])


def slice_metrics(out: Outputs, groups: pd.Series, *, system: str, dimension: str, metric: str,
                  samples: int = 1000, confidence: float = 0.95, seed: int = 0,
                  min_items: int = MIN_ITEMS, max_groups: int = MAX_GROUPS) -> list[SliceRow]:
    """One row per slice (largest first, at most ``max_groups``) of one system.

    Args:
        out: the system's predictions (``bench.compare.systems.load_outputs``).
        groups: each item's slice, indexed by item id; items absent from it are ``(unknown)``.
        system: the label shown for the system.
        dimension: the dimension the groups come from.
        metric: a scalar metric name (``accuracy``, ``f1_macro``, ``f1[agree]``).
        samples: bootstrap resamples per slice.
        confidence: CI level.
        seed: seed of the resampling.
        min_items: slices smaller than this are ``too_small`` and get no number.
        max_groups: the largest slices kept.
    """
    from bench.compare.resample import joint_sample, resolve_metric
    from bench.stats import bootstrap as bs

    ref = resolve_metric(metric)
    labels = groups.reindex(out.ids).fillna("(unknown)").to_numpy(dtype=object)
    names, counts = np.unique(labels.astype(str), return_counts=True)
    order = sorted(range(len(names)), key=lambda i: (-counts[i], names[i]))[:max_groups]
    rows = []
    for i in order:
        group, index = str(names[i]), np.flatnonzero(labels == names[i])
        base = dict(dataset=out.key.dataset, system=system, dimension=dimension, group=group,
                    n_items=len(index), metric=ref.name)
        if len(index) < min_items:
            rows.append(SliceRow(**base, value=None, ci_low=None, ci_high=None, too_small=True))
            continue
        joint = joint_sample([subset(out, index)], ref)
        point = float(joint.points()[0])
        draws = joint.draws(samples, bs.named_rng(seed, out.stream_name, str(out.key), dimension, group))[:, 0]
        ci = bs.interval(draws, np.asarray(point), confidence)
        low, high = float(ci.low), float(ci.high)
        rows.append(SliceRow(**base, value=point, ci_low=None if np.isnan(low) else low,
                             ci_high=None if np.isnan(high) else high, too_small=False))
    return rows


def slice_run(run: RunDir, dimensions: Sequence[str], *, metric: str | None = None,
              data_root: Path | None = None, samples: int = 1000, confidence: float = 0.95,
              seed: int = 0) -> list[SliceRow]:
    """Every system of one run sliced along ``dimensions`` (``bench show --by``).

    Raises:
        DataError: the run's dataset cannot be found (slices need the items' attributes).
        ResultsError: the metric does not apply to the run's predictions.
    """
    from bench.compare.systems import load_outputs
    from bench.compare.table import default_metric

    metric = metric or default_metric(run)
    outputs = load_outputs(run)
    items: dict[str, Any] = {}
    rows: list[SliceRow] = []
    for key, out in outputs.items():
        if key.dataset not in items:  # a transfer system (``train→test``) is sliced on its test set's items
            items[key.dataset] = load_items(run, test_dataset(key.dataset), data_root)
        for dimension in dimensions:
            groups = item_groups(items[key.dataset], dimension)
            if groups is not None:
                rows += slice_metrics(out, groups, system=f"{key.features}/{key.model}", dimension=dimension,
                                      metric=metric, samples=samples, confidence=confidence, seed=seed)
    return rows


def slice_records(rows: Sequence[SliceRow]) -> list[Mapping[str, Any]]:
    """Rows as plain dicts (JSON, CSV, DataFrames)."""
    return [dataclasses.asdict(row) for row in rows]


SLICE_FORMATS = ("table", "md", "csv", "json")


def format_slices(rows: Sequence[SliceRow], fmt: str = "table", digits: int = 4) -> str:
    """Slice rows as an aligned text table, Markdown, CSV or JSON (ending with a newline)."""
    import csv
    import io
    import json

    if fmt not in SLICE_FORMATS:
        raise ValueError(f"unknown slice format {fmt!r}; use one of {', '.join(SLICE_FORMATS)}")
    if fmt == "json":
        return json.dumps(slice_records(rows), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[f.name for f in dataclasses.fields(SliceRow)], lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in slice_records(rows))
        return out.getvalue()
    head = ["dataset", "system", "by", "slice", "items", rows[0].metric if rows else "metric"]
    lines = [[r.dataset, r.system, r.dimension, r.group, str(r.n_items),
              f"too small (< {MIN_ITEMS} items)" if r.too_small else
              f"{r.value:.{digits}f} [{_fmt(r.ci_low, digits)}, {_fmt(r.ci_high, digits)}]"] for r in rows]
    if fmt == "md":
        body = ["| " + " | ".join(head) + " |", "|---|---|---|---|---:|---:|"]
        body += ["| " + " | ".join(c.replace("|", "\\|") for c in line) + " |" for line in lines]
        return "\n".join(body) + "\n"
    widths = [max(len(x) for x in column) for column in zip(head, *lines)]
    text = ["  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))
            for line in [head, *lines]]
    return "\n".join(t.rstrip() for t in text) + "\n"


def _fmt(x: float | None, digits: int) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"
