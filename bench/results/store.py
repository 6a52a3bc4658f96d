"""The results store (layout documented in docs/results.md): the only module that reads and
writes ``results/``.

A run lives in ``<root>/.<run_id>.partial/`` while it runs and is renamed to
``<root>/<run_id>/`` only when every job is done, so a folder without ``.partial`` is always
complete. Every file is written whole (``bench.core.files``): a reader never sees half a
file. A job is finished when its ``jobs/<job_id>.json`` exists (its predictions are written
before it), which is what ``--resume`` relies on.

Layout::

    config.yaml               the resolved config, --set applied
    manifest.json             schema_version, run_id, name, status, command, created, git,
                              versions, datasets, seeds, jobs {job_id: {status, timings}}, evaluation
    metrics.json              {"schema_version": 1, "rows": [...]} in plan order
    metrics.csv               the same rows
    predictions/<job>.parquet id, gold, pred, score:<label>..., fold (CV only)
    predictions/<job>.probes.parquet  probe, the same columns, changed (only with evaluation.probes)
    jobs/<job>.json           metric rows, per-class report, confusion matrix, timings
    checkpoints/<job>/        while a job runs: its model's last epoch (a transformer), so a kill
                              loses one epoch; removed when the job is saved
"""

from __future__ import annotations

import errno
import io
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import ResultsError
from bench.core.files import fsync_folder, temp_folder, write_bytes, write_text
from bench.results.journal import recover
from bench.results.layout import (CHECKPOINTS, CONFIG, JOBS, MANIFEST, MANIFEST_SHAPE, METRICS_JSON, PARTIAL_SUFFIX, PREDICTION_COLUMNS,
                                  PREDICTIONS, PROBES_SUFFIX, SCHEMA_VERSION, is_run_folder, metrics_texts, read_object,
                                  read_rows_file, write_json_atomic)
from bench.results.layout import row_columns
from bench.results.transfer import with_system_datasets

if TYPE_CHECKING:
    import pandas as pd

MAX_SAME_ID = 999  # runs that can share one id (started in the same second with the same config)


