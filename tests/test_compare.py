"""``bench compare``: cells, paired deltas, the gate, refusals, rankings and every output format."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.compare import CompareOptions, compare_runs, render
from bench.compare.resample import JointSample, resolve_metric
from bench.compare.systems import load_outputs
from bench.core.errors import ResultsError
from bench.metrics import score_metrics
from bench.results.store import RunDir
from tests.run_factory import LABELS, DatasetInfo, Job, gold_labels, simulated_job, write_run

N = 600


def _compare(paths: list[Path], **options: object):
    return compare_runs([RunDir.open(p) for p in paths], CompareOptions(samples=2000, **options))


def _planted(tmp_path: Path, rng: np.random.Generator, seeds: tuple[int, ...] = (0, 1, 2, 3)) -> tuple[Path, Path]:
    """A baseline and a truly better model (0.65 vs 0.80 accuracy) on the same 600 items."""
    gold = gold_labels(rng, N)
    weak = write_run(tmp_path, "weak", [simulated_job(rng, dataset="toy", model="logreg", seed=s, gold=gold,
                                                      accuracy=0.65) for s in seeds])
    strong = write_run(tmp_path, "strong", [simulated_job(rng, dataset="toy", model="logreg", seed=s, gold=gold,
                                                          accuracy=0.80) for s in seeds])
    return weak, strong


def test_planted_better_model_is_significant_and_fails_the_gate(tmp_path: Path, rng: np.random.Generator,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    weak, strong = _planted(tmp_path, rng)
    comparison = _compare([weak, strong])
    delta = comparison.rows[0].deltas[1]
    assert delta is not None and delta.p_adjusted < 0.01
    assert delta.direction == "better" and delta.ci_low > 0
    assert not comparison.regressions
    # the other way round the better model is the baseline: a significant drop fails the gate
    code = main(["compare", str(strong), str(weak), "--fail-on-regression", "--samples", "2000"])
    captured = capsys.readouterr()
    assert code == 1
    assert "bench: regression: toy/word/logreg: weak vs strong: accuracy -" in captured.err
    assert "▼" in captured.out


def test_comparing_re_runs_of_the_same_configs_gives_the_same_numbers(tmp_path: Path,
                                                                       rng: np.random.Generator) -> None:
    """A run's random streams are named by its content, not by its (time-stamped) folder."""
    import shutil

    weak, strong = _planted(tmp_path, rng, seeds=(0,))
    again = []
    for path in (weak, strong):
        copy = path.with_name(path.name.replace("20260101T000000", "20270606T121212"))
        shutil.copytree(path, copy)
        again.append(copy)
    first, second = _compare([weak, strong], metric="f1_macro"), _compare(again, metric="f1_macro")
    assert [r.deltas for r in first.rows] == [r.deltas for r in second.rows]
    stamp = str(weak.name).split("-")[0]
    assert render(first, "csv").replace(stamp, "T") == render(second, "csv").replace("20270606T121212", "T")


@pytest.mark.parametrize("test", ["mcnemar", "permutation"])
def test_other_paired_tests_find_the_planted_model(tmp_path: Path, rng: np.random.Generator, test: str) -> None:
    weak, strong = _planted(tmp_path, rng, seeds=(0,))
    delta = _compare([weak, strong], test=test).rows[0].deltas[1]
    assert delta is not None and delta.p_value < 0.01 and delta.direction == "better"


def test_min_effect_lets_small_significant_drops_pass(tmp_path: Path, rng: np.random.Generator) -> None:
    weak, strong = _planted(tmp_path, rng)
    assert main(["compare", str(strong), str(weak), "--fail-on-regression", "--samples", "500",
                 "--min-effect", "0.5"]) == 0


