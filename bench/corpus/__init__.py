"""Labeled news -> checked, split, fingerprinted datasets on disk (``data/<name>/``).

``ensure_built(spec)`` builds a dataset spec (``bench.corpus.spec``) unless an up-to-date
build exists; ``open_dataset`` finds a built one by name or folder and ``load_split`` reads
a split as a DataFrame with string labels. A build is up to date when its spec hash and
the size and modification time of every source file are unchanged, and its split files are
those it wrote. Every open checks the split files against ``stats.json``
(``bench.corpus.verify``), so that a fingerprint is never handed out for other content.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from bench.corpus.spec import LoadedSpec

__all__ = ["BuildResult", "BuiltDataset", "build_dataset", "ensure_built", "load_split", "open_dataset"]

DEFAULT_ROOT = Path("data")


@dataclass(frozen=True, kw_only=True)
class BuiltDataset:
    """A dataset folder written by ``bench data build``."""

    name: str
    path: Path
    task: str
    multilabel: bool
    labels: tuple[str, ...]
    fingerprint: str
    splits: tuple[str, ...]
    language: str | None

    def stats(self) -> dict[str, Any]:
        """The folder's ``stats.json``."""
        return _read_stats(self.path)


@dataclass(frozen=True, kw_only=True)
class BuildResult:
    """What ``build_dataset`` did: the dataset, whether an existing build was reused, and the time."""

    dataset: BuiltDataset
    reused: bool
    seconds: float
    n_rows: int


def _read_stats(folder: Path) -> dict[str, Any]:
    path = folder / "stats.json"
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(folder, None, "", "is not a built dataset (no stats.json); "
                        "build it with `bench data build SPEC.yaml`") from None
    except json.JSONDecodeError as exc:
        raise DataError(path, exc.lineno, "", f"invalid JSON ({exc.msg}); rebuild with --force") from None
    if not isinstance(stats, dict):
        raise DataError(path, None, "", "expected a JSON object; the dataset is damaged: rebuild it with --force")
    if stats.get("schema_version") != 1:
        raise DataError(path, None, "schema_version", f"expected 1, got {stats.get('schema_version')!r}; "
                        "rebuild the dataset with this version of newsbench")
    return stats


def _from_stats(folder: Path, stats: dict[str, Any]) -> BuiltDataset:
    return BuiltDataset(name=stats["name"], path=folder, task=stats["task"], multilabel=bool(stats["multilabel"]),
                        labels=tuple(stats["labels"]), fingerprint=stats["fingerprint"],
                        splits=tuple(stats["splits"]), language=stats.get("language"))


def open_dataset(name_or_dir: str | Path, data_root: Path = DEFAULT_ROOT, *, verify: bool = False) -> BuiltDataset:
    """A built dataset by folder path or by name under ``data_root``; ``DataError`` if absent.

    The split files are checked against ``stats.json`` (sizes and times; the content when
    they differ, or always with ``verify``): ``DataError`` when the content is not the one
    the fingerprint names (``bench.corpus.verify``).
    """
    from bench.corpus.verify import verify_dataset

    given = Path(name_or_dir)
    if given.is_dir() and (given / "stats.json").is_file():
        folder = given
    else:
        name = str(name_or_dir)
        if "/" in name or "\\" in name or ".." in name or not name:
            raise DataError(given, None, "", "no built dataset in this folder; build it with "
                            "`bench data build SPEC.yaml` or give a dataset name")
        folder = Path(data_root) / name
        if not (folder / "stats.json").is_file():
            raise DataError(folder, None, "", f"no built dataset {name!r} here; build it with "
                            f"`bench data build configs/datasets/{name}.yaml` (or pass --data DIR)")
    return _from_stats(folder, verify_dataset(folder, _read_stats(folder), full=verify))


def load_split(ds: BuiltDataset, split: str) -> pd.DataFrame:
    """One split as a DataFrame: ``id``, ``text``, ``label`` (str, or list[str] if multi-label), + str fields."""
    import pyarrow as pa

    if split not in ds.splits:
        raise DataError(ds.path, None, "split", f"no split {split!r} in {ds.name}; splits are "
                        f"{', '.join(ds.splits)}")
    folder = ds.path / split
    files = sorted(folder.glob("data-*.arrow"))
    if not files:
        raise DataError(folder, None, "", "the split has no data files; rebuild with --force")
    tables = []
    for file in files:
        try:
            with pa.memory_map(str(file)) as source:
                tables.append(pa.ipc.open_stream(source).read_all())
        except (pa.ArrowInvalid, OSError) as exc:  # truncated or overwritten after the build
            raise DataError(file, None, "", f"not a readable Arrow file ({' '.join(str(exc).split())[:100]}); "
                            f"the dataset is damaged: rebuild it with `bench data build SPEC.yaml --force`") from None
    frame = pa.concat_tables(tables).to_pandas()
    names = list(ds.labels)
    if ds.multilabel:
        frame["label"] = [[names[i] for i in row] for row in frame["label"]]
    else:
        frame["label"] = [names[i] for i in frame["label"]]
    return frame


