"""A whole benchmark run: datasets -> feature blocks -> model jobs -> a run folder.

``run_benchmark`` builds (or reuses) the datasets, checks the config against them, plans the
jobs, fits the feature blocks first and then runs the model jobs on an ``Executor``, saving
each finished job at once through ``bench.results.store``. Ctrl-C or SIGTERM marks the run
``interrupted`` and a job that raises marks it ``failed``; either way the folder keeps its
``.partial`` name and ``--resume`` finishes it without recomputing finished jobs.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.config.snapshot import config_hash, config_to_dict, dump_config
from bench.config.spec import DatasetInfo, LoadedConfig
from bench.results.manifest import dataset_entry, new_manifest
from bench.results.naming import make_run_id
from bench.results.store import RunDir
from bench.run.degenerate import MANIFEST_KEY as DEGENERATE
from bench.run.degenerate import Degenerate, check_degenerate, degenerate_in, report_degenerate
from bench.run.resume import check_resume_config, check_resume_jobs
from bench.run.validate import check_datasets

CWD = "cwd"  # the manifest key of the folder a run started in (relative dataset spec paths are read from it)

if TYPE_CHECKING:
    from bench.corpus import BuiltDataset
    from bench.run.executors import Executor
    from bench.run.progress import Progress

SPEC_SUFFIXES = (".yaml", ".yml")
CACHE_FOLDER = ".cache"


def is_spec(entry: str) -> bool:
    """Whether a ``datasets`` entry is a dataset spec file (else the name of a built dataset)."""
    return entry.endswith(SPEC_SUFFIXES)


def info_of(ds: BuiltDataset) -> DatasetInfo:
    """What the config checks need of a built dataset."""
    return DatasetInfo(name=ds.name, task=ds.task, multilabel=ds.multilabel, labels=tuple(ds.labels),
                       splits=tuple(ds.splits))


def build_note(dataset: BuiltDataset, seconds: float) -> str:
    """One line saying a dataset was just built, with what its build dropped and what it found (kept or
    dropped as the spec's policies say; ``stats.json``'s audit), so that a build inside ``bench run`` is
    not silent (``bench data show`` has the details)."""
    stats = dataset.stats()
    audit = stats.get("audit") or {}
    rows = sum(int(s.get("n_rows", 0)) for s in (stats.get("splits") or {}).values())
    dropped = [f"{key} {int(n):,}" for key, n in (audit.get("dropped") or {}).items() if n]
    if audit.get("filtered_out"):
        dropped.append(f"by where {int(audit['filtered_out']):,}")
    found = [f"{what} {sum(audit[key].values()):,}" for key, what in (
        ("empty", "empty"), ("unknown_labels", "unknown label"), ("duplicates", "duplicate"),
        ("conflicting_duplicates", "conflicting duplicate")) if isinstance(audit.get(key), Mapping)
        and sum(audit[key].values())]
    found += [f"{split} rows with a copy in train {copy.get('exact', 0):,} exact + {copy.get('near', 0):,} near"
              for split, copy in (audit.get("overlap") or {}).items()
              if isinstance(copy, Mapping) and (copy.get("exact") or copy.get("near"))]
    return (f"built dataset {dataset.name}: {rows:,} rows in {seconds:.1f} s; dropped: "
            + (", ".join(dropped) if dropped else "none") + (f"; found: {', '.join(found)}" if found else "")
            + f" (bench data show {dataset.path})")


def resolve_datasets(loaded: LoadedConfig, data_root: Path, *, verify: bool = False,
                     note: Callable[[str], None] | None = None, base: Path | None = None) -> dict[str, BuiltDataset]:
    """Build (or reuse) every dataset of the config; errors point at the ``datasets`` entry.

    Every dataset's split files are checked against its fingerprint (sizes and times, or the
    content with ``verify``: ``bench.corpus.verify``) before the fingerprint is recorded.
    ``note`` receives a ``build_note`` for each dataset built now (not for one reused). A relative spec
    path missing from the current folder is read from ``base`` (a resumed run: the folder it started in),
    so a resume works from any folder, and a project folder copied or moved whole still resumes from
    its new place (the fingerprints are checked against the manifest either way).
    """
    from bench.corpus import build_dataset, open_dataset

    out = {}
    for i, entry in enumerate(loaded.config.datasets):
        if is_spec(entry):
            spec = Path(entry)
            if not spec.is_file() and base is not None and not spec.is_absolute():
                spec = base / entry
            if not spec.is_file():
                where = f"the current folder or the folder the run started in, {base}" if base else "the current folder"
                raise loaded.doc.error(("datasets", i), f"no dataset spec file {entry!r}; check the path "
                                       f"(relative paths are relative to {where})")
            result = build_dataset(spec, data_root, verify=verify)
            out[entry] = result.dataset
            if note is not None and not result.reused:
                note(build_note(result.dataset, result.seconds))
        else:
            out[entry] = open_dataset(entry, data_root, verify=verify)
    return out


def peek_datasets(loaded: LoadedConfig, data_root: Path) -> dict[str, DatasetInfo | None]:
    """Dataset facts for ``bench validate`` without building: from ``stats.json`` when built.

    A spec whose dataset is not built yet maps to ``None``: ``bench run`` builds it and then
    checks splits and metrics before training anything.
    """
    import json

    out: dict[str, DatasetInfo | None] = {}
    for i, entry in enumerate(loaded.config.datasets):
        if is_spec(entry):
            if not Path(entry).is_file():
                raise loaded.doc.error(("datasets", i), f"no dataset spec file {entry!r}; check the path "
                                       "(relative paths are relative to the current folder)")
            from bench.corpus.spec import load_spec

            name = load_spec(entry).spec.name
        else:
            name = entry
        stats = data_root / name / "stats.json"
        if not stats.is_file():
            if not is_spec(entry):
                raise loaded.doc.error(("datasets", i), f"no built dataset {name!r} under {data_root}; "
                                       "build it with `bench data build SPEC` or list the spec file")
            out[entry] = None
            continue
        data = json.loads(stats.read_text(encoding="utf-8"))
        out[entry] = DatasetInfo(name=data["name"], task=data["task"], multilabel=bool(data["multilabel"]),
                                 labels=tuple(data["labels"]), splits=tuple(data["splits"]))
    return out


def new_run_id(loaded: LoadedConfig, now: dt.datetime | None = None) -> str:
    """``<UTC yyyymmddTHHMMSS>-<config name>-<8 hex of the config hash>``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return make_run_id(now, loaded.config.name, config_hash(loaded.config))


