"""Runs -> a ``Comparison``: cells, paired deltas, corrected p-values, floor and gate.

Rows are systems ``(dataset, features, model)`` and columns runs. A run whose systems do
not occur in the baseline and that has exactly one system per dataset (typically a
``bench import`` of an outside model) is compared with *every* baseline system of that
dataset: its column repeats its own score and the delta is "my model minus that
baseline". The other way round, a single-system baseline faces every system of such a
run. Otherwise a delta compares the same system in two runs (a code change, a new
feature set: the regression-gate case).

Every tested p-value of the table is corrected together (Holm by default); a pair with
identical predictions is not tested and not counted. A p-value tests the delta beside it:
the bootstrap on seed means over items and seeds; McNemar (accuracy) and the permutation
test only with one seed per system. The gate fails on a delta that is worse, significant
after correction, and larger in size than ``min_effect``; with the default
``min_effect = 0`` any significant drop fails it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.compare import ranking
from bench.compare.resample import MetricRef, joint_sample, resolve_metric
from bench.compare.result import Cell, Comparison, CompareOptions, Delta, Row
from bench.compare.systems import Outputs, SystemKey, check_paired, load_outputs
from bench.core.errors import ResultsError
from bench.results.tuned import tuning_notes
from bench.stats import bootstrap as bs
from bench.stats.seeds import SeedAware, seed_aware

if TYPE_CHECKING:
    from bench.results.store import RunDir


def run_labels(runs: Sequence[RunDir]) -> tuple[str, ...]:
    """Column labels: each run's name, or its folder name where two runs share a name."""
    names = [str(run.manifest.get("name") or run.path.name) for run in runs]
    return tuple(name if names.count(name) == 1 else run.path.name for name, run in zip(names, runs))


def default_metric(run: RunDir) -> str:
    """The headline metric of the baseline run's datasets (``headline_metric``, docs/datasets.md) when they
    share one and the run has it; with several headlines, ``f1_macro`` when the run has it; else the
    first scalar metric the run was evaluated with (``accuracy`` if none)."""
    from bench.metrics.catalog import default_headline

    evaluated = [str(n) for n in (run.manifest.get("evaluation") or {}).get("metrics") or []
                 if not str(n).endswith("_per_class")]
    headlines = {str(entry.get("headline_metric") or default_headline(
        task=entry.get("task"), multilabel=bool(entry.get("multilabel")), labels=entry.get("labels") or []))
        for entry in (run.manifest.get("datasets") or {}).values() if isinstance(entry, dict)}
    if len(headlines) == 1 and next(iter(headlines)) in evaluated:
        return next(iter(headlines))
    if len(headlines) > 1 and "f1_macro" in evaluated:
        return "f1_macro"
    return evaluated[0] if evaluated else "accuracy"


# Below this many test items, a class's share of a class-averaged metric has an optimistic CI:
# 95% intervals of macro-F1 covered 87-88% of simulated test sets with an 8-item class
# (benchmarks/ci_coverage.py, docs/statistics.md).
RARE_CLASS_ITEMS = 10


def _rare_class_warnings(ref: MetricRef, keys: list[SystemKey], columns: list[dict[SystemKey, Outputs]]) -> list[str]:
    """One warning per test set with a class of fewer than ``RARE_CLASS_ITEMS`` items, for class-averaged metrics."""
    if not ref.spec.class_averaged:
        return []
    out, seen = [], set()
    for key in keys:
        if key.dataset in seen:
            continue
        seen.add(key.dataset)
        first = next(column[key] for column in columns if key in column)
        counts = first.gold.sum(axis=0) if first.multilabel else np.bincount(first.gold, minlength=len(first.labels))
        rare = [(label, int(n)) for label, n in zip(first.labels, counts)
                if 0 < n < RARE_CLASS_ITEMS and (ref.label is None or ref.label == label)]
        if rare:
            listed = ", ".join(f"{label!r} ({n})" for label, n in rare)
            out.append(f"{key.dataset}: {len(rare)} class{'es' if len(rare) > 1 else ''} with fewer than "
                       f"{RARE_CLASS_ITEMS} test items ({listed}); {ref.name} weighs each class alike, so its CIs "
                       "here are optimistic (95% intervals covered 87-88% with an 8-item class, docs/statistics.md)")
    return out