def test_differing_item_sets_are_refused_in_one_line(tmp_path: Path, rng: np.random.Generator,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    gold = gold_labels(rng, 50)
    job = simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold, accuracy=0.7)
    other = Job(**{**job.__dict__, "ids": [*job.ids[:-1], "somewhere-else"]})
    a, b = write_run(tmp_path, "a", [job]), write_run(tmp_path, "b", [other])
    with pytest.raises(ResultsError, match=r"test item ids differ \(1 only in .*-a-.*, 1 only in .*-b-"):
        _compare([a, b])
    assert main(["compare", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bench: error: cannot pair")


def test_differing_label_sets_are_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    gold = gold_labels(rng, 40)
    job = simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold, accuracy=0.7)
    a = write_run(tmp_path, "a", [job])
    b = write_run(tmp_path, "b", [job], {"toy": DatasetInfo(name="toy", labels=(*LABELS, "other"))})
    with pytest.raises(ResultsError, match="label sets differ"):
        _compare([a, b])


def test_cells_match_the_runs_own_metrics_and_pool_seeds(tmp_path: Path, rng: np.random.Generator) -> None:
    gold = gold_labels(rng, N)
    run = write_run(tmp_path, "r", [simulated_job(rng, dataset="toy", model="svm", seed=s, gold=gold,
                                                  accuracy=0.6 + 0.05 * s) for s in range(3)])
    rows = RunDir.open(run).metrics
    per_seed = rows[(rows.metric == "f1_macro")].sort_values("seed")["value"].to_numpy()
    cell = _compare([run], metric="f1_macro").rows[0].cells[0]
    assert cell is not None and cell.n_seeds == 3 and cell.n_items == N
    assert cell.seed_values == pytest.approx(tuple(per_seed), abs=1e-12)
    assert cell.value == pytest.approx(per_seed.mean(), abs=1e-12)
    assert cell.seed_std == pytest.approx(np.std(per_seed, ddof=1))
    assert cell.ci_low < cell.value < cell.ci_high


def test_joint_bootstrap_matches_a_plain_index_bootstrap(tmp_path: Path, rng: np.random.Generator) -> None:
    """The pattern-count bootstrap has the same distribution as resampling items (two seeds pooled)."""
    gold = gold_labels(rng, 300)
    run = write_run(tmp_path, "r", [simulated_job(rng, dataset="toy", model="m", seed=s, gold=gold, accuracy=0.7)
                                    for s in (0, 1)])
    out = next(iter(load_outputs(RunDir.open(run)).values()))
    ref = resolve_metric("f1_macro")
    fast = JointSample([out], ref).draws(4000, np.random.default_rng(1))[:, 0]
    naive_rng = np.random.default_rng(2)
    naive = []
    for _ in range(1000):
        idx = naive_rng.integers(0, out.n_items, out.n_items)
        naive.append(np.mean([score_metrics(["f1_macro"], y_true=out.gold[idx], y_pred=p[idx], labels=out.labels)[0].value
                              for p in out.preds]))
    assert fast.mean() == pytest.approx(np.mean(naive), abs=0.005)
    assert fast.std() == pytest.approx(np.std(naive), rel=0.15)


def test_dataset_matched_run_is_compared_with_every_baseline_system(tmp_path: Path, rng: np.random.Generator) -> None:
    gold = gold_labels(rng, N)
    base = write_run(tmp_path, "baselines", [
        simulated_job(rng, dataset="toy", model=m, seed=0, gold=gold, accuracy=a)
        for m, a in (("logreg", 0.6), ("svm", 0.62))])
    mine = write_run(tmp_path, "mine", [simulated_job(rng, dataset="toy", model="bert", features="imported",
                                                      seed=0, gold=gold, accuracy=0.85)])
    comparison = _compare([base, mine])
    assert [r.model for r in comparison.rows] == ["logreg", "svm"]
    assert all(r.deltas[1] is not None and r.deltas[1].direction == "better" for r in comparison.rows)
    assert comparison.rows[0].cells[1] == comparison.rows[1].cells[1]


def test_floor_comes_from_the_majority_model_or_the_gold_labels(tmp_path: Path, rng: np.random.Generator) -> None:
    gold = gold_labels(rng, N)
    plain = write_run(tmp_path, "plain", [simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold,
                                                        accuracy=0.7)])
    row = _compare([plain]).rows[0]
    assert row.floor_source == "test majority class"
    assert row.floor == pytest.approx(np.bincount(gold).max() / N)
    majority = Job(dataset="toy", features="word", model="dummy", seed=0, estimator="majority",
                   ids=[f"toy-{i:05d}" for i in range(N)], gold=[LABELS[g] for g in gold], pred=[LABELS[0]] * N)
    with_dummy = write_run(tmp_path, "dummy", [majority])
    row = _compare([with_dummy]).rows[0]
    assert row.floor_source == "majority model" and row.floor == pytest.approx(np.mean(gold == 0))


