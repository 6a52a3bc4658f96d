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
    jobs/<job>.json           metric rows, per-class report, confusion matrix, timings
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import ResultsError
from bench.core.files import swap_folder, write_bytes, write_text

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
ROW_KEYS = ("dataset", "features", "model", "seed", "split", "fold", "target",
            "metric", "value", "ci_low", "ci_high", "n")
STATUSES = ("running", "complete", "interrupted", "failed")
PARTIAL_SUFFIX = ".partial"
MANIFEST = "manifest.json"
CONFIG = "config.yaml"
METRICS_JSON = "metrics.json"
METRICS_CSV = "metrics.csv"
PREDICTIONS = "predictions"
JOBS = "jobs"
SCORE_PREFIX = "score:"  # predictions columns ``score:<label>``


def _clean(value: Any) -> Any:
    """JSON-safe data: NaN and infinities become null (JSON has no NaN), tuples lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _clean(value.item())
    return value


def write_json_atomic(path: Path, data: Any) -> None:
    """Pretty, stable JSON (keys in insertion order, UTF-8, NaN as null), written atomically."""
    text = json.dumps(_clean(data), indent=2, ensure_ascii=False, allow_nan=False)
    write_text(path, text + "\n")


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Metric rows as CSV text with the ``ROW_KEYS`` columns (empty cell for null)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ROW_KEYS), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in ROW_KEYS})
    return out.getvalue()


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a run's manifest (complete or not)."""
    return (Path(path) / MANIFEST).is_file()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing; is this a run folder written by `bench run`?") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); the file is damaged") from None


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
            self._manifest = _read_json(self.manifest_path)
        return self._manifest

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config snapshot (``config.yaml``) as plain data."""
        import yaml

        try:
            return yaml.safe_load((self.path / CONFIG).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ResultsError(f"{self.path / CONFIG}: missing; the run folder is damaged") from None

    def job_ids(self) -> list[str]:
        """Jobs of the run in plan order (finished or not; see ``finished_jobs``)."""
        return list(self.manifest.get("jobs", {}))

    def finished_jobs(self) -> set[str]:
        """Jobs whose ``jobs/<id>.json`` is on disk, i.e. finished and saved."""
        folder = self.path / JOBS
        return {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()

    def job(self, job_id: str) -> dict[str, Any]:
        """``jobs/<job_id>.json``: metric rows, per-class report, confusion matrix, timings."""
        return _read_json(self.job_path(job_id))

    def rows(self) -> list[dict[str, Any]]:
        """Metric rows: ``metrics.json`` when complete, else gathered from the finished jobs."""
        if (self.path / METRICS_JSON).is_file():
            data = _read_json(self.path / METRICS_JSON)
            return list(data.get("rows", []))
        done = self.finished_jobs()
        return [row for job_id in self.job_ids() if job_id in done for row in self.job(job_id)["rows"]]

    @property
    def metrics(self) -> pd.DataFrame:
        """Metric rows as a DataFrame with the ``ROW_KEYS`` columns (read from disk at each access)."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(ROW_KEYS))

    def summary(self) -> pd.DataFrame:
        """Overall test rows (no fold, no target) averaged over seeds, one row per system and metric.

        Columns: ``mean``, ``std`` (across seeds, ddof=1), ``n_seeds``, and ``ci_low``/``ci_high``:
        the stored item CI with one seed, NaN with several (the seeds' bounds averaged are not a
        CI of their mean; ``bench.results.summary.summarize_run`` computes that one).
        """
        metrics = self.metrics
        rows = metrics[metrics["fold"].isna() & metrics["target"].isna()]
        grouped = rows.groupby(["dataset", "features", "model", "metric"], sort=False)
        out = grouped.agg(mean=("value", "mean"), std=("value", "std"), n_seeds=("seed", "nunique"),
                          ci_low=("ci_low", "first"), ci_high=("ci_high", "first")).reset_index()
        out.loc[out["n_seeds"] > 1, ["ci_low", "ci_high"]] = float("nan")
        return out

    def predictions(self, job_id: str) -> pd.DataFrame:
        """``predictions/<job_id>.parquet``: id, gold, pred, score:<label>..., fold."""
        import pandas as pd

        path = self.predictions_path(job_id)
        if not path.is_file():
            raise ResultsError(f"{path}: no predictions for job {job_id!r}; jobs: {', '.join(self.job_ids())}")
        return pd.read_parquet(path)

    # --- writing ---------------------------------------------------------------------

    @classmethod
    def create(cls, root: Path, run_id: str, *, config_yaml: str, manifest: Mapping[str, Any]) -> RunDir:
        """A new ``<root>/.<run_id>.partial/`` with its config snapshot and first manifest."""
        root.mkdir(parents=True, exist_ok=True)
        path = root / f".{run_id}{PARTIAL_SUFFIX}"
        if path.exists() or (root / run_id).exists():
            raise ResultsError(f"{root / run_id}: a run with this id exists; wait a second and run again")
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{run_id}.", suffix=".tmp"))
        (tmp / PREDICTIONS).mkdir()
        (tmp / JOBS).mkdir()
        write_text(tmp / CONFIG, config_yaml)
        write_json_atomic(tmp / MANIFEST, manifest)
        swap_folder(tmp, path)
        return cls(path)

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

    def write_job(self, job_id: str, record: Mapping[str, Any], predictions: pd.DataFrame) -> None:
        """Save one finished job: predictions first, then ``jobs/<id>.json`` (the done marker)."""
        buffer = io.BytesIO()
        predictions.to_parquet(buffer, index=False)
        write_bytes(self.predictions_path(job_id), buffer.getvalue())
        write_json_atomic(self.job_path(job_id), record)

    def finalize(self) -> RunDir:
        """Write ``metrics.json``/``metrics.csv`` from the jobs, mark complete, drop ``.partial``."""
        missing = [j for j in self.job_ids() if j not in self.finished_jobs()]
        if missing:
            raise ResultsError(f"{self.path}: {len(missing)} jobs not finished (first {missing[0]}); "
                               f"resume with `bench run --resume {self.path}`")
        rows = [row for job_id in self.job_ids() for row in self.job(job_id)["rows"]]
        self.write_metrics(rows)
        self.update_manifest(status="complete")
        final = self.path.with_name(self.path.name[1:].removesuffix(PARTIAL_SUFFIX))
        if final.exists():
            raise ResultsError(f"{final}: a run with this id exists; move it away and finish with "
                               f"`bench run --resume {self.path}`")
        swap_folder(self.path, final)
        return RunDir(final)

    def write_metrics(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """``metrics.json`` and ``metrics.csv`` from every job's metric rows, in plan order."""
        write_json_atomic(self.path / METRICS_JSON, {"schema_version": SCHEMA_VERSION, "rows": list(rows)})
        write_text(self.path / METRICS_CSV, rows_to_csv(_clean(list(rows))))


def list_runs(results_root: str | Path, problems: list[str] | None = None) -> list[RunDir]:
    """Every run under ``results_root`` (complete and ``.partial``), oldest first.

    Args:
        results_root: the results folder (missing: no runs).
        problems: when given, gets one message per folder with a manifest that cannot be read
            (another schema version, damaged JSON); such folders are not listed.
    """
    root = Path(results_root)
    if not root.is_dir():
        return []
    runs = []
    for path in sorted(root.iterdir()):
        if path.is_dir() and is_run_folder(path) and not path.name.endswith(".tmp"):
            try:
                runs.append(RunDir.open(path))
            except ResultsError as exc:
                if problems is not None:
                    problems.append(str(exc))
    return sorted(runs, key=lambda r: (str(r.manifest.get("created", "")), r.path.name))
