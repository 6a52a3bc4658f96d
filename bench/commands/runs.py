"""``bench ls`` (one row per run) and ``bench show`` (one run's results table)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LS_FORMATS = ("table", "json", "csv")
SLICE_DIMENSIONS = ("language", "source", "target", "length")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ls`` and ``show``."""
    from bench.results.summary import FORMATS

    ls = subparsers.add_parser("ls", help="list runs, one row each", description="List the runs under a results "
                               "folder, oldest first, with status, jobs done and dataset names.")
    ls.add_argument("--results", type=Path, default=Path("results"), metavar="DIR",
                    help="results folder (default results/)")
    ls.add_argument("--format", choices=LS_FORMATS, default="table")
    ls.set_defaults(handler=ls_command)

    show = subparsers.add_parser("show", help="one run's results table (mean over seeds, with CIs)",
                                 description="Show one run's metrics: mean over seeds, ±std over seeds, "
                                 "[mean bootstrap CI].")
    show.add_argument("run", help="run folder, or a run id under --results")
    show.add_argument("--results", type=Path, default=Path("results"), metavar="DIR",
                      help="where to look for a run id (default results/)")
    show.add_argument("--format", choices=FORMATS, default="table")
    show.add_argument("--digits", type=int, default=4, help="decimals shown (default 4)")
    # Slices (bench.compare.slices): the choices are bench.compare.slices.DIMENSIONS, written out so --help imports no numpy.
    show.add_argument("--by", action="append", choices=SLICE_DIMENSIONS, metavar="DIMENSION",
                      help=f"metric per slice of the test items, with CIs: one of {', '.join(SLICE_DIMENSIONS)} "
                      "(repeatable); slices under 30 items are marked too small")
    show.add_argument("--metric", metavar="NAME", help="metric of the slices (default: the run's first metric)")
    show.add_argument("--data", type=Path, default=Path("data"), metavar="DIR",
                      help="built datasets, used with --by when the run's dataset path has moved (default data/)")
    show.set_defaults(handler=show_command)


def _run_rows(results: Path) -> list[dict[str, object]]:
    import sys

    from bench.results.store import list_runs

    problems: list[str] = []
    runs = list_runs(results, problems)
    for problem in problems:
        print(f"bench: warning: not listed: {problem}", file=sys.stderr)
    rows = []
    for run in runs:
        m = run.manifest
        jobs = m.get("jobs", {})
        rows.append({"run_id": run.run_id, "name": m.get("name"), "status": m.get("status"),
                     "created": m.get("created"), "jobs_done": len(run.finished_jobs()), "jobs": len(jobs),
                     "datasets": ",".join(m.get("datasets", {})), "path": str(run.path)})
    return rows


def ls_command(args: argparse.Namespace) -> int:
    """Print the runs."""
    import csv
    import io
    import json
    import sys

    rows = _run_rows(args.results)
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=["run_id", "name", "status", "created", "jobs_done", "jobs",
                                                 "datasets", "path"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(out.getvalue())
    else:
        from rich.console import Console
        from rich.table import Table

        if not rows:
            print(f"no runs under {args.results}", file=sys.stderr)
            return 0
        table = Table()
        for col in ("run_id", "status", "jobs", "datasets", "created"):
            table.add_column(col)
        for r in rows:
            table.add_row(str(r["run_id"]), str(r["status"]), f"{r['jobs_done']}/{r['jobs']}", str(r["datasets"]),
                          str(r["created"]))
        Console(soft_wrap=False, width=160).print(table)
    return 0


def find_run(run: str, results: Path) -> Path:
    """A run folder from a path, or from a run id (or a unique prefix of one) under ``results``."""
    from bench.core.errors import ResultsError
    from bench.results.store import list_runs

    path = Path(run)
    if path.is_dir():
        return path
    matches = [r.path for r in list_runs(results) if r.run_id.startswith(run)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ResultsError(f"{run}: no such run folder or run id under {results}; see `bench ls`")
    raise ResultsError(f"{run}: matches {len(matches)} runs under {results}; give more of the run id")


def show_command(args: argparse.Namespace) -> int:
    """Print one run's table."""
    from bench.results.store import RunDir
    from bench.results.summary import print_table, render, summarize

    run = RunDir.open(find_run(args.run, args.results))
    if getattr(args, "by", None):
        return _show_slices(run, args)
    summary = summarize(run.rows())
    status = run.manifest.get("status")
    title = run.run_id + ("" if status == "complete" else f" ({status})")
    text = render(summary, args.format, title=title, digits=args.digits)
    if text is None:
        print_table(summary, title=title, digits=args.digits)
    else:
        print(text)
    return 0


def _show_slices(run: object, args: argparse.Namespace) -> int:
    """``bench show RUN --by DIMENSION``: the run's metric per slice (``bench.compare.slices``)."""
    from bench.core.errors import BenchError
    from bench.compare.slices import SLICE_FORMATS, format_slices, slice_run

    if args.format not in SLICE_FORMATS:
        raise BenchError(f"--format {args.format}: not available with --by; use one of {', '.join(SLICE_FORMATS)}")
    rows = slice_run(run, list(dict.fromkeys(args.by)), metric=args.metric, data_root=args.data)
    if not rows:
        print(f"no slices: the datasets have no {' or '.join(args.by)} with two or more values", file=sys.stderr)
        return 0
    sys.stdout.write(format_slices(rows, args.format, args.digits))
    return 0