def _matched_by_dataset(base: dict[SystemKey, Outputs], other: dict[SystemKey, Outputs]) -> bool:
    datasets = [key.dataset for key in other]
    return bool(other) and not set(other) & set(base) and len(set(datasets)) == len(datasets)


def _columns(outputs: list[dict[str, Outputs]], b: int) -> tuple[list[SystemKey], list[dict[SystemKey, Outputs]]]:
    """The rows and, per run, the outputs shown in each row (dataset-matched runs repeat)."""
    base = outputs[b]
    by_dataset = [i != b and _matched_by_dataset(base, out) for i, out in enumerate(outputs)]
    keys = sorted(set(base).union(*(set(out) for i, out in enumerate(outputs) if not by_dataset[i])))
    columns = []
    for i, out in enumerate(outputs):
        if by_dataset[i]:
            single = {key.dataset: value for key, value in out.items()}
            columns.append({key: single[key.dataset] for key in keys if key.dataset in single})
        else:
            columns.append({key: out[key] for key in keys if key in out})
    datasets = [key.dataset for key in base]
    if len(set(datasets)) == len(datasets):  # a single-system baseline faces every system of another run
        single = {key.dataset: value for key, value in base.items()}
        for i, out in enumerate(outputs):
            if i != b and not by_dataset[i] and not set(out) & set(base):
                for key in out:
                    if key.dataset in single:
                        columns[b].setdefault(key, single[key.dataset])
    return keys, columns


def _applicable(keys: list[SystemKey], columns: list[dict[SystemKey, Outputs]],
                ref: MetricRef) -> tuple[list[SystemKey], list[str]]:
    """The rows the metric applies to, and one note per dataset left out (e.g. f_avg on a topic dataset)."""
    from bench.metrics import check_metric

    kept, notes, refused = [], [], set()
    for key in keys:
        out = next(c[key] for c in columns if key in c)
        try:
            check_metric(ref.spec.name, task=None, multilabel=out.multilabel, labels=out.labels, has_scores=True)
        except ValueError as exc:
            if key.dataset not in refused:
                refused.add(key.dataset)
                notes.append(f"{key.dataset} left out: {exc}")
            continue
        kept.append(key)
    return kept, notes


def _cell(out: Outputs, ref: MetricRef, options: CompareOptions) -> tuple[Cell, SeedAware]:
    """One system of one run on its own: the same numbers in every table it appears in.

    The CI is over test items and, with several seeds, over seeds (``bench.stats.seeds``).
    """
    joint = joint_sample([out], ref)
    point, seeds = float(joint.points()[0]), joint.per_seed_points()[0]
    # named by the system, not the run: identical predictions in two runs get identical CIs
    aware = joint.seed_aware(options.samples, bs.named_rng(options.seed, "cell", str(out.key)), [1.0])
    draws, share = (aware.draws, aware.seed_share) if options.seed_variance else (aware.item_draws, 0.0)
    ci = bs.interval(draws, np.asarray(point), options.confidence)
    return Cell(value=float(point), ci_low=float(ci.low), ci_high=float(ci.high),
                seed_std=float(np.std(seeds, ddof=1)) if len(seeds) > 1 else None,
                n_seeds=len(seeds), n_items=out.n_items, seed_values=seeds, seed_share=share), aware


def _p_value(options: CompareOptions, ref: MetricRef, base: Outputs, other: Outputs, delta: float,
             delta_draws: np.ndarray, rng: np.random.Generator) -> float:
    """The raw two-sided p-value of the chosen test, on the delta of the table.

    McNemar and the permutation test get one seed per system (``_check_one_seed``), so they
    test the same metric difference as the bootstrap CI; McNemar only with accuracy.
    """
    if options.test == "bootstrap":
        return bs.two_sided_p_value(delta_draws, delta)
    from bench.metrics.paired import approximate_randomization
    from bench.stats.correctness import mcnemar

    pred_b, pred_o = base.preds[0], other.preds[0]
    if options.test == "mcnemar":
        correct_b = (pred_b == base.gold).reshape(base.n_items, -1).all(axis=1)
        correct_o = (pred_o == base.gold).reshape(base.n_items, -1).all(axis=1)
        return float(mcnemar(correct_b, correct_o).p_value)
    return float(approximate_randomization(ref.spec.name, base.gold, pred_b, pred_o, labels=base.labels,
                                           samples=options.samples, rng=rng).p_value)


