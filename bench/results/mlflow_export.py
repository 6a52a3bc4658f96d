"""Log a run folder's jobs to an MLflow tracker: ``bench export --mlflow`` and ``bench run --mlflow``.

Each job becomes one MLflow run in the experiment named after the config, with the
parameters, metrics and tags of ``bench.results.mlflow_fields`` and three artifacts: the
config snapshot, the job's ``jobs/<id>.json`` and its predictions. Exporting is idempotent:
an MLflow run is found again by its ``newsbench.run_id`` and ``newsbench.job_id`` tags, and is
left alone when its ``newsbench.digest`` (the job record and config hash) still matches; a job
that changed since (``bench rescore``), or whose earlier export was cut short (no digest
yet: it is written last), is deleted in MLflow and logged afresh. ``mlflow`` is imported only
here, and only when asked for (docs/tracking.md).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.core.errors import BenchError, import_extra
from bench.core.version import __version__
from bench.results.layout import CONFIG
from bench.results.mlflow_fields import (
    DIGEST_TAG,
    JOB_ID_TAG,
    RUN_DIR_TAG,
    RUN_ID_TAG,
    JobFields,
    job_digest,
    job_fields,
)
from bench.results.store import RunDir

PACKAGE, EXTRA = "mlflow-skinny", "mlflow"
_BATCH = 100  # MLflow's limit of params (and tags) per log_batch call
# The first contact retries little: with MLflow's defaults an unreachable server takes minutes to
# give up (measured: about 4 minutes), and a wrong URI should fail at once. Later calls keep the
# defaults, so that a server that blinks during a run is waited for. The user's own values win.
FIRST_CONTACT = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
_FIXES = (  # what MLflow said -> what the user does about it
    ("maintenance mode", ("this MLflow opens a folder store only with MLFLOW_ALLOW_FILE_STORE=true set; set it, "
                          "or give a tracking server (http://HOST:5000), or sqlite:///FILE.db with the full mlflow "
                          "package (pip install mlflow); docs/tracking.md")),
    ("unsupported URI", ("mlflow-skinny reaches tracking servers (http, https, databricks) and folders; a "
                         "sqlite:/// store needs the full mlflow package (pip install mlflow); docs/tracking.md")),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportResult:
    """What one export did, by job id."""

    experiment: str
    tracking_uri: str
    created: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()  # logged again: the job changed, or its earlier export was cut short
    unchanged: tuple[str, ...] = ()


def _reason(exc: BaseException) -> str:
    """MLflow's message on one line, cut at 200 characters."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


@contextlib.contextmanager
def tracker_errors(uri: str) -> Iterator[None]:
    """MLflow's and the network's failures as one-line ``BenchError``s naming the tracking URI and a fix."""
    from mlflow.exceptions import MlflowException
    from requests.exceptions import RequestException

    try:
        yield
    except (MlflowException, RequestException) as exc:
        said = _reason(exc)
        fix = next((fix for clue, fix in _FIXES if clue in said),
                   "check --tracking-uri and that the tracking server is up (docs/tracking.md)")
        raise BenchError(f"MLflow tracking URI {uri!r}: {said}; {fix}") from None


@contextlib.contextmanager
def _first_contact() -> Iterator[None]:
    """``FIRST_CONTACT`` for MLflow's HTTP client while the block runs, where the user set nothing."""
    unset = [name for name in FIRST_CONTACT if name not in os.environ]
    os.environ.update({name: FIRST_CONTACT[name] for name in unset})
    try:
        yield
    finally:
        for name in unset:
            os.environ.pop(name, None)