def test_ranking_appears_with_three_systems_on_three_datasets(tmp_path: Path, rng: np.random.Generator) -> None:
    jobs = []
    for dataset in ("d1", "d2", "d3"):
        gold = gold_labels(rng, 300)
        jobs += [simulated_job(rng, dataset=dataset, model=m, seed=0, gold=gold, accuracy=a)
                 for m, a in (("weak", 0.4), ("mid", 0.6), ("strong", 0.9))]
    run = write_run(tmp_path, "grid", jobs)
    ranking = _compare([run]).ranking
    assert ranking is not None and ranking.systems[0] == "grid:word/strong"
    assert ranking.average_ranks == (1.0, 2.0, 3.0)
    assert "grid:word/strong" in ranking.tied_with_best and ranking.critical_difference > 0
    two = write_run(tmp_path, "two", [j for j in jobs if j.dataset != "d3"])
    assert _compare([two]).ranking is None


def test_power_note_and_warning_for_a_claim_below_the_detectable_difference(tmp_path: Path,
                                                                            rng: np.random.Generator) -> None:
    gold = gold_labels(rng, 200)
    job = simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold, accuracy=0.7)
    pred = list(job.pred)
    wrong = [i for i, (g, p) in enumerate(zip(job.gold, pred)) if g != p]
    right = [i for i, (g, p) in enumerate(zip(job.gold, pred)) if g == p]
    for i in wrong[:10]:  # 10 items fixed, 9 broken: +0.005 accuracy, far below what 200 items can show
        pred[i] = job.gold[i]
    for i in right[:9]:
        pred[i] = LABELS[(LABELS.index(job.gold[i]) + 1) % len(LABELS)]
    a, b = write_run(tmp_path, "a", [job]), write_run(tmp_path, "b", [Job(**{**job.__dict__, "pred": pred})])
    comparison = _compare([a, b])
    note = comparison.power[0]
    assert note.n_items == 200 and note.discordance == pytest.approx(19 / 200)
    assert 0.005 < note.min_detectable < note.discordance
    assert any("claimed improvement of +0.0050 accuracy is below" in w for w in comparison.warnings)


def test_power_note_leaves_out_pairs_with_identical_predictions(tmp_path: Path, rng: np.random.Generator) -> None:
    gold = gold_labels(rng, 300)
    same = simulated_job(rng, dataset="toy", model="majority", seed=0, gold=gold, accuracy=0.4)
    base = simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold, accuracy=0.7)
    changed = simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold, accuracy=0.72)
    a, b = write_run(tmp_path, "a", [same, base]), write_run(tmp_path, "b", [same, changed])
    comparison = _compare([a, b])
    (note,) = comparison.power
    logreg = next(r for r in comparison.rows if r.model == "logreg").deltas[1]
    assert (note.n_pairs, note.n_identical) == (1, 1)
    assert note.discordance == pytest.approx(logreg.discordance) and note.discordance > 0
    text = render(comparison, "md")
    assert "over the 1 compared pair that differ; 1 pair with identical predictions left out" in text
    alone = _compare([write_run(tmp_path, "c", [same]), write_run(tmp_path, "d", [same])])
    assert "every compared pair makes identical predictions" in render(alone, "md")


def test_corrected_p_values_are_not_smaller_than_raw(tmp_path: Path, rng: np.random.Generator) -> None:
    gold = gold_labels(rng, N)
    runs = [write_run(tmp_path, f"r{i}", [simulated_job(rng, dataset="toy", model=m, seed=0, gold=gold, accuracy=a)
                                          for m in ("x", "y")]) for i, a in enumerate((0.6, 0.62, 0.66))]
    for correction in ("holm", "bh"):
        deltas = [d for row in _compare(runs, correction=correction).rows for d in row.deltas if d is not None]
        assert len(deltas) == 4
        assert all(d.p_adjusted >= d.p_value - 1e-15 for d in deltas)