def _identical(a: Outputs, b: Outputs, ref: MetricRef) -> bool:
    """Every seed predicts the same on every item (and the same scores when the metric reads them)."""
    if a.preds.shape != b.preds.shape or not np.array_equal(a.preds, b.preds):
        return False
    return not ref.spec.needs_scores or (a.scores is not None and b.scores is not None
                                         and np.array_equal(a.scores, b.scores))


def _power(base: Outputs, other: Outputs) -> tuple[float, float, float]:
    """Accuracy delta (seed means), discordance (of seed majority votes) and the MDD at it."""
    from bench.stats.power import mcnemar_min_detectable_difference

    acc_b, acc_o = base.correct().mean(), other.correct().mean()
    correct_b = (base.vote() == base.gold).reshape(base.n_items, -1).all(axis=1)
    correct_o = (other.vote() == base.gold).reshape(base.n_items, -1).all(axis=1)
    discordance = float(np.mean(correct_b != correct_o))
    mdd = float(mcnemar_min_detectable_difference(base.n_items, discordance))
    return float(acc_o - acc_b), discordance, mdd


def _floor(ref: MetricRef, outs: Sequence[Outputs]) -> tuple[float | None, str]:
    """The majority-class score on this test set: from a majority model if one ran, else from gold."""
    for out in outs:
        if out.is_majority and (out.scores is not None or not ref.spec.needs_scores):
            return float(joint_sample([out], ref).points()[0]), "majority model"
    out = outs[0]
    if ref.spec.needs_scores:
        return None, "n/a (the metric needs scores)"
    if out.multilabel:
        pred = np.broadcast_to((2 * out.gold.sum(axis=0) > out.n_items).astype(out.gold.dtype), out.gold.shape)
    else:
        pred = np.full(out.n_items, np.bincount(out.gold, minlength=len(out.labels)).argmax())
    floor = Outputs(key=out.key, run=out.run, labels=out.labels, multilabel=out.multilabel, ids=out.ids,
                    gold=out.gold, seeds=(0,), preds=np.asarray(pred)[None], scores=None, is_majority=True)
    return float(joint_sample([floor], ref).points()[0]), "test majority class"


# Which test fits which metric: the p-value must test the delta printed beside it.
TESTS_FIT = ("bootstrap fits any metric and any number of seeds, mcnemar accuracy of one seed per system, "
             "permutation a whole-sample label metric of one seed per system")
EXACT_MATCH = frozenset({"accuracy", "subset_accuracy"})


def _check_options(options: CompareOptions, ref: MetricRef, n_runs: int) -> None:
    if not 0 <= options.baseline < n_runs:
        raise ResultsError(f"baseline index {options.baseline} out of range; pass one of the compared runs")
    if options.test == "permutation" and (ref.label is not None or ref.spec.needs_scores):
        raise ResultsError(f"--test permutation does not test {ref.name!r} ({TESTS_FIT}); use --test bootstrap")
    if options.test == "mcnemar" and (ref.label is not None or ref.spec.name not in EXACT_MATCH):
        raise ResultsError(f"--test mcnemar tests accuracy, not the {ref.name!r} delta of the table ({TESTS_FIT}); "
                           "use --test bootstrap or --metric accuracy")


def _check_one_seed(options: CompareOptions, outs: Sequence[Outputs]) -> None:
    """McNemar and permutation test one prediction per item; a seed mean is tested by the bootstrap."""
    many = next((o for o in outs if len(o.seeds) > 1), None)
    if options.test != "bootstrap" and many is not None:
        raise ResultsError(f"{many.run}: {many.key}: --test {options.test} needs one prediction per item but the "
                           f"run has {len(many.seeds)} seeds and the table shows their mean ({TESTS_FIT}); "
                           "use --test bootstrap")