class RunDir:
    """One run folder, complete or ``.partial``: the one way to read (and write) a run.

    Open an existing run with ``RunDir.open`` (``bench.load_run`` in notebooks); ``bench run``
    creates one with ``RunDir.create``. The manifest is read once; the metric rows and the
    predictions are read from disk when asked for.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._manifest: dict[str, Any] | None = None

    # --- reading ---------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run; ``ResultsError`` when ``path`` is not a run folder."""
        path = Path(path)
        if not path.is_dir():
            raise ResultsError(f"{path}: no such run folder; see `bench ls` for the runs")
        if not is_run_folder(path):
            raise ResultsError(f"{path}: no manifest.json; not a run folder written by `bench run`")
        recover(path)  # a rescore killed after its commit is finished before anything is read
        run = cls(path)
        version = run.manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ResultsError(f"{path / MANIFEST}: schema_version {version!r}, this newsbench reads "
                               f"{SCHEMA_VERSION}; use the newsbench version that wrote it")
        return run

    @property
    def is_partial(self) -> bool:
        """Whether the run is still under its ``.partial`` name (running, interrupted or failed)."""
        return self.path.name.endswith(PARTIAL_SUFFIX)

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    def job_path(self, job_id: str) -> Path:
        """``jobs/<job_id>.json``, whether or not it exists."""
        return self.path / JOBS / f"{job_id}.json"

    def checkpoint_path(self, job_id: str) -> Path:
        """``checkpoints/<job_id>/``: the folder a job's model checkpoints in while it runs."""
        return self.path / CHECKPOINTS / job_id

    def predictions_path(self, job_id: str) -> Path:
        """``predictions/<job_id>.parquet``, whether or not it exists."""
        return self.path / PREDICTIONS / f"{job_id}.parquet"

    @property
    def run_id(self) -> str:
        """``<utc>-<name>-<hash8>``."""
        return str(self.manifest.get("run_id", self.path.name))

    @property
    def name(self) -> str:
        """The config name (or the model name of an imported run)."""
        return str(self.manifest.get("name", self.path.name))

    @property
    def status(self) -> str:
        """``running``, ``complete``, ``interrupted`` or ``failed``."""
        return str(self.manifest.get("status"))

    @property
    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` as a dict (read once)."""
        if self._manifest is None:
            self._manifest = read_object(self.manifest_path, MANIFEST_SHAPE)
        return self._manifest

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config snapshot (``config.yaml``) as plain data."""
        from bench.core.safe_yaml import load_yaml_data  # a damaged snapshot is a one-line ConfigError

        path = self.path / CONFIG
        try:
            data = load_yaml_data(path)
        except FileNotFoundError:
            raise ResultsError(f"{path}: missing; the run folder is damaged") from None
        if not isinstance(data, dict):
            raise ResultsError(f"{path}: expected a mapping of config keys; the run folder is damaged "
                               "(restore it or rerun)")
        return data

    def job_ids(self) -> list[str]:
        """Jobs of the run in plan order (finished or not; see ``finished_jobs``)."""
        return list(self.manifest.get("jobs", {}))

    def finished_jobs(self) -> set[str]:
        """Jobs whose ``jobs/<id>.json`` is on disk, i.e. finished and saved."""
        folder = self.path / JOBS
        return {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()

    def job(self, job_id: str) -> dict[str, Any]:
        """``jobs/<job_id>.json``: metric rows, per-class report, confusion matrix, timings."""
        return read_rows_file(self.job_path(job_id))

    def rows(self) -> list[dict[str, Any]]:
        """Metric rows of the clean test text: ``metrics.json`` when complete, else from the finished jobs.

        Robustness probe rows (with ``probe``) are left out, so no table mixes them with clean
        rows; ``probe_rows`` gives them.
        """
        return [row for row in self._all_rows() if row.get("probe") is None]

    def probe_rows(self) -> list[dict[str, Any]]:
        """The robustness probes' metric rows (docs/results.md), in job order."""
        return [row for row in self._all_rows() if row.get("probe") is not None]

    def _all_rows(self) -> list[dict[str, Any]]:
        if (self.path / METRICS_JSON).exists():
            return list(read_rows_file(self.path / METRICS_JSON)["rows"])
        done = self.finished_jobs()
        return [row for job_id in self.job_ids() if job_id in done for row in self.job(job_id)["rows"]]

    @property
    def metrics(self) -> pd.DataFrame:
        """Metric rows as a DataFrame with the columns of ``layout.row_columns`` (read from disk at each access)."""
        import pandas as pd

        rows = self.rows()
        return pd.DataFrame(rows, columns=row_columns(rows))

    def summary(self) -> pd.DataFrame:
        """Overall test rows (no fold, no target) averaged over seeds, one row per system and metric.

        Columns: ``mean``, ``std`` (across seeds, ddof=1), ``n_seeds``, and ``ci_low``/``ci_high``:
        the stored item CI with one seed, NaN with several (the seeds' bounds averaged are not a
        CI of their mean; ``bench.results.summary.summarize_run`` computes that one).
        """
        metrics = with_system_datasets(self.metrics)  # two systems that differ only in train dataset stay apart
        whole = metrics["fold"].isna() & metrics["target"].isna()
        if "window" in metrics:  # a drift run's rows per window are slices, like targets
            whole &= metrics["window"].isna()
        rows = metrics[whole]
        grouped = rows.groupby(["dataset", "features", "model", "metric"], sort=False)
        out = grouped.agg(mean=("value", "mean"), std=("value", "std"), n_seeds=("seed", "nunique"),
                          ci_low=("ci_low", "first"), ci_high=("ci_high", "first")).reset_index()
        out.loc[out["n_seeds"] > 1, ["ci_low", "ci_high"]] = float("nan")
        return out

    def probe_predictions_path(self, job_id: str) -> Path:
        """``predictions/<job_id>.probes.parquet``, whether or not it exists."""
        return self.path / PREDICTIONS / f"{job_id}{PROBES_SUFFIX}"

    def probe_predictions(self, job_id: str) -> pd.DataFrame | None:
        """The job's robustness probe predictions (``probe`` + the predictions columns + ``changed``), or None."""
        if not self.probe_predictions_path(job_id).exists():
            return None
        frame = self._read_predictions(job_id, self.probe_predictions_path(job_id))
        if "probe" not in frame.columns or "changed" not in frame.columns:
            raise ResultsError(f"{self.probe_predictions_path(job_id)}: no column 'probe' or 'changed'; the run "
                               "folder is damaged (restore the file or rerun the job)")
        return frame

    def predictions(self, job_id: str) -> pd.DataFrame:
        """``predictions/<job_id>.parquet``: id, gold, pred, score:<label>..., fold."""
        return self._read_predictions(job_id, self.predictions_path(job_id))

    def _read_predictions(self, job_id: str, path: Path) -> pd.DataFrame:
        import pandas as pd
        import pyarrow as pa

        if path.exists() and not path.is_file():
            raise ResultsError(f"{path}: not a file; the run folder is damaged (restore it or rerun)")
        if not path.is_file():
            raise ResultsError(f"{path}: no predictions for job {job_id!r}; jobs: {', '.join(self.job_ids())}")
        try:
            frame = pd.read_parquet(path)
        except (pa.ArrowException, OSError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:120]
            raise ResultsError(f"{path}: not a readable predictions file ({reason}); the run folder is damaged "
                               "(restore the file or rerun the job)") from None
        missing = [c for c in PREDICTION_COLUMNS if c not in frame.columns]
        if missing:
            raise ResultsError(f"{path}: no column {missing[0]!r} (a predictions file has "
                               f"{', '.join(PREDICTION_COLUMNS)}); the run folder is damaged (restore the file "
                               "or rerun the job)")
        return frame

    # --- writing ---------------------------------------------------------------------

    @classmethod
    def create(cls, root: Path, run_id: str, *, config_yaml: str, manifest: Mapping[str, Any]) -> RunDir:
        """A new ``<root>/.<run_id>.partial/`` with its config snapshot and first manifest.

        The folder is claimed by one rename that cannot replace an existing run, so runs
        started in the same second with the same config (a job array) each get their own
        folder: the second is ``<run_id>-2``, the third ``<run_id>-3``... (``run_id`` in the
        manifest says which).
        """
        root.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, MAX_SAME_ID + 1):
            claimed = run_id if attempt == 1 else f"{run_id}-{attempt}"
            path = root / f".{claimed}{PARTIAL_SUFFIX}"
            if path.exists() or (root / claimed).exists():
                continue
            tmp = temp_folder(root, claimed)
            try:
                (tmp / PREDICTIONS).mkdir()
                (tmp / JOBS).mkdir()
                write_text(tmp / CONFIG, config_yaml)
                write_json_atomic(tmp / MANIFEST, {**manifest, "run_id": claimed})
                if _rename_new(tmp, path):
                    fsync_folder(root)
                    return cls(path)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        raise ResultsError(f"{root / run_id}: {MAX_SAME_ID} runs with this id exist; move some away")

    def update_manifest(self, **changes: Any) -> None:
        """Set top-level manifest keys and rewrite it atomically."""
        manifest = dict(self.manifest)
        manifest.update(changes)
        write_json_atomic(self.manifest_path, manifest)
        self._manifest = manifest

    def set_job(self, job_id: str, **info: Any) -> None:
        """Merge ``info`` into ``manifest["jobs"][job_id]`` and rewrite the manifest."""
        jobs = {k: dict(v) for k, v in self.manifest.get("jobs", {}).items()}
        jobs.setdefault(job_id, {}).update(info)
        self.update_manifest(jobs=jobs)

    def write_job(self, job_id: str, record: Mapping[str, Any], predictions: pd.DataFrame,
                  probes: pd.DataFrame | None = None) -> None:
        """Save one finished job: predictions (and probe predictions) first, then ``jobs/<id>.json`` (the done marker)."""
        for path, frame in ((self.predictions_path(job_id), predictions), (self.probe_predictions_path(job_id), probes)):
            if frame is not None:
                buffer = io.BytesIO()
                frame.to_parquet(buffer, index=False)
                write_bytes(path, buffer.getvalue())
        write_json_atomic(self.job_path(job_id), record)
        if self.checkpoint_path(job_id).exists():  # the job is saved: no epoch left to resume
            shutil.rmtree(self.checkpoint_path(job_id), ignore_errors=True)

    def finalize(self) -> RunDir:
        """Write ``metrics.json``/``metrics.csv`` from the jobs, mark complete, drop ``.partial``."""
        missing = [j for j in self.job_ids() if j not in self.finished_jobs()]
        if missing:
            raise ResultsError(f"{self.path}: {len(missing)} jobs not finished (first {missing[0]}); "
                               f"resume with `bench run --resume {self.path}`")
        rows = [row for job_id in self.job_ids() for row in self.job(job_id)["rows"]]
        self.write_metrics(rows)
        remove_temporaries(self.path)  # files a killed writer left half-written: not part of the run
        if (self.path / CHECKPOINTS).exists():  # once every job is saved, only a killed writer's debris is left
            shutil.rmtree(self.path / CHECKPOINTS, ignore_errors=True)
        self.update_manifest(status="complete")
        final = self.path.with_name(self.path.name[1:].removesuffix(PARTIAL_SUFFIX))
        if final.exists() or not _rename_new(self.path, final):
            raise ResultsError(f"{final}: a run with this id exists; move it away and finish with "
                               f"`bench run --resume {self.path}`")
        fsync_folder(final.parent)
        return RunDir(final)

    def write_metrics(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """``metrics.json`` and ``metrics.csv`` from every job's metric rows, in plan order."""
        for name, text in metrics_texts(rows).items():
            write_text(self.path / name, text)


def _rename_new(source: Path, target: Path) -> bool:
    """Rename the folder ``source`` to ``target`` unless ``target`` exists (then ``False``).

    A rename onto a folder that is not empty fails, and a run folder is never empty: two
    processes cannot both claim one name.
    """
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            return False
        raise
    return True


def remove_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files (``.*.tmp``) under a run folder; returns what was removed.

    Only for a folder no live process writes to: a finishing run, or a complete one.
    """
    removed = []
    for path in sorted(Path(folder).rglob(".*.tmp")):
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def list_runs(results_root: str | Path, problems: list[str] | None = None,
              damaged: dict[Path, str] | None = None) -> list[RunDir]:
    """Every run under ``results_root`` (complete and ``.partial``), oldest first.

    Args:
        results_root: the results folder (missing: no runs).
        problems: when given, gets one message per folder with a manifest that cannot be read
            (another schema version, damaged JSON, a JSON value of the wrong shape); such
            folders are not listed.
        damaged: when given, gets each such folder (and each folder with a run's
            ``config.yaml`` but no readable manifest) with its one-line reason, so that a
            listing can show it; one damaged run never hides the others.
    """
    root = Path(results_root)
    if not root.is_dir():
        return []
    runs = []
    for path in sorted(root.iterdir()):
        if not path.is_dir() or path.name.endswith(".tmp"):
            continue
        if not is_run_folder(path):
            if damaged is not None and ((path / MANIFEST).exists() or (path / CONFIG).is_file()):
                reason = f"{path / MANIFEST}: " + ("not a file" if (path / MANIFEST).exists() else "missing")
                damaged[path] = f"{reason}; the run folder is damaged (restore the manifest or rerun)"
            continue
        try:
            run = RunDir.open(path)  # reads the manifest and checks its shape
        except ResultsError as exc:
            if problems is not None:
                problems.append(str(exc))
            if damaged is not None:
                damaged[path] = str(exc)
            continue
        runs.append(run)
    return sorted(runs, key=lambda r: (str(r.manifest.get("created", "")), r.path.name))
