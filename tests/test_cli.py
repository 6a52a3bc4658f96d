"""The ``bench`` command line as a whole: one name per concept, defaults in --help, old spellings, order."""

from __future__ import annotations

import argparse
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import bench.commands
from bench.cli import COMMAND_MODULES, build_parser, main
from bench.commands import TABLE_FORMATS
from tests.report_runs import ReportRuns, build_report_runs


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def commands(parser: argparse.ArgumentParser | None = None, prefix: str = "") -> Iterator[tuple[str,
                                                                                              argparse.ArgumentParser]]:
    """Every leaf command (``data build``, ``run``, ...) with its parser."""
    parser = parser or build_parser()
    for name, sub in _subparsers(parser).items():
        if _subparsers(sub):
            yield from commands(sub, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", sub


def options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """The options shown in --help (not --help itself, not hidden aliases)."""
    for action in parser._actions:
        if action.option_strings and action.help != argparse.SUPPRESS and action.dest != "help":
            yield action


def option_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    formatter = parser._get_formatter()
    return " ".join(formatter._expand_help(action).split())


ALL = dict(commands())


def test_every_command_is_registered_in_pipeline_order() -> None:
    assert set(COMMAND_MODULES) == {m.name for m in pkgutil.iter_modules(bench.commands.__path__)}
    assert list(_subparsers(build_parser())) == ["data", "validate", "run", "ls", "show", "compare", "rescore",
                                                 "import", "report", "export"]


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_option_says_its_default(name: str) -> None:
    parser = ALL[name]
    for action in options(parser):
        if action.nargs == 0 or action.required:  # flags are off unless given; required options have none
            continue
        text = option_help(parser, action)
        assert "(default" in text, f"bench {name} {action.option_strings[0]}: {text!r}"
        if action.default not in (None, []) and "(default: " in text:
            shown = text.split("(default: ")[-1]
            assert shown.startswith(str(action.default)), f"bench {name} {action.option_strings[0]}: {text!r}"


def _by_option(flag: str) -> dict[str, argparse.Action]:
    return {name: action for name, parser in ALL.items() for action in options(parser) if flag in action.option_strings}


def test_shared_concepts_have_one_name_and_one_meaning() -> None:
    data, results = _by_option("--data"), _by_option("--results")
    assert set(data) == {"data build", "data show", "validate", "run", "ls", "show", "rescore", "import",
                         "report"}
    assert set(results) == {"run", "ls", "show", "compare", "rescore", "import", "report", "export"}
    for found in (data, results):
        assert {a.metavar for a in found.values()} == {"DIR"} and len({a.default for a in found.values()}) == 1
    assert {name for name, parser in ALL.items() if any("--out" in a.option_strings for a in options(parser))} == set()
    # --jobs: processes that run benchmark jobs; --workers: processes that prepare build batches
    assert set(_by_option("--jobs")) == {"run"} and set(_by_option("--workers")) == {"data build"}
    formats = _by_option("--format")
    assert set(formats) == {"data show", "ls", "show", "compare"}
    assert all(tuple(a.choices) == TABLE_FORMATS and a.default == "table" for a in formats.values())
    for flag in ("--samples", "--confidence", "--seed"):
        assert {a.metavar for a in _by_option(flag).values()} == {"LEVEL" if flag == "--confidence" else "N"}


@pytest.mark.parametrize("flag", ["--test", "--correction", "--alpha", "--min-effect", "--samples", "--confidence",
                                  "--seed"])
def test_report_offers_the_statistics_options_of_compare(flag: str) -> None:
    compare, report = _by_option(flag)["compare"], _by_option(flag)["report"]
    assert (compare.choices, compare.default, compare.help) == (report.choices, report.default, report.help)


def test_report_help_lists_the_paired_test_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="0"):
        main(["report", "--help"])
    out = capsys.readouterr().out
    assert all(flag in out for flag in ("--test {bootstrap,mcnemar,permutation}", "--correction {holm,bh}",
                                        "--alpha LEVEL"))


def test_old_spellings_still_parse_and_warn(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    args = parser.parse_args(["data", "build", "spec.yaml", "--out", "elsewhere"])
    assert args.data == Path("elsewhere")
    assert "--out is deprecated; use --data" in capsys.readouterr().err
    assert parser.parse_args(["data", "build", "spec.yaml"]).data == Path("data")
    args = parser.parse_args(["run", "c.yaml", "--executor", "dask", "--workers", "3"])
    assert args.jobs == 3
    assert "--workers is deprecated; use --jobs" in capsys.readouterr().err
    assert parser.parse_args(["run", "c.yaml"]).jobs is None


def test_a_format_a_command_cannot_render_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", "--results", str(tmp_path), "--format", "html"]) == 2
    assert "--format html: a list of runs is not a results table" in capsys.readouterr().err
    assert main(["data", "show", "x", "--data", str(tmp_path), "--format", "csv"]) == 2
    assert "--format csv: the stats are nested" in capsys.readouterr().err


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> ReportRuns:
    return build_report_runs(tmp_path_factory.getbasetemp() / "report_runs")


def test_report_statistics_options_change_what_the_report_says(runs: ReportRuns, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    fast = ["--samples", "200", "--slice-samples", "100", "--data", str(runs.data)]
    default, chosen = tmp_path / "default.html", tmp_path / "chosen.html"
    assert main(["report", *map(str, runs.runs), "-o", str(default), *fast]) == 0
    assert main(["report", *map(str, runs.runs), "-o", str(chosen), *fast,
                 "--correction", "bh", "--alpha", "0.01"]) == 0
    # McNemar tests one prediction per item: with several seeds it would test another quantity than the Δ
    assert main(["report", *map(str, runs.runs), "-o", str(tmp_path / "refused.html"), *fast,
                 "--test", "mcnemar", "--metric", "accuracy"]) == 2
    assert "--test mcnemar needs one prediction per item" in capsys.readouterr().err
    before, after = default.read_text(), chosen.read_text()
    assert "paired bootstrap, Holm-corrected" in before and "at alpha 0.05" in before
    assert "paired bootstrap, Benjamini-Hochberg-corrected" in after and "at alpha 0.01" in after