def _row_deltas(key: SystemKey, present: list[int], outs: list[Outputs], b: int, ref: MetricRef,
                options: CompareOptions) -> list[tuple[int, dict[str, float]]]:
    """Raw delta fields of every run against the baseline in one row (before correction).

    Every run's seeds are resampled together, items and seeds (``bench.metrics.joint``).
    """
    _check_one_seed(options, outs)
    joint = joint_sample(outs, ref)
    rng = bs.named_rng(options.seed, "delta", *(o.stream_name for o in outs), str(key))
    points, per_seed = joint.points(), joint.seed_draws(options.samples, rng)
    seed_points = [np.asarray(p) for p in joint.per_seed_points()]
    jb = present.index(b)
    out = []
    for j, i in enumerate(present):
        if i == b:
            continue
        weights = np.zeros(len(outs))
        weights[jb], weights[j] = -1.0, 1.0
        aware = seed_aware(seed_points, per_seed, weights, rng)
        d = float(points[j] - points[jb])
        identical = _identical(outs[jb], outs[j], ref)
        # identical predictions under every seed: the delta is 0 in every resample, with no seed part
        # (the seed model treats the two systems' seeds as independent, which identical systems are not)
        seed_aware_delta = options.seed_variance and not identical
        dd, share = (aware.draws, aware.seed_share) if seed_aware_delta else (aware.item_draws, 0.0)
        ci = bs.interval(dd, np.asarray(d), options.confidence)
        # identical predictions cannot differ (p = 1 by construction): no test, out of the correction's family
        p = math.nan if identical else _p_value(options, ref, outs[jb], outs[j], d, dd, rng)
        acc_delta, discordance, mdd = _power(outs[jb], outs[j])
        out.append((i, {"delta": d, "ci_low": float(ci.low), "ci_high": float(ci.high), "p_value": p,
                        "accuracy_delta": acc_delta, "discordance": discordance, "min_detectable": mdd,
                        "identical": identical, "seed_share": share, "undefined": aware.undefined,
                        "one_seed": tuple(outs[k].run for k in aware.one_seed if not outs[k].deterministic)
                        if len(aware.one_seed) < 2 else ()}))
    return out


def _judge(raw: list[tuple[int, int, dict[str, Any]]], keys: list[SystemKey], labels: tuple[str, ...], b: int,
           ref: MetricRef, options: CompareOptions) -> tuple[list[list[Delta | None]], list[str], list[str]]:
    """Correct the p-values together, then mark, gate and warn: deltas per row, regressions, warnings."""
    from bench.stats.corrections import adjust_pvalues

    adjusted = adjust_pvalues(np.array([f["p_value"] for _, _, f in raw]), method=options.correction) \
        if raw else np.array([])
    deltas: list[list[Delta | None]] = [[None] * len(labels) for _ in keys]
    regressions, warnings = [], []
    for (r, i, fields), p_adj in zip(raw, adjusted):
        fields = dict(fields)
        undefined, one_seed = fields.pop("undefined"), fields.pop("one_seed")
        where = f"{keys[r]}: {labels[i]} vs {labels[b]}"
        if undefined:
            warnings.append(f"{where}: {ref.name} was undefined in {undefined} of {options.samples} resamples "
                            "(e.g. a class absent); they are left out of the Δ CI and p")
        if one_seed:
            warnings.append(f"{where}: {', '.join(one_seed)} has one seed of a model that is not deterministic,"
                            " so its seed variance is unknown and not in the Δ CI, p or gate; run several seeds")
        significant = bool(p_adj < options.alpha)
        better = fields["delta"] > 0 if ref.greater_is_better else fields["delta"] < 0
        direction = "none" if not significant or fields["delta"] == 0 else ("better" if better else "worse")
        delta = Delta(p_adjusted=float(p_adj), significant=significant, direction=direction, **fields)
        deltas[r][i] = delta
        if direction == "worse" and abs(delta.delta) > options.min_effect:
            regressions.append(f"{where}: {ref.name} {delta.delta:+.4f} [{delta.ci_low:+.4f}, {delta.ci_high:+.4f}],"
                               f" p = {delta.p_adjusted:.2g} after {options.correction}")
        if better and fields["delta"] != 0 and 0 < delta.accuracy_delta < delta.min_detectable:
            detectable = (f"the {delta.min_detectable:.4f} McNemar detects here" if np.isfinite(delta.min_detectable)
                          else "what McNemar can detect with so few discordant items")
            warnings.append(f"{where}: claimed improvement of {delta.accuracy_delta:+.4f} accuracy is below"
                            f" {detectable} (alpha 0.05, power 0.8); do not read it as evidence")
    return deltas, regressions, warnings


