"""``bench run`` (train and score every job of a config) and ``bench validate`` (check, list, train nothing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bench.commands import data_option, deprecated_alias, positive_int, results_option, tracking_uri_option


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``validate`` and ``run``, in that order (check a config, then run it)."""
    validate = subparsers.add_parser("validate", help="check a benchmark config and list its jobs; trains nothing",
                                     description="Check everything a run needs (keys, types, names, parameters, "
                                     "metrics against the datasets) and list the jobs. The keys of a config are "
                                     "described in docs/configs.md.")
    validate.add_argument("config", type=Path, help="benchmark config (YAML)")
    _common(validate)
    validate.set_defaults(handler=validate_command)

    run = subparsers.add_parser("run", help="run every job of a benchmark config and print the results table",
                                description="Run datasets x features x models x seeds and save the results "
                                "under results/<run_id>/ (docs/results.md). The last line of stdout is the run "
                                "folder. The keys of a config are described in docs/configs.md.")
    run.add_argument("config", nargs="?", type=Path, help="benchmark config (YAML); optional with --resume")
    _common(run)
    results_option(run, help="where run folders go")
    run.add_argument("--resume", type=Path, metavar="RUN_DIR",
                     help="finish an interrupted or failed run (its .partial folder) without redoing finished "
                          "jobs (default: a new run)")
    run.add_argument("--quiet", "-q", action="store_true", help="no progress display on stderr")
    run.add_argument("--verify", action="store_true",
                     help="hash every dataset's content and check it against its fingerprint before the run "
                          "(default: only when a split file's size or time changed)")
    _executor_options(run)
    tracking = run.add_argument_group("tracking", "log each job to MLflow as it finishes (docs/tracking.md; "
                                      "needs: pip install -e \".[mlflow]\")")
    tracking.add_argument("--mlflow", action="store_true",
                          help="log each finished job to MLflow; if the tracker fails, one warning and the run "
                               "goes on without it (exit code unchanged)")
    tracking_uri_option(tracking)
    run.set_defaults(handler=run_command)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key (dotted path, YAML value), e.g. --set models.0.params.C=2; "
                             "repeatable (default: none)")
    data_option(parser)


def _executor_options(parser: argparse.ArgumentParser) -> None:
    """``--executor``, ``--jobs``, ``--scheduler``, ``--retries`` (the Dask executor: docs/scale.md)."""
    group = parser.add_argument_group("executor", "where the jobs run (Dask needs: pip install -e \".[dask]\")")
    group.add_argument("--executor", choices=("local", "dask"), default="local",
                       help="local: worker processes on this machine; dask: the workers of a Dask cluster")
    group.add_argument("--jobs", "-j", type=positive_int, metavar="N",
                       help="worker processes that run jobs in parallel: local processes, or with --executor "
                            "dask the size of a local cluster (default: 1; with --executor dask: one per CPU)")
    deprecated_alias(group, "--workers", "--jobs", dest="jobs", type=positive_int)
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="with --executor dask: a running scheduler, e.g. tcp://HOST:8786, whose workers "
                            "run the jobs (default: a local cluster of --jobs workers)")
    group.add_argument("--retries", type=int, default=3, metavar="N",
                       help="with --executor dask: restarts of a job whose worker was lost")


def _make_executor(args: argparse.Namespace) -> Any:
    """A ``DaskExecutor`` for ``--executor dask`` (close it after the run), else None (the runner's own)."""
    from bench.core.errors import BenchError

    if args.executor != "dask":
        if args.scheduler is not None:
            raise BenchError("--scheduler: only used with --executor dask; add --executor dask or drop --scheduler")
        return None
    if args.scheduler is not None and args.jobs is not None:
        raise BenchError("--jobs: the workers of a running scheduler are its own; drop --jobs or --scheduler")
    from bench.run.dask_executor import DaskExecutor

    return DaskExecutor.start(scheduler=args.scheduler, workers=args.jobs, retries=args.retries)


