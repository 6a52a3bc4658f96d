"""What ``bench run --resume`` checks before it finishes a run: the folder is the run it started as.

A resumed run must finish every job under the config and data its first jobs used, or its
table mixes two experiments under one ``config_hash``. So the snapshot ``config.yaml`` is
bound and hashed again and compared with the hash the manifest recorded at the start, each
dataset's fingerprint (verified against its files by ``bench.corpus.open_dataset``) with the
recorded one, and the jobs on disk with the jobs the manifest lists. Any difference is one
``ResultsError`` line naming the file, what differs, and the fix: start a new run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bench.config.snapshot import config_hash, config_to_dict
from bench.config.spec import LoadedConfig
from bench.core.errors import ResultsError
from bench.results.store import RunDir
from bench.results.layout import CONFIG, MANIFEST

if TYPE_CHECKING:
    from bench.corpus import BuiltDataset

NEW_RUN = "start a new run with `bench run CONFIG` (a run folder's files must not be edited)"


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"bootstrap.samples": 1000, ...}`` for a nested mapping (lists stay values)."""
    if not isinstance(value, Mapping):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, sub in value.items():
        out.update(_flat(sub, f"{prefix}.{key}" if prefix else str(key)))
    return out


def config_differences(loaded: LoadedConfig, manifest: Mapping[str, Any]) -> str:
    """What the manifest lets us name of a changed config: evaluation keys or seeds, else features/models."""
    recorded = _flat(manifest.get("evaluation") or {}, "evaluation")
    now = _flat(config_to_dict(loaded.config)["evaluation"], "evaluation")
    changed = [key for key in sorted(set(recorded) | set(now)) if recorded.get(key) != now.get(key)]
    if list(manifest.get("seeds", [])) != list(loaded.config.seeds):
        changed.append("seeds")
    if changed:
        return ", ".join(changed) + " changed"
    return "a feature or model setting changed"


def check_resume_config(run: RunDir, loaded: LoadedConfig) -> None:
    """Refuse to resume ``run`` unless it is partial and its snapshot hashes to the recorded ``config_hash``.

    Checked before any dataset is opened or built: an edited snapshot must not build anything.

    Args:
        run: the ``.partial`` run folder.
        loaded: the config the resume would run (normally its snapshot ``config.yaml``).
    """
    from bench.run.validate import load_config

    if not run.is_partial:
        raise ResultsError(f"{run.path}: the run is complete; nothing to resume")
    manifest = run.manifest
    recorded = manifest.get("config_hash")
    if not recorded:
        raise ResultsError(f"{run.path / MANIFEST}: config_hash: not recorded, so the config cannot be "
                           f"verified; {NEW_RUN}")
    snapshot = load_config(run.path / CONFIG)
    for config in (snapshot, loaded):
        now = config_hash(config.config)
        if now != recorded:
            raise ResultsError(f"{config.path}: config_hash: the config hashes to {now[:12]} but the run started "
                               f"under {str(recorded)[:12]} ({config_differences(config, manifest)}); {NEW_RUN}")


def check_resume_jobs(run: RunDir, datasets: Mapping[str, BuiltDataset], job_ids: Sequence[str]) -> None:
    """Refuse to resume ``run`` unless its datasets and jobs are those it started with.

    Args:
        run: the ``.partial`` run folder (its config already checked by ``check_resume_config``).
        datasets: the datasets as they are now, by config entry.
        job_ids: the jobs the config plans, in order.
    """
    _check_datasets(run, datasets)
    planned, listed = list(job_ids), run.job_ids()
    if planned != listed:
        raise ResultsError(f"{run.path / MANIFEST}: jobs: the config plans other jobs than the manifest lists "
                           f"({len(planned)} planned, {len(listed)} listed); {NEW_RUN}")
    strangers = sorted(run.finished_jobs() - set(listed))
    if strangers:
        raise ResultsError(f"{run.job_path(strangers[0])}: job {strangers[0]!r} is not a job of this run "
                           f"({len(strangers)} such files); {NEW_RUN}")


def _check_datasets(run: RunDir, datasets: Mapping[str, BuiltDataset]) -> None:
    recorded: Mapping[str, Any] = run.manifest.get("datasets") or {}
    names = {ds.name for ds in datasets.values()}
    if names != set(recorded):
        raise ResultsError(f"{run.path / MANIFEST}: datasets: the run started with {', '.join(sorted(recorded))}, "
                           f"the config now names {', '.join(sorted(names))}; {NEW_RUN}")
    for ds in datasets.values():
        old = (recorded.get(ds.name) or {}).get("fingerprint")
        if old != ds.fingerprint:
            raise ResultsError(f"{ds.path}: fingerprint: dataset {ds.name!r} changed since the run started "
                               f"({str(old)[:12]} -> {ds.fingerprint[:12]}); {NEW_RUN}")