def build_manifest(loaded: LoadedConfig, run_id: str, datasets: Mapping[str, BuiltDataset],
                   job_ids: Sequence[str], command: Sequence[str],
                   degenerate: Sequence[Degenerate] = ()) -> dict[str, Any]:
    """The first manifest of a run (status ``running``); ``degenerate`` data is recorded when found."""
    config = loaded.config
    # the folder relative dataset spec paths were read from: a resume started elsewhere reads them from it
    extra = {CWD: str(Path.cwd()), **({DEGENERATE: [d.record() for d in degenerate]} if degenerate else {})}
    return new_manifest(
        run_id=run_id, name=config.name, command=command,
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), config_hash=config_hash(config),
        datasets={ds.name: _with_headline(ds) for ds in datasets.values()}, seeds=config.seeds,
        jobs={job_id: {"status": "pending"} for job_id in job_ids}, evaluation=config_to_dict(config)["evaluation"],
        extra=extra)


def _with_headline(ds: BuiltDataset) -> dict[str, Any]:
    """The manifest entry of a dataset with its ``headline_metric`` (``stats.json``; built before the key
    existed: none, and compare falls back to the task's default)."""
    headline = ds.stats().get("headline_metric")
    return {**dataset_entry(ds), **({"headline_metric": headline} if headline else {})}


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a run; ``path`` is its ``.partial`` folder (marked ``interrupted``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C so that the run is marked ``interrupted`` either way."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_benchmark(loaded: LoadedConfig, *, data_root: Path, results_root: Path, n_jobs: int, progress: Progress,
                  command: Sequence[str] = (), resume: RunDir | None = None,
                  executor: Executor | None = None, verify: bool = False,
                  on_job: Callable[[RunDir, str], None] | None = None) -> RunDir:
    """Run every job of ``loaded`` (or the unfinished jobs of ``resume``) and return the complete run.

    ``executor`` runs the tasks (e.g. a ``bench.run.dask_executor.DaskExecutor``); by default
    ``make_executor(n_jobs)``. ``verify`` hashes every dataset's content before the run
    (``bench run --verify``); without it only changed split files are hashed. ``on_job(run, job_id)``
    is called after each job is saved (``bench run --mlflow``); it must not raise.

    Raises:
        RunInterrupted: after marking the run ``interrupted`` (Ctrl-C or SIGTERM).
        BenchError: a user error; the run (if created) is marked ``failed``.
    """
    from dataclasses import replace

    from bench.learn.fitcontext import FitContext
    from bench.run.executors import make_executor
    from bench.run.progress import NoProgress
    from bench.run.runner import fit_feature_task, plan, plan_features
    from bench.run.streaming import dispatch_job, is_streaming

    if resume is not None:
        check_resume_config(resume, loaded)
    started_in = (resume.manifest.get(CWD) if resume is not None else None) or None
    datasets = resolve_datasets(loaded, data_root, verify=verify, note=progress.note,
                                base=Path(started_in) if started_in else None)
    check_datasets(loaded, {entry: info_of(ds) for entry, ds in datasets.items()})
    degenerate = check_degenerate(loaded, datasets)
    cache_dir = results_root / CACHE_FOLDER / "features"
    jobs = plan(loaded.config, datasets, cache_dir)
    job_ids = [job.job_id for job in jobs]
    if resume is None:
        run_id = new_run_id(loaded)
        run = RunDir.create(results_root, run_id, config_yaml=dump_config(loaded.config),
                            manifest=build_manifest(loaded, run_id, datasets, job_ids, command or sys.argv,
                                                         degenerate))
    else:
        run = resume
        check_resume_jobs(run, datasets, job_ids)
        resumes = [*run.manifest.get("resumed", []), dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")]
        run.update_manifest(status="running", resumed=resumes)
    finished = run.finished_jobs()
    show = not isinstance(progress, NoProgress)  # a model's per-epoch lines follow the run's --quiet
    pending = [replace(job, fit_context=FitContext(checkpoints=run.checkpoint_path(job.job_id), label=job.job_id,
                                                   show_progress=show))
               for job in jobs if job.job_id not in finished]
    executor = executor or make_executor(n_jobs)
    progress.note(f"run folder {run.path}")
    try:
        with _sigterm_as_interrupt():
            # streaming jobs (bench.run.streaming) featurize chunk by chunk: no feature blocks to fit first
            for wave in plan_features([job for job in pending if not is_streaming(job)]):
                progress.start("features", len(wave), workers=executor.n_workers)
                for i, seconds in executor.map_unordered(fit_feature_task, wave):
                    progress.advance(wave[i].task_id, seconds)
            progress.start("jobs", len(jobs), done=len(jobs) - len(pending), workers=executor.n_workers)
            for _, result in executor.map_unordered(dispatch_job, pending):
                run.write_job(result.job_id, result.record(), result.predictions, result.probe_predictions)
                run.set_job(result.job_id, status="done", **result.timings())
                progress.advance(result.job_id, result.seconds)
                if on_job is not None:
                    on_job(run, result.job_id)
    except KeyboardInterrupt:
        run.update_manifest(status="interrupted")
        raise RunInterrupted(run.path) from None
    except BaseException as exc:
        run.update_manifest(status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        progress.close()
    return run.finalize()


def check_only(loaded: LoadedConfig, data_root: Path) -> dict[str, DatasetInfo | None]:
    """``bench validate``: every check that needs no training; returns what it knew of each dataset.

    Built datasets are also checked for degenerate data (``bench.run.degenerate``, from the
    label counts of whole splits), so that ``evaluation.on_degenerate: error`` refuses here already.
    """
    import json

    infos = peek_datasets(loaded, data_root)
    known = {entry: info for entry, info in infos.items() if info is not None}
    if known:
        sub = LoadedConfig(config=_only_datasets(loaded, list(known)), doc=loaded.doc, path=loaded.path)
        check_datasets(sub, known, complete=len(known) == len(infos))
        found = []
        for info in {info.name: info for info in known.values()}.values():
            splits = json.loads((data_root / info.name / "stats.json").read_text(encoding="utf-8"))["splits"]
            found += degenerate_in(info.name, info.labels, info.multilabel, splits, loaded.config.evaluation)
        report_degenerate(sub, found)
    return infos


def _only_datasets(loaded: LoadedConfig, entries: list[str]) -> Any:
    import dataclasses

    return dataclasses.replace(loaded.config, datasets=tuple(entries))