def validate_command(args: argparse.Namespace) -> int:
    """Check the config and list the jobs."""
    from bench.run.benchmark import check_only
    from bench.run.validate import count_fits, load_config
    from bench.run.runner import job_grid
    from bench.learn.models import TEXT_BLOCK
    from bench.results.naming import make_job_id
    from bench.core.plugins import all_installed

    loaded = load_config(args.config, args.overrides)
    config = loaded.config
    infos = check_only(loaded, args.data)
    for entry, info in infos.items():
        if info is None:
            print(f"bench: note: {entry} is not built yet; `bench run` builds it and checks splits and "
                  "metrics before training", file=sys.stderr)
    from bench.corpus.spec import load_spec

    names = {entry: (info.name if info else load_spec(entry).spec.name) for entry, info in infos.items()}
    grid = job_grid(config)
    ev = config.evaluation
    from bench.run.transfer import transfer_pairs

    # a transfer run's jobs are per (train, test) pair, named <train>_to_<test> (bench.run.transfer)
    data = ([f"{p.train}_to_{p.test}" for p in transfer_pairs(ev)] if ev.transfer is not None
            else [names[entry] for entry in config.datasets])
    for name in data:
        for feat, model in grid:
            for seed in config.seeds:
                print(make_job_id(name, feat.name if feat else TEXT_BLOCK, model.name, seed))
    how = f"{ev.cv.folds}-fold CV by {ev.cv.by} on {ev.train!r}" if ev.cv else f"train {ev.train!r}, test {ev.test!r}"
    fits = f"{count_fits(config, [model for _, model in grid])} model fits"
    if ev.cv and ev.cv.by == "target":  # the folds are the dataset's targets, unknown until it is read
        how, fits = f"leave one target out on {ev.train!r}", "one model fit per job and target"
    elif ev.drift:
        how += f", split by {ev.drift.column} at {ev.drift.train_before} (windows: {ev.drift.window})"
    n_jobs = len(data) * len(grid) * len(config.seeds)
    print(f"{args.config}: ok: {n_jobs} jobs ({len(data)} {'transfer pairs' if ev.transfer else 'datasets'} x {len(grid)} "
          f"feature/model pairs x {len(config.seeds)} seeds); {how}; metrics {', '.join(ev.metrics)}; {fits}")
    for plugin in all_installed():  # what installed packages add to the registries (docs/models.md)
        print(f"plugin: {plugin.name} ({plugin.kind}) from {plugin.package} {plugin.version}")
    return 0


def run_command(args: argparse.Namespace) -> int:
    """Run the jobs, print the table, and print the run folder last."""
    from bench.run.benchmark import RunInterrupted, run_benchmark
    from bench.run.validate import load_config
    from bench.config.snapshot import config_hash
    from bench.core.errors import BenchError
    from bench.run.progress import make_progress
    from bench.results.store import RunDir
    from bench.results.summary import print_table, run_notes, summarize_run

    resume = None
    if args.resume is not None:
        resume = RunDir.open(args.resume)
        loaded = load_config(resume.path / "config.yaml")
        if args.overrides:
            raise BenchError("--set: a resumed run keeps the config it started with; drop --set or start a new run")
        if args.config is not None and config_hash(load_config(args.config).config) != config_hash(loaded.config):
            raise BenchError(f"{args.config}: differs from the config of {resume.path}; resume without CONFIG "
                             "or start a new run")
        results_root = resume.path.parent
    elif args.config is None:
        raise BenchError("run: give a CONFIG, or --resume RUN_DIR; see `bench run --help`")
    else:
        loaded = load_config(args.config, args.overrides)
        results_root = args.results
    tracker = _start_tracker(args)
    executor = _make_executor(args)
    progress = make_progress(quiet=args.quiet)
    try:
        run = run_benchmark(loaded, data_root=args.data, results_root=results_root, n_jobs=args.jobs or 1,
                            progress=progress, command=["bench", *sys.argv[1:]], resume=resume, executor=executor,
                            verify=args.verify, on_job=tracker.on_job if tracker else None)
    except RunInterrupted as stop:
        print(f"bench: interrupted; resume with `bench run --resume {stop.path}`", file=sys.stderr)
        return 130
    finally:
        if executor is not None:
            executor.close()
    if tracker is not None:
        tracker.finish(run)
    print_table(summarize_run(run), title=run.run_id, notes=run_notes(run.manifest), run=run)
    print(run.path)
    return 0


def _start_tracker(args: argparse.Namespace) -> Any:
    """``bench run --mlflow``: a ``LiveExport`` (a missing extra is an error before anything runs), else None."""
    from bench.core.errors import BenchError

    if not args.mlflow:
        if args.tracking_uri is not None:
            raise BenchError("--tracking-uri: only used with --mlflow; add --mlflow or drop --tracking-uri")
        return None
    from bench.results.mlflow_export import LiveExport

    return LiveExport.start(args.tracking_uri)
