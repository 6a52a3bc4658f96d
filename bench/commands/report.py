"""``bench report RUN... -o FILE.html``: a self-contained HTML report with plots, errors and slices."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.commands import fraction, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``report``."""
    parser = subparsers.add_parser(
        "report", help="a self-contained HTML report with plots, error analysis and slices",
        description="One HTML file that opens offline (figures embedded, no script, no network): run metadata, "
        "the comparison table with CIs and paired tests, forest plots, per-class F1, confusion matrices, score "
        "against time, the critical-difference diagram (3+ systems on 3+ datasets), learning curves (systems run "
        "at 2+ training sizes), error analysis linked to item texts, and metrics per slice. Every figure is also "
        "written as a PNG in FILE_plots/ beside the report.")
    parser.add_argument("runs", nargs="+", metavar="RUN", help="run folders (or run ids under --results)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.html", help="the report to write")
    parser.add_argument("--baseline", metavar="RUN", help="the run the others are compared with (default: the first)")
    parser.add_argument("--metric", metavar="NAME", help="metric of the table, plots and slices, e.g. f1_macro or "
                        "f1[agree] (default: the baseline run's first metric)")
    parser.add_argument("--samples", type=positive_int, default=10_000,
                        help="bootstrap resamples of the comparison table (default 10000, as bench compare)")
    parser.add_argument("--slice-samples", type=positive_int, default=1000,
                        help="bootstrap resamples per slice and per class F1 (default 1000)")
    parser.add_argument("--confidence", type=fraction, default=0.95, help="CI level (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")
    parser.add_argument("--top", type=positive_int, default=10, help="rows per error-analysis table (default 10)")
    parser.add_argument("--results", type=Path, default=Path("results"), metavar="DIR",
                        help="where run ids are looked up (default results/)")
    parser.add_argument("--data", type=Path, default=Path("data"), metavar="DIR",
                        help="built datasets, used when a run's dataset path has moved (default data/)")
    parser.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    """Write the report; print its path on stdout and any warning on stderr."""
    from bench.commands.runs import find_run
    from bench.core.errors import BenchError
    from bench.report import ReportOptions, plots_folder, write_report

    if args.output.suffix.lower() not in (".html", ".htm"):
        raise BenchError(f"{args.output}: -o: the report is an HTML file; name it e.g. report.html")
    paths = [find_run(run, args.results).resolve() for run in args.runs]
    baseline = 0
    if args.baseline:
        base = find_run(args.baseline, args.results).resolve()
        if base not in paths:
            paths.insert(0, base)
        baseline = paths.index(base)
    options = ReportOptions(metric=args.metric, baseline=baseline, samples=args.samples,
                            slice_samples=args.slice_samples, confidence=args.confidence, seed=args.seed,
                            data_root=args.data, top=args.top)
    out = write_report(paths, args.output, options, warn=lambda w: print(f"bench: warning: {w}", file=sys.stderr))
    print(f"wrote {plots_folder(out)}/", file=sys.stderr)
    print(out)
    return 0
