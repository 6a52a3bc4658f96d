"""Is a built dataset still the content its fingerprint names? Checked at every open.

A run records the dataset fingerprint from ``stats.json``; if the split files changed after
the build (edited, replaced, restored from another build), the run would record a fingerprint
of data it did not use. So ``stats.json`` keeps, in its ``verification`` block, the size and
modification time (ns) of every split data file and each split's content hash, and every open
compares the sizes and times (cheap). When they differ, or when asked (``bench run --verify``),
the content is hashed again exactly as the build hashed it (``bench.corpus.writer.content_hashes``
over ``bench.corpus.batches.row_digests``): a different hash is a ``DataError`` naming the
dataset, the split file and the rebuild command; the same hash (e.g. a copied folder, new
times) records the new stamps. A dataset built before this check (no ``verification``) is
hashed at its first open, then stamped the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.core.errors import DataError
from bench.corpus.writer import VERIFICATION, file_stamps, split_files

__all__ = ["VERIFICATION", "content_hashes_on_disk", "file_stamps", "rebuild_command", "verify_dataset"]

def content_hashes_on_disk(folder: Path, stats: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The fingerprint and per-split hashes of the rows in the split files, as the build computed them."""
    import numpy as np
    import pyarrow as pa

    from bench.corpus.batches import row_digests
    from bench.corpus.writer import content_hashes

    labels, multilabel = list(stats["labels"]), bool(stats["multilabel"])
    parts = {}
    for split in stats["splits"]:
        tables = []
        for path in split_files(folder, split):
            try:
                with pa.memory_map(str(path)) as source:
                    tables.append(pa.ipc.open_stream(source).read_all())
            except (OSError, pa.ArrowInvalid) as exc:
                raise DataError(path, None, "", f"unreadable split file ({exc}); rebuild with "
                                f"{rebuild_command(stats)}") from None
        if not tables:
            parts[split] = ([], np.zeros((0, 32), dtype=np.uint8))
            continue
        columns = [c for c in ("id", "text", "label", "target") if c in tables[0].column_names]
        frame = pa.concat_tables([t.select(columns) for t in tables]).to_pandas()
        codes = frame["label"].tolist()
        frame["label"] = ([[labels[i] for i in row] for row in codes] if multilabel
                          else [labels[i] for i in codes])
        parts[split] = (frame["id"].tolist(), row_digests(frame, multilabel))
    return content_hashes(labels, parts)


def rebuild_command(stats: dict[str, Any]) -> str:
    """```bench data build SPEC --force``` with the spec the dataset was built from."""
    spec = (stats.get("build") or {}).get("spec_path") or "SPEC.yaml"
    try:
        spec = Path(spec).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        pass
    return f"`bench data build {spec} --force`"


def _changed_file(folder: Path, recorded: dict[str, Any], now: dict[str, Any]) -> Path:
    """The first split file whose stamp differs (or the folder when only the set of splits differs)."""
    for split in sorted(set(recorded) | set(now)):
        old = {s["name"]: s for s in recorded.get(split, [])}
        new = {s["name"]: s for s in now.get(split, [])}
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                return Path(folder) / split / name
    return Path(folder)


def verify_dataset(folder: Path, stats: dict[str, Any], *, full: bool = False) -> dict[str, Any]:
    """Check ``folder``'s split files against ``stats``; return ``stats`` (with fresh stamps if re-verified).

    Args:
        folder: the built dataset.
        stats: its ``stats.json``.
        full: hash the content even when sizes and times match (``bench run --verify``).

    Raises:
        DataError: the content is not the one the fingerprint names.
    """
    block = stats.get(VERIFICATION) or {}
    now = file_stamps(folder, list(stats["splits"]))
    recorded = block.get("files")
    if recorded == now and not full:
        return stats
    fingerprint, per_split = content_hashes_on_disk(folder, stats)
    if fingerprint != stats["fingerprint"]:
        old_splits = block.get("splits") or {}
        changed = [s for s in sorted(per_split) if old_splits.get(s) not in (None, per_split[s])]
        where = _changed_file(folder, recorded, now) if recorded else Path(folder)
        if changed and where.parent.name != changed[0]:  # name a file of the split whose content changed
            where = (split_files(folder, changed[0]) or [Path(folder) / changed[0]])[0]
        raise DataError(where, None, "fingerprint", f"dataset {stats['name']!r}: the split files no longer hold "
                        f"the content of fingerprint {stats['fingerprint'][:12]} (they hash to {fingerprint[:12]}); "
                        f"rebuild with {rebuild_command(stats)}")
    if recorded == now and block.get("splits") == per_split:
        return stats
    updated = {**stats, VERIFICATION: {**block, "splits": per_split, "files": now}}
    _record(folder, stats, updated)
    return updated


def _record(folder: Path, verified: dict[str, Any], updated: dict[str, Any]) -> None:
    """Rewrite ``stats.json`` with the verified stamps, unless the folder changed meanwhile (a
    rebuild); a read-only dataset is simply verified again at its next open."""
    from bench.core.files import write_text

    path = Path(folder) / "stats.json"
    try:
        if json.loads(path.read_text(encoding="utf-8")) != verified or \
                file_stamps(folder, list(verified["splits"])) != updated[VERIFICATION]["files"]:
            return
        write_text(path, json.dumps(updated, indent=2, ensure_ascii=False) + "\n")
    except (OSError, ValueError):
        pass