@dataclass
class Tracker:
    """One MLflow tracking store, reached through MLflow's own client."""

    client: Any
    uri: str
    _experiments: dict[str, str] = field(default_factory=dict)

    @classmethod
    def connect(cls, uri: str | None, *, needed_by: str = "--mlflow") -> Tracker:
        """The store at ``uri`` (``None``: ``$MLFLOW_TRACKING_URI``, else MLflow's default), reached once now
        so that a wrong URI fails before anything is logged.

        Raises:
            MissingExtraError: mlflow is not installed.
            BenchError: the store cannot be opened or reached.
        """
        mlflow = import_extra("mlflow", needed_by=needed_by, package=PACKAGE, extra=EXTRA)
        resolved = uri or mlflow.get_tracking_uri()
        with tracker_errors(resolved), _first_contact():
            client = mlflow.tracking.MlflowClient(tracking_uri=resolved)
            client.search_experiments(max_results=1)
        return cls(client=client, uri=resolved)

    def experiment_id(self, name: str) -> str:
        """The id of the experiment ``name``, created when missing."""
        if name not in self._experiments:
            with tracker_errors(self.uri):
                found = self.client.get_experiment_by_name(name)
                if found is not None and found.lifecycle_stage == "deleted":
                    raise BenchError(f"MLflow tracking URI {self.uri!r}: experiment {name!r} is deleted; restore it "
                                     f"(mlflow experiments restore --experiment-id {found.experiment_id}) or "
                                     "remove it for good, then export again")
                self._experiments[name] = (found.experiment_id if found is not None
                                           else self.client.create_experiment(name))
        return self._experiments[name]

    def logged(self, experiment_id: str, run_id: str) -> dict[str, list[Any]]:
        """The active MLflow runs of newsbench run ``run_id``, by job id."""
        # a run id with a quote cannot go into a filter string: it is then matched below only
        query = f"tags.`{RUN_ID_TAG}` = '{run_id}'" if "'" not in run_id else ""
        found: dict[str, list[Any]] = {}
        token = None
        with tracker_errors(self.uri):
            while True:
                page = self.client.search_runs([experiment_id], query, max_results=1000, page_token=token)
                for mlrun in page:
                    tags = mlrun.data.tags
                    if tags.get(RUN_ID_TAG) == run_id and JOB_ID_TAG in tags:
                        found.setdefault(tags[JOB_ID_TAG], []).append(mlrun)
                token = page.token
                if not token:
                    return found

    def export_job(self, run: RunDir, job_id: str, experiment_id: str, existing: Sequence[Any]) -> str:
        """Log one finished job unless it is there already; ``created``, ``replaced`` or ``unchanged``."""
        job, manifest = run.job(job_id), run.manifest
        run_dir = str(run.path.resolve())
        digest = job_digest(job, str(manifest.get("config_hash") or ""))
        with tracker_errors(self.uri):
            current = [r for r in existing if r.data.tags.get(DIGEST_TAG) == digest and r.info.status == "FINISHED"]
            if len(current) == 1 and len(existing) == 1:
                if current[0].data.tags.get(RUN_DIR_TAG) != run_dir:  # the folder moved, or lost .partial
                    self.set_run_dir(current[0].info.run_id, run_dir)
                return "unchanged"
            for stale in existing:
                self.client.delete_run(stale.info.run_id)
            fields = job_fields(job, config=run.config, manifest=manifest, run_dir=run_dir,
                                newsbench_version=__version__, where=str(run.job_path(job_id)))
            self._log(run, job_id, fields, digest, experiment_id, seconds=job.get("seconds"))
        return "replaced" if existing else "created"

    def _log(self, run: RunDir, job_id: str, fields: JobFields, digest: str, experiment_id: str,
             seconds: Any) -> None:
        import datetime as dt

        from mlflow.entities import Metric, Param, RunTag

        created = str(run.manifest.get("created") or "")
        try:
            start = int(dt.datetime.fromisoformat(created).timestamp() * 1000)
        except ValueError:
            start = None
        stamp = start or 0
        mlrun = self.client.create_run(experiment_id, start_time=start, tags=fields.tags, run_name=fields.run_name)
        run_id = mlrun.info.run_id
        params = [Param(k, v) for k, v in fields.params.items()]
        metrics = [Metric(p.key, p.value, stamp, p.step) for p in fields.metrics]
        for i in range(0, max(len(params), len(metrics), 1), _BATCH):
            self.client.log_batch(run_id, metrics=metrics[i:i + _BATCH], params=params[i:i + _BATCH])
        self.client.log_artifact(run_id, str(run.path / CONFIG))
        self.client.log_artifact(run_id, str(run.job_path(job_id)), "jobs")
        self.client.log_artifact(run_id, str(run.predictions_path(job_id)), "predictions")
        self.client.log_batch(run_id, tags=[RunTag(DIGEST_TAG, digest)])  # last: marks the export complete
        end = start + int(float(seconds) * 1000) if start is not None and isinstance(seconds, (int, float)) else None
        self.client.set_terminated(run_id, "FINISHED", end_time=end)

    def set_run_dir(self, mlflow_run_id: str, run_dir: str) -> None:
        """Point an MLflow run at the run folder's path (after a move, or the rename of a finished run)."""
        self.client.set_tag(mlflow_run_id, RUN_DIR_TAG, run_dir)
        self.client.set_tag(mlflow_run_id, "mlflow.source.name", run_dir)

    def export_run(self, run: RunDir, job_ids: Sequence[str] | None = None) -> ExportResult:
        """Log every finished job of ``run`` (or ``job_ids``) in plan order."""
        experiment = run.name
        experiment_id = self.experiment_id(experiment)
        logged = self.logged(experiment_id, run.run_id)
        done = run.finished_jobs()
        outcome: dict[str, list[str]] = {"created": [], "replaced": [], "unchanged": []}
        for job_id in job_ids if job_ids is not None else [j for j in run.job_ids() if j in done]:
            outcome[self.export_job(run, job_id, experiment_id, logged.get(job_id, []))].append(job_id)
        return ExportResult(experiment=experiment, tracking_uri=self.uri,
                            **{key: tuple(ids) for key, ids in outcome.items()})