def _latex_rows(text: str) -> list[str]:
    body = text.split(r"\toprule", 1)[1].split(r"\bottomrule", 1)[0]
    return [line for line in body.splitlines() if line.strip() and line.strip() != r"\midrule"]


def test_latex_is_a_booktabs_tabular_with_escaped_names(tmp_path: Path, rng: np.random.Generator) -> None:
    gold = gold_labels(rng, 100)
    jobs = [simulated_job(rng, dataset="fnc_1", model=m, features="tf_idf", seed=0, gold=gold, accuracy=a)
            for m, a in (("log_reg", 0.7), ("svm_100%", 0.72))]
    a = write_run(tmp_path, "run_a", jobs)
    b = write_run(tmp_path, "run_b", [Job(**{**j.__dict__, "seed": 1}) for j in jobs])
    text = render(_compare([a, b]), "latex")
    lines = [line for line in text.splitlines() if not line.startswith("%")]
    assert lines[0].startswith(r"\begin{tabular}{lll") and lines[-1] == r"\end{tabular}"
    assert [line for line in lines if line in (r"\toprule", r"\midrule", r"\bottomrule")] == \
        [r"\toprule", r"\midrule", r"\bottomrule"]
    n_columns = len(re.search(r"\{(l+r+)\}", lines[0]).group(1))
    rows = _latex_rows(text)
    assert len(rows) == 3  # header + 2 systems
    for row in rows:
        assert len(re.findall(r"(?<!\\)&", row)) == n_columns - 1 and row.endswith(r"\\")
    assert r"fnc\_1" in text and r"log\_reg" in text and r"svm\_100\%" in text and r"run\_a" in text
    assert not re.search(r"(?<!\\)[_%]", "\n".join(lines))


def test_machine_formats_carry_every_number(tmp_path: Path, rng: np.random.Generator) -> None:
    weak, strong = _planted(tmp_path, rng)
    comparison = _compare([weak, strong])
    doc = json.loads(render(comparison, "json"))
    assert doc["metric"] == "accuracy" and doc["baseline"] == "weak" and len(doc["rows"]) == 2
    cand = next(r for r in doc["rows"] if r["run"] == "strong")
    assert cand["delta"] > 0 and cand["p_adjusted"] < 0.01 and cand["delta_direction"] == "better"
    table = list(csv.DictReader(io.StringIO(render(comparison, "csv"))))
    assert [r["run"] for r in table] == ["weak", "strong"]
    assert float(table[1]["value"]) == pytest.approx(comparison.rows[0].cells[1].value)
    html = render(comparison, "html")
    assert html.count("<tr>") == 2 and "<th>Δ strong</th>" in html and "</table>" in html
    md = render(comparison, "md")
    header, rule, row = md.splitlines()[:3]
    assert header.count("|") == rule.count("|") == row.count("|")


LATEX_SPECIALS = "m&%$#_{}~^\\"
LATEX_ESCAPED = r"m\&\%\$\#\_\{\}\textasciitilde{}\textasciicircum{}\textbackslash{}"
HOSTILE = ("<script>alert(1)</script>", '"onmouseover=alert(1) x="', "{{ 7*7 }}")


def test_both_latex_tables_escape_every_special_character_alike(tmp_path: Path, rng: np.random.Generator) -> None:
    from bench.results.summary import render as render_summary
    from bench.results.summary import summarize

    gold = gold_labels(rng, 100)
    run = write_run(tmp_path, "a", [simulated_job(rng, dataset="toy", model=LATEX_SPECIALS, seed=0, gold=gold,
                                                  accuracy=0.7)])
    (row,) = _latex_rows(render(_compare([run]), "latex"))[1:]
    assert row.startswith(rf"toy & word & {LATEX_ESCAPED} & ")
    rows = [{"dataset": "toy", "features": "f<b>±", "model": LATEX_SPECIALS, "split": "test", "target": "",
             "metric": "acc_x", "fold": None, "value": v, "ci_low": v - 0.1, "ci_high": v + 0.1, "seed": s, "n": 10}
            for s, v in enumerate((0.5, 0.6))]
    assert render_summary(summarize(rows), "latex") == "\n".join([
        r"% [ ]: no interval (a seed mean's interval needs the predictions, see summarize\_run)",
        r"% $\pm$: standard deviation across seeds",
        r"\begin{tabular}{llll}", r"\toprule", r"dataset & features & model & acc\_x \\", r"\midrule",
        rf"toy & f<b>$\pm$ & {LATEX_ESCAPED} & 0.5500 $\pm$0.0707 \\", r"\bottomrule",
        r"\end{tabular}"])


