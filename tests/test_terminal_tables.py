"""Result tables drawn at 80, 100 and 200 columns: every number and name printed whole."""

from __future__ import annotations

import io
import math
import re

import pytest

from bench.compare import CompareOptions, compare_runs
from bench.compare.render import print_terminal, records
from bench.results.store import RunDir
from bench.results.summary import print_table, summarize_run
from tests.report_runs import ReportRuns, build_report_runs

WIDTHS = (80, 100, 200)
NUMBER = re.compile(r"[+-]?\d+\.\d+")
NAME = re.compile(r"[\w\-]+")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> ReportRuns:
    return build_report_runs(tmp_path_factory.getbasetemp() / "report_runs")


def _tokens(text: str) -> tuple[set[str], set[str]]:
    return set(NUMBER.findall(text)), set(NAME.findall(text))


def _fmt(x: float, digits: int, sign: bool = False) -> str:
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


@pytest.mark.parametrize("width", WIDTHS)
def test_run_table_fits_and_breaks_nothing(runs: ReportRuns, width: int) -> None:
    run = RunDir.open(runs.runs[0])
    summary = summarize_run(run)
    out = io.StringIO()
    print_table(summary, title=run.run_id, run=run, width=width, file=out)
    text = out.getvalue()
    numbers, names = _tokens(text)
    for rec in summary.to_dict("records"):
        assert {rec["dataset"], rec["features"], rec["model"], rec["metric"]} <= names
        values = [rec["mean"], rec["std"], rec["ci_low"], rec["ci_high"]]
        assert {_fmt(v, 4) for v in values if not math.isnan(v)} <= {n.lstrip("±") for n in numbers}
    table = text.split("\n[ ]")[0]
    assert max(len(line) for line in table.splitlines()) <= width
    if width >= 200:  # wide enough: every cell on one line
        assert re.search(r"\d\.\d{4} ±\d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\]", table)


@pytest.mark.parametrize("width", WIDTHS)
def test_comparison_table_breaks_nothing(runs: ReportRuns, width: int) -> None:
    comparison = compare_runs([RunDir.open(p) for p in runs.runs], CompareOptions(metric="f1_macro", samples=200))
    out = io.StringIO()
    print_terminal(comparison, width=width, file=out)
    text = out.getvalue()
    numbers, names = _tokens(text)
    for rec in records(comparison):
        assert {rec["dataset"], rec["features"], rec["model"]} <= names
        assert {_fmt(rec["value"], 3), _fmt(rec["ci_low"], 3), _fmt(rec["ci_high"], 3)} <= numbers
        if rec["delta"] is not None and not rec["baseline"]:
            assert _fmt(rec["delta"], 3, sign=True) in numbers
    table = text.split("\n- ")[0]
    if width == 200:
        assert max(len(line) for line in table.splitlines()) <= width
    assert {"base", "tuned", "bigrams"} <= names  # in the header, or under it when runs become letters
    if "- runs: " in text:
        assert "- runs: A = base, B = tuned, C = bigrams" in text


def _table(text: str, end: str) -> str:
    return text.split(end)[0]


@pytest.mark.parametrize("width", WIDTHS)
def test_two_run_comparison_fits_the_width(runs: ReportRuns, width: int) -> None:
    """Two runs fit 80 columns too: runs become letters, dataset/features/model stack in one column,
    headers abbreviate; every number and name whole, and every short form spelled out."""
    comparison = compare_runs([RunDir.open(p) for p in runs.runs[:2]], CompareOptions(metric="f1_macro", samples=200))
    out = io.StringIO()
    print_terminal(comparison, width=width, file=out)
    text = out.getvalue()
    table = _table(text, "\n- ").split("\nabbreviations: ")[0]
    assert max(len(line) for line in table.splitlines()) <= width
    numbers, names = _tokens(text)
    for rec in records(comparison):
        assert {rec["dataset"], rec["features"], rec["model"]} <= names
        assert {_fmt(rec["value"], 3), _fmt(rec["ci_low"], 3), _fmt(rec["ci_high"], 3)} <= numbers
        if rec["delta"] is not None and not rec["baseline"]:
            assert {_fmt(rec["delta"], 3, sign=True), _fmt(rec["delta_ci_low"], 3, sign=True),
                    _fmt(rec["delta_ci_high"], 3, sign=True)} <= numbers
    if "(base)" in table:
        assert "(base)=(baseline)" in text.split("\nabbreviations: ")[1].split("\n- ")[0]
    if width == 200:  # room for everything on one line, under full names
        assert "base (baseline)" in table and "Δ tuned" in table and "abbreviations:" not in text
        assert re.search(r"\d\.\d{3} sd \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", table)
    else:
        assert "- runs: A = base, B = tuned" in text


@pytest.fixture(scope="module")
def three_metric_run(runs: ReportRuns, tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    """The first report run rescored with three metrics whose names are long."""
    import shutil

    from bench.results.rescore import rescore_run

    copy = tmp_path_factory.mktemp("rescored") / runs.runs[0].name
    shutil.copytree(runs.runs[0], copy)
    run = RunDir.open(copy)
    rescore_run(run, ["accuracy", "balanced_accuracy", "precision_macro"], data_root=runs.data)
    return RunDir.open(copy)


@pytest.mark.parametrize("width", WIDTHS)
def test_run_table_abbreviates_metric_headers_before_going_long(three_metric_run: RunDir, width: int) -> None:
    """At 80 columns the three metrics stay side by side under short headers spelled out below."""
    summary = summarize_run(three_metric_run)
    out = io.StringIO()
    print_table(summary, run=three_metric_run, width=width, file=out)
    text = out.getvalue()
    table = _table(text, "\nabbreviations: ").split("\n[ ]")[0]
    assert max(len(line) for line in table.splitlines()) <= width
    header = table.split("┡")[0]
    numbers, _ = _tokens(text)
    for rec in summary.to_dict("records"):
        assert {_fmt(v, 4) for v in (rec["mean"], rec["ci_low"], rec["ci_high"])} <= {n.lstrip("±") for n in numbers}
    assert "value" not in header  # one column per metric at every width
    if width == 80:
        assert {"acc", "bacc", "Pm"} <= set(NAME.findall(header)) and "precision_macro" not in header
        assert ("abbreviations: feat=features, acc=accuracy, bacc=balanced_accuracy, Pm=precision_macro"
                in " ".join(text.split()))
    else:
        assert {"accuracy", "balanced_accuracy", "precision_macro"} <= set(NAME.findall(header))
        assert "abbreviations:" not in text
