"""``bench report RUN... -o FILE.html``: a self-contained HTML report with plots, errors and slices."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.commands import data_option, positive_int, results_option, statistics_options


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report``."""
    parser = subparsers.add_parser(
        "report", help="a self-contained HTML report with plots, error analysis and slices",
        description="One HTML file that opens offline (figures embedded, no script, no network): run metadata, "
        "the comparison table with CIs and paired tests, forest plots, per-class F1, confusion matrices, score "
        "against time, the critical-difference diagram (3+ systems on 3+ datasets), learning curves (systems run "
        "at 2+ training sizes), error analysis linked to item texts, and metrics per slice. Every figure is also "
        "written as a PNG in FILE_plots/ beside the report. The statistics options are those of bench compare.")
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders (or run ids under --results)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.html", help="the report to write")
    parser.add_argument("--baseline", metavar="RUN", help="the run the others are compared with (default: the first)")
    parser.add_argument("--metric", metavar="NAME", help="metric of the table, plots and slices, e.g. f1_macro or "
                        "f1[agree] (default: the datasets' headline metric, e.g. f_avg for SemEval, fnc1_score "
                        "for FNC-1, f1_macro for topics; docs/datasets.md)")
    parser.add_argument("--top", type=positive_int, default=10, metavar="N", help="rows per error-analysis table")
    results_option(parser)
    data_option(parser, help="folder of built datasets, used when a run's dataset path has moved")
    group = statistics_options(parser)
    group.add_argument("--slice-samples", type=positive_int, default=1000, metavar="N",
                       help="bootstrap resamples per slice and per class F1")
    parser.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    """Write the report; print its path on stdout and any warning on stderr."""
    from bench.commands.runs import runs_and_baseline
    from bench.core.errors import BenchError
    from bench.compare import CompareOptions
    from bench.report import ReportOptions, plots_folder, write_report

    if args.output.suffix.lower() not in (".html", ".htm"):
        raise BenchError(f"{args.output}: -o: the report is an HTML file; name it e.g. report.html")
    paths, baseline = runs_and_baseline(args.runs, args.baseline, args.results)
    comparison = CompareOptions(metric=args.metric, baseline=baseline, test=args.test, correction=args.correction,
                                alpha=args.alpha, min_effect=args.min_effect, samples=args.samples,
                                confidence=args.confidence, seed=args.seed)
    options = ReportOptions(comparison=comparison, slice_samples=args.slice_samples, data_root=args.data,
                            top=args.top)
    out = write_report(paths, args.output, options, warn=lambda w: print(f"bench: warning: {w}", file=sys.stderr))
    print(f"wrote {plots_folder(out)}/", file=sys.stderr)
    print(out)
    return 0