def test_html_table_escapes_hostile_names(tmp_path: Path, rng: np.random.Generator) -> None:
    import dataclasses

    from bench.compare import html_table

    comparison = _compare(list(_planted(tmp_path, rng)))
    hostile = dataclasses.replace(comparison, runs=HOSTILE[:2],
                                  rows=(dataclasses.replace(comparison.rows[0], dataset=HOSTILE[2]),))
    for page in (html_table(hostile), render(hostile, "html")):
        assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; (baseline)" in page
        assert '"onmouseover' not in page and "<th>&#34;onmouseover=alert(1) x=&#34;</th>" in page
        assert "<td>{{ 7*7 }}</td>" in page and "49" not in page
    assert "<li>metric: accuracy (higher is better); baseline: &lt;script&gt;" in render(hostile, "html")


def test_unknown_metric_is_a_one_line_error(tmp_path: Path, rng: np.random.Generator,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    weak, strong = _planted(tmp_path, rng)
    assert main(["compare", str(weak), str(strong), "--metric", "acuracy"]) == 2
    assert "unknown metric 'acuracy'; did you mean 'accuracy'" in capsys.readouterr().err
    assert main(["compare", str(weak), str(strong), "--metric", "roc_auc"]) == 2
    assert "needs per-class scores" in capsys.readouterr().err
    assert main(["compare", str(weak), str(strong), "--metric", "f1[agree]", "--test", "permutation"]) == 2
    assert "use --test bootstrap" in capsys.readouterr().err


def test_per_class_metric_and_baseline_option(tmp_path: Path, rng: np.random.Generator,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    weak, strong = _planted(tmp_path, rng)
    assert main(["compare", str(strong), "--baseline", str(weak), "--metric", "f1[agree]", "--format", "json",
                 "--samples", "500"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metric"] == "f1[agree]" and doc["baseline"] == "weak" and doc["runs"] == ["weak", "strong"]


def test_notebook_api_gives_dataframes(tmp_path: Path, rng: np.random.Generator) -> None:
    from bench.api import compare, load_run, load_runs

    weak, strong = _planted(tmp_path, rng)
    run = load_run(weak)
    assert run.name == "weak" and run.status == "complete" and len(run.metrics) == 8
    summary = run.summary()
    assert summary.columns.tolist() == ["dataset", "features", "model", "metric", "mean", "std", "n_seeds",
                                        "ci_low", "ci_high"]
    assert summary["n_seeds"].tolist() == [4, 4]
    assert {r.name for r in load_runs(tmp_path)} == {"weak", "strong"}
    table = compare([weak, strong], baseline="strong", samples=500)
    assert table["run"].tolist() == ["weak", "strong"] and table["baseline"].tolist() == [False, True]
    assert table.loc[0, "delta"] < 0 and table.loc[0, "p_adjusted"] < 0.01
    with pytest.raises(ResultsError, match="neither a run folder nor a results folder"):
        load_runs(tmp_path / "nothing")


def test_datasets_the_metric_does_not_fit_are_left_out_with_a_note(tmp_path: Path, rng: np.random.Generator) -> None:
    topic = ("world", "sport", "tech")
    stance_gold, topic_gold = gold_labels(rng, 200), gold_labels(rng, 200, topic)
    run = write_run(tmp_path, "mixed", [
        simulated_job(rng, dataset="fnc", model="m", seed=0, gold=stance_gold, accuracy=0.7),
        simulated_job(rng, dataset="news", model="m", seed=0, gold=topic_gold, accuracy=0.7, labels=topic)],
        {"news": DatasetInfo(name="news", labels=topic, task="topic")})
    comparison = _compare([run], metric="fnc1_score")
    assert [row.dataset for row in comparison.rows] == ["fnc"]
    assert any(w.startswith("news left out: fnc1_score needs exactly the labels") for w in comparison.warnings)
    with pytest.raises(ResultsError, match="metric 'f_avg' applies to none of the compared systems"):
        _compare([run], metric="f_avg")


def test_single_system_baseline_faces_every_system_of_the_other_run(tmp_path: Path,
                                                                    rng: np.random.Generator) -> None:
    gold = gold_labels(rng, N)
    mine = write_run(tmp_path, "mine", [simulated_job(rng, dataset="toy", model="bert", features="imported",
                                                      seed=0, gold=gold, accuracy=0.85)])
    base = write_run(tmp_path, "baselines", [simulated_job(rng, dataset="toy", model=m, seed=0, gold=gold, accuracy=a)
                                             for m, a in (("logreg", 0.6), ("svm", 0.62))])
    rows = {row.model: row for row in _compare([mine, base]).rows}
    assert set(rows) == {"bert", "logreg", "svm"}
    for model in ("logreg", "svm"):
        assert rows[model].cells[0] == rows["bert"].cells[0]
        assert rows[model].deltas[1].direction == "worse"
    assert rows["bert"].deltas[1] is None


def test_multilabel_runs_are_compared_on_label_sets(tmp_path: Path, rng: np.random.Generator) -> None:
    topics = ("economy", "health", "energy")
    gold = rng.random((300, 3)) < 0.4
    ids = [f"m-{i:04d}" for i in range(300)]

    def job(flip: float, seed: int) -> Job:
        pred = gold ^ (rng.random(gold.shape) < flip)
        as_sets = lambda m: [[t for t, on in zip(topics, row) if on] for row in m]  # noqa: E731
        return Job(dataset="multi", features="word", model="ovr", seed=seed, ids=ids, gold=as_sets(gold),
                   pred=as_sets(pred))

    info = {"multi": DatasetInfo(name="multi", labels=topics, task="topic", multilabel=True)}
    a = write_run(tmp_path, "a", [job(0.3, 0)], info, metrics=("subset_accuracy", "f1_micro"))
    b = write_run(tmp_path, "b", [job(0.05, 0)], info, metrics=("subset_accuracy", "f1_micro"))
    comparison = _compare([a, b])
    assert comparison.metric == "subset_accuracy"
    row = comparison.rows[0]
    stored = RunDir.open(b).metrics
    assert row.cells[1].value == pytest.approx(stored.loc[stored.metric == "subset_accuracy", "value"].item())
    assert row.deltas[1].direction == "better" and row.deltas[1].p_adjusted < 0.01
    assert row.floor_source == "test majority class"


def test_default_compare_imports_neither_scipy_nor_scikit_learn(tmp_path: Path, rng: np.random.Generator) -> None:
    """Start-up is most of a small comparison's time: scipy.stats alone costs about half a second."""
    import subprocess
    import sys

    weak, strong = _planted(tmp_path, rng)
    code = ("import sys; from bench.cli import main; "
            f"main(['compare', {str(weak)!r}, {str(strong)!r}]); "
            "print(','.join(m for m in ('scipy.stats', 'sklearn') if m in sys.modules), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1:] in ([], [""])


def test_class_averaged_metrics_warn_about_classes_with_few_test_items(tmp_path: Path,
                                                                       rng: np.random.Generator) -> None:
    gold = np.array([0, 1, 2] * 100 + [3] * 5)  # the last label: 5 test items
    a = write_run(tmp_path, "a", [simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold, accuracy=0.7)])
    b = write_run(tmp_path, "b", [simulated_job(rng, dataset="toy", model="logreg", seed=0, gold=gold, accuracy=0.75)])
    macro = _compare([a, b], metric="f1_macro")
    (warning,) = [w for w in macro.warnings if "fewer than 10 test items" in w]
    assert warning.startswith(f"toy: 1 class with fewer than 10 test items ('{LABELS[3]}' (5)); f1_macro weighs")
    assert not [w for w in _compare([a, b], metric="accuracy").warnings if "fewer than" in w]
    assert not [w for w in _compare([a, b], metric=f"f1[{LABELS[0]}]").warnings if "fewer than" in w]
    assert [w for w in _compare([a, b], metric=f"f1[{LABELS[3]}]").warnings if "fewer than" in w]
