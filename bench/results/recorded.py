"""The datasets a run was scored on, found again and checked against what its manifest recorded.

Anything that reads a dataset for a finished run (``bench rescore``, ``bench show --by``,
the slices and error analysis of ``bench report``) goes through ``open_recorded``: a
dataset rebuilt since the run (its content fingerprint differs from the manifest's) is
refused with one line, because its labels, texts or items may not be the ones the
predictions were scored against; reading it would silently relabel items.

``check_gold`` goes one step further for ``bench rescore``: with the same fingerprint, the
gold labels saved in a predictions file must be the dataset's labels of those items, so an
edited predictions file cannot change a metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import DataError, ResultsError

if TYPE_CHECKING:
    import pandas as pd

    from bench.corpus import BuiltDataset
    from bench.results.store import RunDir

__all__ = ["check_gold", "dataset_folder", "open_recorded"]


def _info(run: RunDir, dataset: str) -> Mapping[str, Any]:
    return (run.manifest.get("datasets") or {}).get(dataset) or {}


def dataset_folder(run: RunDir, dataset: str, data_root: Path | None = None) -> Path:
    """Where a run's dataset is: the manifest's path, else ``data_root/<name>``.

    Raises:
        DataError: neither exists (the dataset was moved or deleted).
    """
    info = _info(run, dataset)
    candidates = [Path(info["path"])] if info.get("path") else []
    if data_root is not None:
        candidates.append(Path(data_root) / dataset)
    for folder in candidates:
        if (folder / "stats.json").is_file():
            return folder
    tried = ", ".join(str(c) for c in candidates) or "no path in the manifest"
    raise DataError(run.path / "manifest.json", None, f"datasets.{dataset}",
                    f"built dataset not found (tried {tried}); rebuild it with `bench data build` "
                    "or pass --data DIR holding it")


def open_recorded(run: RunDir, dataset: str, data_root: Path | None = None) -> BuiltDataset:
    """The run's dataset, if its fingerprint is the one the manifest recorded.

    Raises:
        DataError: not found, or rebuilt with other content since the run.
    """
    from bench.corpus import open_dataset

    folder = dataset_folder(run, dataset, data_root)
    built = open_dataset(folder)
    recorded = str(_info(run, dataset).get("fingerprint") or "")
    if built.fingerprint != recorded:
        raise DataError(run.path / "manifest.json", None, f"datasets.{dataset}.fingerprint",
                        f"the run was scored on {recorded[:12] or 'an unrecorded version'}, {folder} now "
                        f"holds {built.fingerprint[:12]} (rebuilt since the run), whose items and labels "
                        "may differ; rebuild the recorded version or pass --data DIR holding it")
    return built


def _label_keys(values: Any) -> list[str]:
    """Labels as comparable strings (a multi-label set as its sorted names joined by ``|``)."""
    return ["|".join(sorted(map(str, v))) if not isinstance(v, str) and hasattr(v, "__iter__") else str(v)
            for v in values]


def check_gold(frame: pd.DataFrame, items: pd.DataFrame, where: Path) -> None:
    """Refuse predictions whose ids or gold labels are not the dataset's (``items``: the split).

    Raises:
        ResultsError: an id not in the split, or a gold label that differs, named with its row.
    """
    import numpy as np

    known = dict(zip(items["id"].astype(str), _label_keys(items["label"])))
    ids = frame["id"].astype(str).tolist()
    gold = _label_keys(frame["gold"])
    for row, (item, label) in enumerate(zip(ids, gold), start=1):
        expected = known.get(item)
        if expected is None:
            raise ResultsError(f"{where}: row {row}: id {item!r} is not in the dataset's split; the "
                               "predictions are not for this dataset")
        if expected != label:
            wrong = int(np.sum([known.get(i) != g for i, g in zip(ids, gold)]))
            raise ResultsError(f"{where}: row {row}: id {item!r}: gold {label!r}, the dataset says "
                               f"{expected!r} ({wrong} gold labels differ); the predictions file was "
                               "edited: restore it or rerun the job")
