"""What each p-value, family and ranking of ``bench compare`` stands for (issue: statistics that
hold up in review): a system counted once, a p-value on the Δ beside it, identical pairs out of
the correction, the Friedman form that fits the number of datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.compare import CompareOptions, compare_runs, render
from bench.core.errors import ResultsError
from bench.results.store import RunDir
from tests.run_factory import gold_labels, simulated_job, write_run

N = 400


def _compare(paths: list[Path], **options: object):
    return compare_runs([RunDir.open(p) for p in paths], CompareOptions(samples=1000, **options))


def _grid(tmp_path: Path, rng: np.random.Generator, datasets: tuple[str, ...]) -> tuple[Path, Path]:
    """A baseline run of 3 models and an imported-like run of one model, on every dataset."""
    base, mine = [], []
    for dataset in datasets:
        gold = gold_labels(rng, 300)
        base += [simulated_job(rng, dataset=dataset, model=m, seed=0, gold=gold, accuracy=a)
                 for m, a in (("weak", 0.4), ("mid", 0.6), ("strong", 0.8))]
        mine.append(simulated_job(rng, dataset=dataset, model="bert", features="imported", seed=0, gold=gold,
                                  accuracy=0.9))
    return write_run(tmp_path, "base", base), write_run(tmp_path, "mine", mine)


def test_an_imported_run_is_one_system_in_the_ranking(tmp_path: Path, rng: np.random.Generator) -> None:
    base, mine = _grid(tmp_path, rng, ("d1", "d2", "d3"))
    comparison = _compare([base, mine])
    assert len(comparison.rows) == 9  # the imported model is shown beside each of the 3 baseline rows
    ranking = comparison.ranking
    assert ranking is not None
    assert sorted(ranking.systems) == ["base:word/mid", "base:word/strong", "base:word/weak", "mine"]
    assert ranking.systems[0] == "mine" and ranking.average_ranks[0] == 1.0
    # k = 4 systems, N = 3 datasets: CD = q_0.05(4) sqrt(k (k+1) / 6N) (Demsar 2006, q = 2.569)
    assert ranking.critical_difference == pytest.approx(2.569 * np.sqrt(4 * 5 / 18), abs=2e-3)


def test_friedman_with_few_datasets_says_the_chi_square_is_unreliable(tmp_path: Path,
                                                                      rng: np.random.Generator) -> None:
    base, mine = _grid(tmp_path, rng, ("d1", "d2", "d3"))
    comparison = _compare([base, mine])
    assert comparison.ranking is not None and comparison.ranking.small_sample
    text = render(comparison, "md")
    assert "chi-square approximation is unreliable below 10 datasets (Demsar 2006), so p is from the " \
           "Iman-Davenport F" in text


def _two_seed_runs(tmp_path: Path, rng: np.random.Generator, seeds: tuple[int, ...]) -> tuple[Path, Path]:
    gold = gold_labels(rng, N)
    a = write_run(tmp_path, "a", [simulated_job(rng, dataset="toy", model="logreg", seed=s, gold=gold, accuracy=0.7)
                                  for s in seeds])
    b = write_run(tmp_path, "b", [simulated_job(rng, dataset="toy", model="logreg", seed=s, gold=gold, accuracy=0.75)
                                  for s in seeds])
    return a, b


@pytest.mark.parametrize("test", ["mcnemar", "permutation"])
def test_a_test_of_one_prediction_per_item_refuses_seed_means(tmp_path: Path, rng: np.random.Generator,
                                                              test: str) -> None:
    a, b = _two_seed_runs(tmp_path, rng, (0, 1, 2))
    with pytest.raises(ResultsError, match=rf"--test {test} needs one prediction per item but the run has 3 seeds"
                                           r" and the table shows their mean .*; use --test bootstrap"):
        _compare([a, b], test=test, metric="accuracy")


def test_mcnemar_refuses_a_metric_other_than_accuracy(tmp_path: Path, rng: np.random.Generator) -> None:
    a, b = _two_seed_runs(tmp_path, rng, (0,))
    with pytest.raises(ResultsError, match=r"--test mcnemar tests accuracy, not the 'f1_macro' delta of the table"):
        _compare([a, b], test="mcnemar", metric="f1_macro")
    delta = _compare([a, b], test="mcnemar", metric="accuracy").rows[0].deltas[1]
    assert delta is not None and 0 <= delta.p_value <= 1


def test_pairs_with_identical_predictions_are_left_out_of_the_correction(tmp_path: Path,
                                                                         rng: np.random.Generator) -> None:
    gold = gold_labels(rng, N)
    same = [simulated_job(rng, dataset="toy", model=m, seed=0, gold=gold, accuracy=0.5) for m in ("majority", "nb")]
    a = write_run(tmp_path, "a", [*same, simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold,
                                                       accuracy=0.7)])
    b = write_run(tmp_path, "b", [*same, simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold,
                                                       accuracy=0.75)])
    for correction in ("holm", "bh"):
        comparison = _compare([a, b], correction=correction)
        deltas = {row.model: row.deltas[1] for row in comparison.rows}
        assert deltas["majority"].identical and deltas["nb"].identical
        assert np.isnan(deltas["majority"].p_adjusted) and deltas["majority"].direction == "none"
        # a family of one comparison: the corrected p-value is the raw one
        assert deltas["logreg"].p_adjusted == pytest.approx(deltas["logreg"].p_value)
        text = render(comparison, "md")
        assert "-corrected over 1 comparison (2 pairs with identical predictions shown as 'identical'" in text
        assert text.count("| identical |") == 2


def _recipe_seeds(gold: np.ndarray, effects: list[float], name: str, tmp_path: Path, *, base: float = 0.7,
                  shared: float = 0.9, seed: int = 0) -> Path:
    """A run of one training recipe: seed ``s`` is right with probability ``base + effects[s]``.

    Most items (``shared``) are hard or easy for every seed alike, the rest differ between seeds,
    so seeds have different confusion matrices and a real seed-to-seed spread.
    """
    rng = np.random.default_rng(seed)
    difficulty, is_shared = rng.random(len(gold)), rng.random(len(gold)) < shared
    jobs = []
    for s, effect in enumerate(effects):
        own = np.random.default_rng([seed, s]).random(len(gold))
        right = np.where(is_shared, difficulty, own) < base + effect
        pred = np.where(right, gold, (gold + 1 + own.argsort() % 3) % 4)
        job = simulated_job(rng, dataset="toy", model="sgd", seed=s, gold=gold, accuracy=1.0, estimator="sgd")
        jobs.append(type(job)(**{**job.__dict__, "pred": [LABELS_[p] for p in pred]}))
    return write_run(tmp_path, name, jobs)


LABELS_ = ("agree", "disagree", "discuss", "unrelated")


def test_same_recipe_with_other_seeds_does_not_trip_the_gate(tmp_path: Path, rng: np.random.Generator,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Two disjoint seed sets of one recipe whose seeds differ by about 2 accuracy points (seed sd 0.02)."""
    from bench.cli import main

    gold = gold_labels(np.random.default_rng(5), 1000)
    effects = [0.012, -0.008, 0.020, -0.015, 0.004, -0.010]  # six draws of N(0, 0.02), split 3 / 3
    first = _recipe_seeds(gold, effects[:3], "first", tmp_path)
    second = _recipe_seeds(gold, effects[3:], "second", tmp_path)
    comparison = _compare([first, second])
    cell = comparison.rows[0].cells[0]
    assert cell is not None and cell.seed_std > 0.01  # the seeds really differ
    delta = comparison.rows[0].deltas[1]
    assert delta is not None and delta.delta < -0.01  # a drop as large as many published gains
    assert delta.seed_share > 0.5 and delta.ci_low < 0 < delta.ci_high and delta.direction == "none"
    assert main(["compare", str(first), str(second), "--fail-on-regression", "--samples", "2000"]) == 0
    assert "seeds " in capsys.readouterr().out


def test_undefined_resamples_are_reported(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    gold = np.array([0] * 38 + [1] * 2)
    ids = [f"toy-{i:05d}" for i in range(40)]
    labels = ("yes", "no")

    def job(seed: int) -> object:
        scores = rng.dirichlet(np.ones(2), 40)
        from tests.run_factory import Job
        return Job(dataset="toy", features="word", model="logreg", seed=seed, ids=ids,
                   gold=[labels[g] for g in gold], pred=[labels[p] for p in scores.argmax(1)], scores=scores)

    from tests.run_factory import DatasetInfo
    info = {"toy": DatasetInfo(name="toy", labels=labels, task="topic")}
    a = write_run(tmp_path, "a", [job(0)], info, metrics=("roc_auc",))
    b = write_run(tmp_path, "b", [job(0)], info, metrics=("roc_auc",))
    comparison = _compare([a, b], metric="roc_auc")
    undefined = [w for w in comparison.warnings if "roc_auc was undefined in" in w]
    assert len(undefined) == 3  # both cells and the Δ
    assert all("of 1000 resamples (e.g. a class absent)" in w for w in undefined)
