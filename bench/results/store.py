"""The results store (SPEC section 5): the only module that reads and writes ``results/``.

A run lives in ``<root>/.<run_id>.partial/`` while it runs and is renamed to
``<root>/<run_id>/`` only when every job is done, so a folder without ``.partial`` is always
complete. Every file is written to a temporary name and moved into place with
``os.replace``: a reader never sees half a file. A job is finished when its
``jobs/<job_id>.json`` exists (its predictions are written before it), which is what
``--resume`` relies on.

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
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import ResultsError

if TYPE_CHECKING:
    import pandas as pd

SCHEMA_VERSION = 1
ROW_KEYS = ("dataset", "features", "model", "seed", "split", "fold", "target",
            "metric", "value", "ci_low", "ci_high", "n")
STATUSES = ("running", "complete", "interrupted", "failed")
PARTIAL_SUFFIX = ".partial"


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


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Pretty, stable JSON (keys in insertion order, UTF-8, NaN as null), written atomically."""
    text = json.dumps(_clean(data), indent=2, ensure_ascii=False, allow_nan=False)
    write_bytes_atomic(path, (text + "\n").encode("utf-8"))


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Metric rows as CSV text with the ``ROW_KEYS`` columns (empty cell for null)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(ROW_KEYS), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in ROW_KEYS})
    return out.getvalue()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: missing; is this a run folder written by `bench run`?") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); the file is damaged") from None


class RunDir:
    """One run folder, complete or ``.partial``.

    Open an existing run with ``RunDir.open``; ``bench run`` creates one with ``RunDir.create``.
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
        if not (path / "manifest.json").is_file():
            raise ResultsError(f"{path}: no manifest.json; not a run folder written by `bench run`")
        run = cls(path)
        version = run.manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ResultsError(f"{path / 'manifest.json'}: schema_version {version!r}, this newsbench reads "
                               f"{SCHEMA_VERSION}; use the newsbench version that wrote it")
        return run

    @property
    def is_partial(self) -> bool:
        """Whether the run is still under its ``.partial`` name (running, interrupted or failed)."""
        return self.path.name.endswith(PARTIAL_SUFFIX)

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", self.path.name))

    @property
    def manifest(self) -> dict[str, Any]:
        """``manifest.json`` as a dict (read once)."""
        if self._manifest is None:
            self._manifest = _read_json(self.path / "manifest.json")
        return self._manifest

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config snapshot (``config.yaml``) as plain data."""
        from bench.core.loader import load_yaml_data

        try:
            return load_yaml_data(self.path / "config.yaml")
        except FileNotFoundError:
            raise ResultsError(f"{self.path / 'config.yaml'}: missing; the run folder is damaged") from None

    def job_ids(self) -> list[str]:
        """Jobs of the run in plan order (finished or not; see ``finished_jobs``)."""
        return list(self.manifest.get("jobs", {}))

    def finished_jobs(self) -> set[str]:
        """Jobs whose ``jobs/<id>.json`` is on disk, i.e. finished and saved."""
        folder = self.path / "jobs"
        return {p.stem for p in folder.glob("*.json")} if folder.is_dir() else set()

    def job(self, job_id: str) -> dict[str, Any]:
        """``jobs/<job_id>.json``: metric rows, per-class report, confusion matrix, timings."""
        return _read_json(self.path / "jobs" / f"{job_id}.json")

    def rows(self) -> list[dict[str, Any]]:
        """Metric rows: ``metrics.json`` when complete, else gathered from the finished jobs."""
        if (self.path / "metrics.json").is_file():
            data = _read_json(self.path / "metrics.json")
            return list(data.get("rows", []))
        done = self.finished_jobs()
        return [row for job_id in self.job_ids() if job_id in done for row in self.job(job_id)["rows"]]

    def metrics(self) -> pd.DataFrame:
        """Metric rows as a DataFrame with the ``ROW_KEYS`` columns."""
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(ROW_KEYS))

    def predictions(self, job_id: str) -> pd.DataFrame:
        """``predictions/<job_id>.parquet``: id, gold, pred, score:<label>..., fold."""
        import pandas as pd

        path = self.path / "predictions" / f"{job_id}.parquet"
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
        (tmp / "predictions").mkdir()
        (tmp / "jobs").mkdir()
        write_bytes_atomic(tmp / "config.yaml", config_yaml.encode("utf-8"))
        write_json_atomic(tmp / "manifest.json", manifest)
        os.replace(tmp, path)
        return cls(path)

    def update_manifest(self, **changes: Any) -> None:
        """Set top-level manifest keys and rewrite it atomically."""
        manifest = dict(self.manifest)
        manifest.update(changes)
        write_json_atomic(self.path / "manifest.json", manifest)
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
        write_bytes_atomic(self.path / "predictions" / f"{job_id}.parquet", buffer.getvalue())
        write_json_atomic(self.path / "jobs" / f"{job_id}.json", record)

    def finalize(self) -> RunDir:
        """Write ``metrics.json``/``metrics.csv`` from the jobs, mark complete, drop ``.partial``."""
        missing = [j for j in self.job_ids() if j not in self.finished_jobs()]
        if missing:
            raise ResultsError(f"{self.path}: {len(missing)} jobs not finished (first {missing[0]}); "
                               f"resume with `bench run --resume {self.path}`")
        rows = [row for job_id in self.job_ids() for row in self.job(job_id)["rows"]]
        write_json_atomic(self.path / "metrics.json", {"schema_version": SCHEMA_VERSION, "rows": rows})
        write_bytes_atomic(self.path / "metrics.csv", rows_to_csv(_clean(rows)).encode("utf-8"))
        self.update_manifest(status="complete")
        final = self.path.with_name(self.path.name[1:].removesuffix(PARTIAL_SUFFIX))
        os.replace(self.path, final)
        return RunDir(final)


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
        if path.is_dir() and (path / "manifest.json").is_file() and not path.name.endswith(".tmp"):
            try:
                runs.append(RunDir.open(path))
            except ResultsError as exc:
                if problems is not None:
                    problems.append(str(exc))
    return sorted(runs, key=lambda r: (str(r.manifest.get("created", "")), r.path.name))