def _single_system(outputs: dict[SystemKey, Outputs]) -> bool:
    datasets = [key.dataset for key in outputs]
    return bool(datasets) and len(set(datasets)) == len(datasets)


def _rank_entries(outputs: list[dict[SystemKey, Outputs]], columns: list[dict[SystemKey, Outputs]],
                  labels: tuple[str, ...], cells: dict[int, Cell]) -> dict[tuple[str, str], float]:
    """``(system, dataset) -> score``, each system once: a table repeats a dataset-matched run's
    system in every row of its dataset, but it is one system (one set of predictions)."""
    entries: dict[tuple[str, str], float] = {}
    for i, column in enumerate(columns):
        single = _single_system(outputs[i])
        for out in column.values():
            if id(out) in cells:
                name = labels[i] if single else f"{labels[i]}:{out.key.features}/{out.key.model}"
                entries[(name, out.key.dataset)] = cells[id(out)].value
    return entries


def compare_runs(runs: Sequence[RunDir], options: CompareOptions = CompareOptions()) -> Comparison:
    """Compare ``runs`` against ``runs[options.baseline]``.

    Raises:
        ResultsError: a run cannot be read, the metric does not apply, or two runs were
            scored on different items or label sets (paired tests refuse).
    """
    if len(runs) < 1:
        raise ResultsError("no runs to compare; pass at least one run folder")
    b = options.baseline
    ref = resolve_metric(options.metric or default_metric(runs[min(max(b, 0), len(runs) - 1)]))
    _check_options(options, ref, len(runs))
    outputs = [load_outputs(run) for run in runs]
    labels = run_labels(runs)
    warnings: list[str] = [f"{label}: status {run.manifest.get('status')!r}; only its finished jobs are compared"
                           for label, run in zip(labels, runs) if run.manifest.get("status") != "complete"]
    keys, columns = _columns(outputs, b)
    keys, skipped = _applicable(keys, columns, ref)
    warnings += skipped + _rare_class_warnings(ref, keys, columns)
    if not keys:
        raise ResultsError(f"metric {ref.name!r} applies to none of the compared systems ({'; '.join(skipped)}); "
                           "pick another --metric")
    raw: list[tuple[int, int, dict[str, Any]]] = []
    rows_cells: list[tuple[Cell | None, ...]] = []
    cache: dict[int, Cell] = {}
    for r, key in enumerate(keys):
        present = [i for i in range(len(runs)) if key in columns[i]]
        outs = [columns[i][key] for i in present]
        anchor = columns[b].get(key, outs[0])
        for out in outs:
            check_paired(anchor, out)
            if id(out) not in cache:  # a dataset-matched run shows one system in many rows
                cache[id(out)], aware = _cell(out, ref, options)
                if aware.undefined:
                    warnings.append(f"{out.run}: {out.key}: {ref.name} was undefined in {aware.undefined} of "
                                    f"{options.samples} resamples (e.g. a class absent); they are left out of"
                                    " its CI")
        rows_cells.append(tuple(cache[id(columns[i][key])] if key in columns[i] else None for i in range(len(runs))))
        if b in present and len(present) > 1:
            raw += [(r, i, fields) for i, fields in _row_deltas(key, present, outs, b, ref, options)]
    deltas, regressions, judged = _judge(raw, keys, labels, b, ref, options)
    floors: dict[str, tuple[float | None, str]] = {}
    for key in keys:
        if key.dataset not in floors:
            floors[key.dataset] = _floor(ref, [c[k] for c in columns for k in c if k.dataset == key.dataset])
    rows = tuple(Row(dataset=key.dataset, features=key.features, model=key.model,
                     floor=floors[key.dataset][0], floor_source=floors[key.dataset][1],
                     cells=rows_cells[r], deltas=tuple(deltas[r])) for r, key in enumerate(keys))
    return Comparison(
        metric=ref.name, greater_is_better=ref.greater_is_better, runs=labels,
        run_ids=tuple(run.path.name for run in runs), baseline=b, options=options, rows=rows,
        ranking=ranking.rank_systems(_rank_entries(outputs, columns, labels, cache), ref.greater_is_better),
        power=ranking.power_notes(rows), warnings=tuple(warnings + judged), regressions=tuple(regressions),
        tuned=tuple(f"{label}: {line}" for label, run in zip(labels, runs) for line in tuning_notes(run)),
    )