def _stamps(paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        st = path.stat() if path.exists() else None
        out.append({"path": str(path.resolve()) if st else str(path), "size": st.st_size if st else -1,
                    "mtime_ns": st.st_mtime_ns if st else -1})
    return out


def build_dataset(spec_path: str | Path, data_root: Path = DEFAULT_ROOT, *, force: bool = False,
                  workers: int | None = None, verify: bool = False) -> BuildResult:
    """Build ``data_root/<name>/`` from a spec unless it is up to date (or ``force``).

    ``workers``: processes that prepare the batches of a large source (default: up to 2 CPUs).
    ``verify``: hash the split files of an existing build even when their sizes and times
    match. An existing build whose split files changed is rebuilt, with a warning on stderr.
    """
    from bench.corpus.buildlock import build_lock
    from bench.corpus.spec import load_spec

    start = time.perf_counter()
    loaded = load_spec(spec_path)
    folder = Path(data_root) / loaded.spec.name
    with build_lock(folder):  # builds of one dataset wait for each other, then reuse (bench.corpus.buildlock)
        return _build_locked(loaded, folder, force=force, workers=workers, verify=verify, start=start)


def _build_locked(loaded: LoadedSpec, folder: Path, *, force: bool, workers: int | None, verify: bool,
                  start: float) -> BuildResult:
    from bench.corpus.sources import source_paths

    if folder.exists() and not (folder / "stats.json").is_file():
        raise DataError(folder, None, "", "exists and is not a newsbench dataset; move it away or set "
                        "another name in the spec")
    stamps = _stamps(source_paths(loaded))
    if not force and folder.exists():
        try:
            stats = _read_stats(folder)
        except DataError:
            stats = {}
        if stats.get("spec_hash") == loaded.spec_hash and stats.get("build", {}).get("sources") == stamps:
            stats = _verified_or_empty(folder, stats, verify)
            if stats:
                ds = _from_stats(folder, stats)
                n_rows = sum(s["n_rows"] for s in stats["splits"].values())
                return BuildResult(dataset=ds, reused=True, seconds=time.perf_counter() - start, n_rows=n_rows)
    n_rows, stats = _build(loaded, folder, stamps, workers)
    return BuildResult(dataset=_from_stats(folder, stats), reused=False, seconds=time.perf_counter() - start,
                       n_rows=n_rows)


def _verified_or_empty(folder: Path, stats: dict[str, Any], full: bool) -> dict[str, Any]:
    """``stats`` of a build whose split files hold its fingerprint's content, else ``{}`` (rebuild it)."""
    import sys

    from bench.corpus.verify import verify_dataset

    try:
        return verify_dataset(folder, stats, full=full)
    except DataError as exc:
        problem = str(exc).split("; rebuild with")[0]
        print(f"bench: warning: {problem}; rebuilding it", file=sys.stderr, flush=True)
        return {}


def _build(loaded: LoadedSpec, folder: Path, stamps: list[dict[str, Any]],
           workers: int | None) -> tuple[int, dict[str, Any]]:
    """Prepare the rows into a scratch folder beside the dataset, write the dataset, drop the scratch."""
    import shutil
    import uuid

    from bench.corpus.build import make_dataset
    from bench.corpus.card import build_stats, render_card
    from bench.corpus.verify import VERIFICATION
    from bench.corpus.writer import prepared_hashes, write_dataset, write_splits

    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_scratch(folder)
    work = folder.with_name(f".{folder.name}.build-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        (work / "spill").mkdir(parents=True)
        prepared = make_dataset(loaded, work / "spill", workers)
        files = write_splits(prepared, work / "splits", loaded.spec.multilabel)
        shutil.rmtree(work / "spill")  # the split files hold every kept row: free the disk before saving
        digest, per_split = prepared_hashes(prepared)
        stats = {**build_stats(loaded, prepared, digest, stamps), VERIFICATION: {"splits": per_split}}
        n_rows, labels = sum(len(f) for f in prepared.splits.values()), prepared.labels
        del prepared  # the slim rows: the rest reads the split files
        write_dataset(folder, files, labels, stats, render_card(stats))
        return n_rows, stats
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _remove_stale_scratch(folder: Path) -> None:
    """Scratch folders of builds of this dataset whose process is gone (killed mid-build)."""
    import shutil

    for old in folder.parent.glob(f".{folder.name}.build-*"):
        pid = old.name.removeprefix(f".{folder.name}.build-").split("-")[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def ensure_built(spec_path: Path, data_root: Path = DEFAULT_ROOT, *, verify: bool = False) -> BuiltDataset:
    """The built dataset of a spec, building it if missing or if the spec, a source file or a
    split file changed (``verify``: see ``build_dataset``)."""
    return build_dataset(spec_path, data_root, verify=verify).dataset
