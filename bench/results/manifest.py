"""The first manifest of a run, written the same way by ``bench run`` and ``bench import``.

A manifest starts ``running``; the store marks it ``complete`` (or ``interrupted``,
``failed``) later. Every manifest records where its numbers came from (git state and
versions) and the fingerprint of each dataset, which is what ``bench compare`` checks
before pairing two runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bench.results.provenance import git_state, versions
from bench.results.layout import SCHEMA_VERSION

if TYPE_CHECKING:
    from bench.corpus import BuiltDataset


def dataset_entry(ds: BuiltDataset, *, splits: bool = True) -> dict[str, Any]:
    """What a manifest records of one dataset (its ``splits`` too, unless ``splits`` is false)."""
    entry = {"fingerprint": ds.fingerprint, "path": str(ds.path), "task": ds.task, "labels": list(ds.labels),
             "multilabel": ds.multilabel}
    return {**entry, "splits": list(ds.splits)} if splits else entry


def new_manifest(*, run_id: str, name: str, command: Sequence[str], created: str,
                 datasets: Mapping[str, Mapping[str, Any]], seeds: Sequence[int], jobs: Mapping[str, Mapping[str, Any]],
                 evaluation: Mapping[str, Any], config_hash: str | None = None,
                 extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A ``running`` manifest; ``config_hash`` (when given) follows ``created``, ``extra`` keys come last."""
    head = {"schema_version": SCHEMA_VERSION, "run_id": run_id, "name": name, "status": "running",
            "command": list(command), "created": created}
    if config_hash is not None:
        head["config_hash"] = config_hash
    return {**head, "git": git_state(), "versions": versions(), "datasets": {k: dict(v) for k, v in datasets.items()},
            "seeds": list(seeds), "jobs": {k: dict(v) for k, v in jobs.items()}, "evaluation": dict(evaluation),
            **(extra or {})}
