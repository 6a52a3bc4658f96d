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
