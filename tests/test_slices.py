"""``bench.compare.slices``: metrics per language, outlet, target and length, and ``bench show --by``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.compare.systems import Outputs, SystemKey
from bench.core.errors import DataError
from bench.compare.slices import DIMENSIONS, MIN_ITEMS, format_slices, item_groups, length_buckets, slice_metrics, slice_run
from bench.results.store import RunDir
from tests.report_runs import ReportRuns, build_report_runs

LABELS = ("a", "b", "c")


def _outputs(rng: np.random.Generator, n: int, seeds: int = 1) -> Outputs:
    gold = rng.integers(0, 3, size=n)
    preds = np.stack([np.where(rng.random(n) < 0.7, gold, (gold + 1) % 3) for _ in range(seeds)])
    return Outputs(key=SystemKey("d", "f", "m"), run="r", labels=LABELS, multilabel=False,
                   ids=np.array([f"i{k:04d}" for k in range(n)]), gold=gold, seeds=tuple(range(seeds)), preds=preds,
                   scores=None, is_majority=False)


def test_length_buckets_cut_at_terciles_and_name_their_ranges() -> None:
    texts = [" ".join(["w"] * k) for k in range(1, 31)]
    buckets = length_buckets(texts)
    assert buckets[:10] == ["short: 1-10 words"] * 10
    assert buckets[10:20] == ["medium: 11-20 words"] * 10
    assert buckets[20:] == ["long: 21-30 words"] * 10
    assert length_buckets(["one two"] * 4) == ["all: 2 words"] * 4
    assert length_buckets([]) == []


def test_item_groups_skip_missing_and_single_valued_columns() -> None:
    items = pd.DataFrame({"text": ["a b", "a b c d", "a"], "language": ["fr", "fr", "fr"],
                          "source": ["X", None, "Y"]}, index=["1", "2", "3"])
    assert item_groups(items, "language") is None
    assert item_groups(items, "target") is None
    assert item_groups(items, "source").tolist() == ["X", "(none)", "Y"]
    with pytest.raises(ValueError, match="unknown slice dimension 'outlet'"):
        item_groups(items, "outlet")


def test_slice_metric_is_the_metric_on_the_slice_items(rng: np.random.Generator) -> None:
    out = _outputs(rng, 200, seeds=2)
    groups = pd.Series(np.where(np.arange(200) < 150, "big", "small"), index=out.ids)
    groups.iloc[190:] = "tiny"
    rows = slice_metrics(out, groups, system="f/m", dimension="source", metric="accuracy", samples=300)
    assert [(r.group, r.n_items, r.too_small) for r in rows] == [("big", 150, False), ("small", 40, False),
                                                                 ("tiny", 10, True)]
    for row, index in ((rows[0], slice(0, 150)), (rows[1], slice(150, 190))):
        expected = np.mean([(p[index] == out.gold[index]).mean() for p in out.preds])
        assert row.value == pytest.approx(expected)
        assert row.ci_low <= row.value <= row.ci_high
    assert rows[2].value is None and rows[2].ci_low is None
    again = slice_metrics(out, groups, system="f/m", dimension="source", metric="accuracy", samples=300)
    assert again == rows


def test_slice_ci_does_not_depend_on_the_other_slices(rng: np.random.Generator) -> None:
    out = _outputs(rng, 120)
    two = pd.Series(np.where(np.arange(120) < 60, "x", "y"), index=out.ids)
    three = two.copy()
    three.iloc[90:] = "z"
    x_two = slice_metrics(out, two, system="s", dimension="source", metric="f1_macro", samples=200)[0]
    x_three = [r for r in slice_metrics(out, three, system="s", dimension="source", metric="f1_macro",
                                        samples=200) if r.group == "x"][0]
    assert x_two == x_three


def test_min_items_rule_is_documented_as_30() -> None:
    assert MIN_ITEMS == 30
    import bench.compare.slices

    assert "fewer than ``MIN_ITEMS`` (30) items" in bench.compare.slices.__doc__


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> ReportRuns:
    return build_report_runs(tmp_path_factory.getbasetemp() / "report_runs")


def test_slice_run_finds_outlets_targets_and_lengths(runs: ReportRuns) -> None:
    rows = slice_run(RunDir.open(runs.runs[0]), DIMENSIONS, samples=200)
    seen = {(r.dataset, r.dimension) for r in rows}
    assert {("actu_fr", "source"), ("actu_fr", "length"), ("tiny_stance", "target")} <= seen
    assert ("actu_fr", "language") not in seen  # one language: nothing to compare
    by_outlet = [r for r in rows if r.dataset == "actu_fr" and r.dimension == "source"]
    assert {r.group for r in by_outlet} == {"Le Monde", "Ouest-France"}
    assert all(r.n_items == 30 and not r.too_small for r in by_outlet)
    assert all(r.too_small for r in rows if r.dataset == "tiny_stance")


def test_show_by_prints_slices(runs: ReportRuns, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(runs.runs[0]), "--by", "source", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["group"] for r in records} == {"Le Monde", "Ouest-France"}
    assert {r["metric"] for r in records} == {"f1_macro"}  # the headline of these datasets (topic and stance)
    assert main(["show", str(runs.runs[0]), "--by", "target", "--metric", "f1_macro"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"tiny_stance\s+word/logreg\s+target\s+climate policy\s+15\s+too small \(< 30 items\)", text)
    assert text.splitlines()[0].split()[-1] == "f1_macro"


def test_show_by_without_the_dataset_is_a_one_line_error(runs: ReportRuns, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    run = Path(shutil.copytree(runs.runs[0], tmp_path / runs.runs[0].name))
    manifest = (run / "manifest.json").read_text(encoding="utf-8")
    (run / "manifest.json").write_text(manifest.replace(str(runs.data), str(tmp_path / "gone")), encoding="utf-8")
    assert main(["show", str(run), "--by", "source", "--data", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert re.search(r"manifest\.json: datasets\.\w+: built dataset not found .*pass --data DIR", err)
    with pytest.raises(DataError, match="built dataset not found"):
        slice_run(RunDir.open(run), ["source"], data_root=tmp_path / "none")


def test_show_dimension_choices_match_the_module() -> None:
    from bench.commands.runs import SLICE_DIMENSIONS

    assert SLICE_DIMENSIONS == DIMENSIONS


def test_format_slices_md_and_csv(rng: np.random.Generator) -> None:
    out = _outputs(rng, 80)
    groups = pd.Series(np.where(np.arange(80) < 55, "x|y", "z"), index=out.ids)
    rows = slice_metrics(out, groups, system="f/m", dimension="source", metric="accuracy", samples=100)
    md = format_slices(rows, "md")
    assert "| x\\|y | 55 |" in md and "too small (< 30 items)" in md
    csv_text = format_slices(rows, "csv")
    assert csv_text.splitlines()[0] == "dataset,system,dimension,group,n_items,metric,value,ci_low,ci_high,too_small"
    assert csv_text.splitlines()[2].endswith(",,,True")
