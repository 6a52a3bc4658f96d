"""``bench export``: send finished runs to an experiment tracker (MLflow: docs/tracking.md)."""

from __future__ import annotations

import argparse
import sys

from bench.commands import results_option, tracking_uri_option


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export``."""
    export = subparsers.add_parser(
        "export", help="log finished runs to MLflow, one MLflow run per job",
        description="Log each finished job of the runs to MLflow, in an experiment named after the config: "
                    "parameters, every metric with its CI bounds, the config, job record and predictions as "
                    "artifacts, tags that point back to the run folder. Exporting again logs only what changed "
                    "(docs/tracking.md). Needs: pip install -e \".[mlflow]\".")
    export.add_argument("runs", nargs="+", metavar="RUN", help="run folder, or a run id under --results")
    results_option(export)
    export.add_argument("--mlflow", action="store_true", help="log to MLflow (the one tracker so far; required)")
    tracking_uri_option(export)
    export.set_defaults(handler=export_command)


def export_command(args: argparse.Namespace) -> int:
    """Export each run; one summary line per run on stdout."""
    from bench.commands.runs import find_run
    from bench.core.errors import BenchError
    from bench.results.mlflow_export import Tracker
    from bench.results.store import RunDir

    if not args.mlflow:
        raise BenchError("export: name the tracker: add --mlflow (see `bench export --help`)")
    runs = [RunDir.open(find_run(run, args.results)) for run in args.runs]
    tracker = Tracker.connect(args.tracking_uri)
    for run in runs:
        if run.is_partial:
            print(f"bench: note: {run.path} is not complete ({run.status}); its finished jobs are exported",
                  file=sys.stderr)
        result = tracker.export_run(run)
        print(f"{run.run_id}: {len(result.created)} logged, {len(result.replaced)} replaced, "
              f"{len(result.unchanged)} unchanged in experiment {result.experiment!r} at {result.tracking_uri}")
    return 0
