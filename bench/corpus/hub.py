"""Hugging Face sources of a dataset spec: a hub dataset pinned to a revision, or a saved dataset.

Both come back as ``SourceTable``s like file sources, with ``ClassLabel`` integers turned
into their names, so that the builder treats every source alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.corpus.spec import HubSpec, LoadedSpec
from bench.corpus.table import ORIGIN_FILE, ORIGIN_ROW, SourceTable


def _from_datasets(obj: Any, origin: str) -> dict[str, SourceTable]:
    """A ``Dataset`` or ``DatasetDict`` -> tables; ``ClassLabel`` integers become their names."""
    splits = obj if isinstance(obj, Mapping) else {"train": obj}
    out: dict[str, SourceTable] = {}
    for split, dataset in splits.items():
        frame = dataset.to_pandas()
        for name, feature in dataset.features.items():
            names = getattr(feature, "names", None)
            inner = getattr(getattr(feature, "feature", None), "names", None)
            if names is not None:
                frame[name] = [names[v] if v is not None and v >= 0 else None for v in frame[name]]
            elif inner is not None:
                frame[name] = [[inner[v] for v in values] for values in frame[name]]
        frame[ORIGIN_FILE] = 0
        frame[ORIGIN_ROW] = range(1, len(frame) + 1)
        out[str(split)] = SourceTable(frame=frame, files=(f"{origin}[{split}]",))
    return out


def read_hub(loaded: LoadedSpec, hub: HubSpec) -> dict[str, SourceTable]:
    """A hub dataset at a pinned revision; offline and not cached -> one line saying how to fix it."""
    from bench.core.hf import import_datasets

    datasets = import_datasets(online=True)
    try:
        obj = datasets.load_dataset(hub.path, hub.name, revision=hub.revision)
    except (ConnectionError, OSError) as exc:
        offline = "offline" in str(exc).lower() or "couldn't reach" in str(exc).lower() \
            or isinstance(exc, ConnectionError)
        problem = (f"the Hugging Face hub is not reachable and {hub.path!r} (revision {hub.revision}) is not "
                   "cached; connect once to cache it, or download it and use source.files or source.disk"
                   if offline else f"cannot load {hub.path!r} ({exc}); check path, name and revision")
        raise loaded.doc.error(("source", "hub"), problem) from None
    except (ValueError, FileNotFoundError) as exc:
        raise loaded.doc.error(("source", "hub"), f"cannot load {hub.path!r}: {str(exc).splitlines()[0]}; "
                               "check path, name and revision") from None
    return _from_datasets(obj, f"hub:{hub.path}@{hub.revision}")


def read_disk(loaded: LoadedSpec, disk: Path) -> dict[str, SourceTable]:
    """A folder written by ``save_to_disk`` (a DatasetDict, or a Dataset read as split ``train``)."""
    from bench.core.hf import import_datasets

    folder = loaded.resolve(disk)
    if not folder.is_dir():
        raise loaded.doc.error(("source", "disk"), f"folder not found: {folder}; give a save_to_disk folder")
    datasets = import_datasets()
    try:
        obj = datasets.load_from_disk(str(folder))
    except (FileNotFoundError, ValueError) as exc:
        raise loaded.doc.error(("source", "disk"), f"{folder} is not a saved dataset ({exc}); "
                               "give a folder written by save_to_disk") from None
    return _from_datasets(obj, str(folder))
