"""``bench ls`` (one row per run) and ``bench show`` (one run's results table)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.commands import check_format, data_option, format_option, positive_int, results_option

SLICE_DIMENSIONS = ("language", "source", "target", "length")
LS_COLUMNS = ("run_id", "name", "status", "created", "jobs_done", "jobs", "datasets", "path", "problem")
DAMAGED = "damaged"  # the status of a run folder whose manifest cannot be read
LS_UNAVAILABLE = dict.fromkeys(("latex", "html"), "a list of runs is not a results table (see bench show, "
                               "bench compare, bench report)")
SHOW_UNAVAILABLE = {"html": "one run's page is `bench report RUN -o FILE.html`"}
# with --by: the formats of bench.compare.slices.SLICE_FORMATS
SLICES_UNAVAILABLE = {**SHOW_UNAVAILABLE, "latex": "not written for slices (with --by)"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``ls`` and ``show``."""
    ls = subparsers.add_parser("ls", help="list runs, one row each", description="List the runs under a results "
                               "folder, oldest first, with status, jobs done and dataset names.")
    results_option(ls, help="where the run folders are")
    format_option(ls, LS_UNAVAILABLE)
    ls.add_argument("--clean", action="store_true",
                    help="first remove what killed processes left under --results and --data (temporary "
                    "files and folders, unfinished dataset saves, interrupted rescores; never a run), "
                    "printing each path on stderr")
    data_option(ls, help="the datasets folder --clean also cleans")
    ls.set_defaults(handler=ls_command)

    show = subparsers.add_parser("show", help="one run's results table (mean over seeds, with CIs)",
                                 description="Show one run's metrics: mean over seeds, ±std over seeds, "
                                 "[mean bootstrap CI].")
    show.add_argument("run", help="run folder, or a run id under --results")
    results_option(show)
    format_option(show, SLICES_UNAVAILABLE)
    show.add_argument("--digits", type=positive_int, default=4, metavar="N", help="decimals shown")
    # Slices (bench.compare.slices): the choices are bench.compare.slices.DIMENSIONS, written out so --help imports no numpy.
    show.add_argument("--by", action="append", choices=SLICE_DIMENSIONS, metavar="DIMENSION",
                      help=f"metric per slice of the test items, with CIs: one of {', '.join(SLICE_DIMENSIONS)} "
                      "(repeatable); slices under 30 items are marked too small (default: no slices, the run's table)")
    show.add_argument("--metric", metavar="NAME", help="metric of the slices (default: the datasets' headline "
                      "metric, docs/datasets.md)")
    data_option(show, help="folder of built datasets, used with --by when the run's dataset path has moved")
    show.set_defaults(handler=show_command)


def _run_rows(results: Path) -> list[dict[str, object]]:
    from bench.results.store import list_runs

    damaged: dict[Path, str] = {}
    runs = list_runs(results, damaged=damaged)
    rows: list[dict[str, object]] = []
    for run in runs:
        m = run.manifest
        jobs = m.get("jobs", {})
        rows.append({"run_id": run.run_id, "name": m.get("name"), "status": m.get("status"),
                     "created": m.get("created"), "jobs_done": len(run.finished_jobs()), "jobs": len(jobs),
                     "datasets": ",".join(m.get("datasets", {})), "path": str(run.path), "problem": None})
    # a damaged run is listed, last, with its reason: it never hides the others
    for path, problem in sorted(damaged.items()):
        rows.append({"run_id": path.name.removeprefix(".").removesuffix(".partial"), "name": None,
                     "status": DAMAGED, "created": None, "jobs_done": None, "jobs": None, "datasets": "",
                     "path": str(path), "problem": problem})
    return rows


def ls_command(args: argparse.Namespace) -> int:
    """Print the runs."""
    import csv
    import io
    import json

    check_format(args.format, LS_UNAVAILABLE)
    if args.clean:
        _clean(args.results, args.data)
    rows = _run_rows(args.results)
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif args.format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=LS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(out.getvalue())
    elif args.format == "md":
        lines = ["| " + " | ".join(LS_COLUMNS) + " |", "|" + "---|" * len(LS_COLUMNS)]
        lines += ["| " + " | ".join(("" if r[c] is None else str(r[c])).replace("|", "\\|") for c in LS_COLUMNS)
                  + " |" for r in rows]
        print("\n".join(lines))
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
            done = "" if r["status"] == DAMAGED else f"{r['jobs_done']}/{r['jobs']}"
            table.add_row(str(r["run_id"]), str(r["status"]), done, str(r["datasets"]),
                          str(r["created"] or ""))
        Console(soft_wrap=False, width=160).print(table)
        for r in rows:
            if r["problem"]:
                print(f"{r['run_id']}: {r['problem']}")
    return 0


def _clean(results: Path, data: Path) -> None:
    """``bench ls --clean``: the debris of killed processes (``bench.results.cleanup``,
    ``bench.corpus.buildlock``), each path removed printed on stderr."""
    from bench.corpus.buildlock import clean_data
    from bench.results.cleanup import clean_results

    removed = clean_results(results) + clean_data(data)
    for path in removed:
        print(f"removed {path}", file=sys.stderr)
    print(f"cleaned: {len(removed)} leftovers of killed processes removed", file=sys.stderr)


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


def runs_and_baseline(runs: list[str], baseline: str | None, results: Path) -> tuple[list[Path], int]:
    """The run folders of ``bench compare``/``bench report`` and the index of the baseline among them.

    A ``--baseline`` run that is not among ``runs`` is put first.
    """
    paths = [find_run(run, results).resolve() for run in runs]
    if not baseline:
        return paths, 0
    base = find_run(baseline, results).resolve()
    if base not in paths:
        paths.insert(0, base)
    return paths, paths.index(base)


def show_command(args: argparse.Namespace) -> int:
    """Print one run's table."""
    from bench.results.store import RunDir
    from bench.results.summary import print_table, render, run_notes, summarize_run

    check_format(args.format, SLICES_UNAVAILABLE if args.by else SHOW_UNAVAILABLE)
    run = RunDir.open(find_run(args.run, args.results))
    if args.by:
        return _show_slices(run, args)
    summary = summarize_run(run)
    status = run.manifest.get("status")
    title = run.run_id + ("" if status == "complete" else f" ({status})")
    from bench.results.tuned import tuning_notes

    notes = run_notes(run.manifest) + [f"tuned: {line}" for line in tuning_notes(run)]
    text = render(summary, args.format, title=title, digits=args.digits, notes=notes, run=run)
    if text is None:
        print_table(summary, title=title, digits=args.digits, notes=notes, run=run)
    else:
        print(text)
    return 0


def _show_slices(run: object, args: argparse.Namespace) -> int:
    """``bench show RUN --by DIMENSION``: the run's metric per slice (``bench.compare.slices``)."""
    from bench.compare.slices import format_slices, slice_run

    rows = slice_run(run, list(dict.fromkeys(args.by)), metric=args.metric, data_root=args.data)
    if not rows:
        print(f"no slices: the datasets have no {' or '.join(args.by)} with two or more values", file=sys.stderr)
        return 0
    sys.stdout.write(format_slices(rows, args.format, args.digits))
    return 0