def warn(text: str) -> None:
    """One ``bench: warning:`` line on stderr."""
    print(f"bench: warning: {text}", file=sys.stderr, flush=True)


@dataclass
class LiveExport:
    """``bench run --mlflow``: each job is logged as it finishes, without ever failing the run.

    The first failure of the tracker (a wrong URI, a server that stops answering, anything
    MLflow raises) prints one warning and stops the logging; the run's own files are
    written as without ``--mlflow`` and ``bench export RUN --mlflow`` logs them later.
    """

    tracker: Tracker | None
    say: Callable[[str], None] = warn
    _before: dict[str, list[Any]] | None = None  # what a resumed run had logged already, read once

    @classmethod
    def start(cls, uri: str | None, say: Callable[[str], None] = warn) -> LiveExport:
        """Reach the tracker; a missing extra is an error (before anything runs), any other failure a warning."""
        import_extra("mlflow", needed_by="--mlflow", package=PACKAGE, extra=EXTRA)
        try:
            return cls(tracker=Tracker.connect(uri), say=say)
        except Exception as exc:  # noqa: BLE001 - as in on_job: a tracker that cannot be opened costs no run
            live = cls(tracker=None, say=say)
            live._stop(exc)
            return live

    def _stop(self, exc: BaseException) -> None:
        self.tracker = None
        self.say(f"--mlflow: {_reason(exc)}; the run goes on without MLflow; log it when it is done with "
                 "`bench export RUN --mlflow`")

    def on_job(self, run: RunDir, job_id: str) -> None:
        """Log the job ``job_id`` just saved in ``run``."""
        if self.tracker is None:
            return
        try:
            experiment_id = self.tracker.experiment_id(run.name)
            if self._before is None:
                self._before = self.tracker.logged(experiment_id, run.run_id)
            self.tracker.export_job(run, job_id, experiment_id, self._before.get(job_id, []))
        except Exception as exc:  # noqa: BLE001 - tracking is optional: no failure of it may fail the run
            self._stop(exc)

    def finish(self, run: RunDir) -> None:
        """Point every logged job of the run (this session's, and a resumed run's earlier ones) at its
        final folder: it lost its ``.partial`` name."""
        if self.tracker is None:
            return
        final = str(run.path.resolve())
        try:
            experiment_id = self.tracker.experiment_id(run.name)
            for mlruns in self.tracker.logged(experiment_id, run.run_id).values():
                for mlrun in mlruns:
                    if mlrun.data.tags.get(RUN_DIR_TAG) != final:
                        self.tracker.set_run_dir(mlrun.info.run_id, final)
        except Exception as exc:  # noqa: BLE001 - as in on_job
            self._stop(exc)
