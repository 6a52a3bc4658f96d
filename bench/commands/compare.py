"""``bench compare`` (runs side by side, paired tests, gate), ``bench rescore`` and ``bench import``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.commands import data_option, format_option, resampling_options, results_option, statistics_options


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``compare``, ``rescore`` and ``import``."""
    cmp = subparsers.add_parser(
        "compare", help="results of several runs side by side, with deltas and paired tests",
        description="One table: rows (dataset, features, model), columns the runs. Cells: the metric "
        "averaged over seeds [bootstrap CI over test items] and sd across seeds. Deltas to the baseline "
        "run on matched item ids with a paired CI and a corrected p-value. Exit 1 with "
        "--fail-on-regression when a drop is significant after correction and larger than --min-effect.")
    cmp.add_argument("runs", nargs="+", metavar="RUN", help="run folders (or run ids under --results)")
    cmp.add_argument("--baseline", metavar="RUN", help="the run the others are compared with (default: the first)")
    cmp.add_argument("--metric", metavar="NAME", help="metric to compare, e.g. f1_macro or f1[agree] "
                     "(default: the datasets' headline metric, e.g. f_avg for SemEval, fnc1_score for FNC-1, "
                     "f1_macro for topics; docs/datasets.md)")
    format_option(cmp, {}, note="table fits the terminal's width (COLUMNS, else 100 when piped); md is the "
                  "Markdown table, also what table writes to --output")
    cmp.add_argument("--output", "-o", type=Path, metavar="FILE",
                     help="write the table to FILE, atomically (default: stdout)")
    cmp.add_argument("--fail-on-regression", action="store_true",
                     help="exit 1 when a run is significantly worse than the baseline (after correction) "
                     "by more than --min-effect")
    results_option(cmp)
    statistics_options(cmp)
    cmp.set_defaults(handler=compare_command)

    rescore = subparsers.add_parser(
        "rescore", help="recompute metrics and CIs from saved predictions (no retraining)",
        description="Recompute every job's metric rows from its saved predictions and rewrite "
        "metrics.json, metrics.csv and jobs/*.json all together: a kill leaves the run fully old or "
        "fully new (docs/reliability.md). Refuses predictions whose gold labels are not the dataset's, and a "
        "dataset rebuilt since the run (another fingerprint).")
    rescore.add_argument("run", metavar="RUN", help="run folder (or run id under --results)")
    rescore.add_argument("--metrics", nargs="+", metavar="NAME", help="metrics to compute (default: the run's own)")
    results_option(rescore)
    data_option(rescore, help="folder of built datasets, used when the run's dataset path has moved")
    rescore.set_defaults(handler=rescore_command)

    imp = subparsers.add_parser(
        "import", help="predictions made elsewhere -> a run folder",
        description="Turn a CSV/TSV/JSONL/JSON/Parquet file of `id`, `label` (or `pred`) and optional "
        "`score:<label>` columns into a run, checked against the dataset's test split: every test id "
        "exactly once, labels in the label set. The last line of stdout is the run folder.")
    imp.add_argument("predictions", type=Path, metavar="PREDICTIONS")
    imp.add_argument("--dataset", required=True, metavar="NAME_OR_DIR", help="a built dataset (name under --data, or folder)")
    imp.add_argument("--name", required=True, help="the model's name (the run's name and the table row)")
    results_option(imp, help="where the run folder goes")
    data_option(imp)
    imp.add_argument("--split", default="test", help="the split the predictions are for")
    imp.add_argument("--metrics", nargs="+", metavar="NAME", help="metrics (default: accuracy, f1_macro, and "
                     "f_avg or fnc1_score when the labels allow)")
    resampling_options(imp, 1000, "the metric CIs (the seed also makes the job id)")
    imp.set_defaults(handler=import_command)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from bench.core.files import write_text

    write_text(output, text)
    print(f"wrote {output}", file=sys.stderr)


def compare_command(args: argparse.Namespace) -> int:
    """Print the comparison; 1 when the gate is on and fails."""
    from bench.commands.runs import runs_and_baseline
    from bench.compare import CompareOptions, compare_runs, render
    from bench.results.store import RunDir

    paths, baseline = runs_and_baseline(args.runs, args.baseline, args.results)
    runs = [RunDir.open(path) for path in paths]
    options = CompareOptions(metric=args.metric, baseline=baseline, test=args.test, correction=args.correction,
                             samples=args.samples, confidence=args.confidence, alpha=args.alpha,
                             min_effect=args.min_effect, seed=args.seed)
    comparison = compare_runs(runs, options)
    if args.format == "table" and args.output is None:
        from bench.compare.render import print_terminal

        print_terminal(comparison)
    else:
        _write(render(comparison, "md" if args.format == "table" else args.format), args.output)
    if args.fail_on_regression and comparison.regressions:
        for line in comparison.regressions:
            print(f"bench: regression: {line}", file=sys.stderr)
        return 1
    return 0


def rescore_command(args: argparse.Namespace) -> int:
    """Rewrite a run's metrics from its predictions."""
    from bench.commands.runs import find_run
    from bench.results.rescore import rescore_run
    from bench.results.store import RunDir

    run = RunDir.open(find_run(args.run, args.results))
    rows = rescore_run(run, args.metrics, command=["bench", *sys.argv[1:]], data_root=args.data)
    print(f"rescored {len(run.job_ids())} jobs: {len(rows)} metric rows in {run.path / 'metrics.json'}")
    return 0


def import_command(args: argparse.Namespace) -> int:
    """Check predictions and write them as a run; the last line of stdout is the run folder."""
    from bench.corpus import open_dataset
    from bench.results.importer import default_metrics, import_predictions
    from bench.config.spec import BootstrapSpec

    dataset = open_dataset(args.dataset, args.data)
    path = import_predictions(args.predictions, dataset, name=args.name, results_root=args.results,
                              split=args.split, metrics=args.metrics or default_metrics(dataset), seed=args.seed,
                              bootstrap=BootstrapSpec(samples=args.samples, confidence=args.confidence),
                              command=["bench", *sys.argv[1:]])
    print(path)
    return 0
