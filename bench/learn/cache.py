"""On-disk cache of fitted feature matrices, so that adding a model never refits features.

A cache entry is one block fitted on one train/test split: ``<root>/<key>.npz`` holding the
two CSR matrices. The key is a sha256 of its *key material*: the format version, the
scikit-learn, numpy and scipy versions, the dataset fingerprint, a hash of the train and
test row ids, and what defines the block's output (kind, params, interaction; for a union
its members, resolved): not the block's name, so renaming a block reuses its matrices.

An entry carries its key material inside the file and is checked against it on load, so
the file name is never trusted alone: an entry copied, renamed or swapped under another
key is a cache miss with one warning line on stderr, and the block is fitted again and the
entry rewritten (docs/reliability.md).

Entries are written whole (``bench.core.files``), so a reader never sees half a file. A per-key lock file (``fcntl.flock``) makes a second process that
wants the same block wait for the first instead of fitting it again; where ``fcntl`` does
not exist (Windows) both fit and the last rename wins, with identical content.

This module wraps the fitting (``load_or_fit_features``) rather than the fitting calling
the cache: ``bench.learn.features`` stays a pure "spec and rows -> matrices" module, usable
without a cache, and the dependency runs one way, cache -> features.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.files import write_atomic
from bench.learn.feature_types import FeatureMatrices
from bench.learn.features import fit_features

if TYPE_CHECKING:
    import pandas as pd

    from bench.config.spec import FeatureSpec

FORMAT_VERSION = 2  # bump when the matrices (or the file layout) for the same key would change
VERSIONED = ("scikit-learn", "numpy", "scipy")  # libraries whose versions can change a fitted matrix
_KEY = re.compile(r"^[0-9a-f]{16,64}$")


def split_hash(train_ids: Sequence[str], test_ids: Sequence[str]) -> str:
    """A hash of the ordered train and test row ids (a split or a CV fold)."""
    digest = hashlib.sha256()
    for part in ("train", *map(str, train_ids), "\x00test", *map(str, test_ids)):
        digest.update(part.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _identity(spec: FeatureSpec, blocks: Mapping[str, FeatureSpec]) -> dict[str, Any]:
    if spec.kind == "union":
        return {"kind": "union", "of": [_identity(blocks[name], blocks) for name in spec.of]}
    identity = {"kind": spec.kind, "params": spec.params, "interaction": spec.interaction}
    code = _code_identity(spec.kind)
    return {**identity, "code": code} if code else identity


def _code_identity(kind: str) -> str | None:
    """For a kind outside newsbench, what changes when its code does, so a cached matrix is never stale.

    A plugin kind: its package and version. A custom kind by import path: the sha256 of its
    module's source file (edits to it refit the block).
    """
    from bench.learn.features import FEATURES

    if "." not in kind:
        return FEATURES.origins.get(kind) if kind in FEATURES else None
    import importlib.util

    try:
        spec = importlib.util.find_spec(kind.rpartition(".")[0])
    except (ImportError, ValueError):
        spec = None
    origin = spec.origin if spec else None
    if not origin or not Path(origin).is_file():
        return None
    return hashlib.sha256(Path(origin).read_bytes()).hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def key_material(fingerprint: str, train_ids_hash: str, spec: FeatureSpec, blocks: Mapping[str, FeatureSpec]) -> str:
    """What defines a block fitted on one split of one dataset, as canonical JSON (see ``feature_key``)."""
    payload = {"format": FORMAT_VERSION, "versions": {dist: _version(dist) for dist in VERSIONED},
               "data": fingerprint, "split": train_ids_hash, "block": _identity(spec, blocks)}
    return json.dumps(payload, sort_keys=True, default=list, separators=(",", ":"))


def feature_key(fingerprint: str, train_ids_hash: str, spec: FeatureSpec, blocks: Mapping[str, FeatureSpec]) -> str:
    """The cache key of a block fitted on one split of one dataset: the sha256 of its ``key_material``.

    Args:
        fingerprint: the dataset's content fingerprint.
        train_ids_hash: ``split_hash`` of the train and test ids (split or fold).
        spec: the block.
        blocks: every block by name (to resolve union members).
    """
    return key_of(key_material(fingerprint, train_ids_hash, spec, blocks))


def key_of(material: str) -> str:
    """The cache key (sha256 hex) of a key material."""
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _differences(stored: str, wanted: str) -> str:
    """Which parts of two key materials differ, e.g. ``data, split``."""
    try:
        old, new = json.loads(stored), json.loads(wanted)
    except ValueError:
        return "key"
    if not isinstance(old, dict) or not isinstance(new, dict):
        return "key"
    return ", ".join(k for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)) or "key"


class FeatureCache:
    """Fitted feature matrices on disk, plus the last few in memory.

    Args:
        root: the cache folder (created when first written).
        memory_items: how many recently used entries to keep in memory, so that the
            models that share a block in a row do not each re-read it.

    Attributes:
        hits, misses: lookups served from the cache, and fits, in this process.
    """

    def __init__(self, root: Path, *, memory_items: int = 2) -> None:
        self.root = Path(root)
        self.memory_items = memory_items
        self.hits = 0
        self.misses = 0
        self._memory: dict[str, FeatureMatrices] = {}

    def path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise ValueError(f"feature cache key must be lowercase hex, got {key!r}")
        return self.root / f"{key}.npz"

    def get_or_fit(self, key: str, fit: Callable[[], FeatureMatrices], material: str | None = None) -> FeatureMatrices:
        """The matrices for ``key``: from memory, from disk, or from ``fit()`` (then stored).

        ``material``: the key material (``key_material``) that the entry stores and is checked
        against on load; by default the key itself.
        """
        material = key if material is None else material
        if key_of(material) != key and material != key:
            raise ValueError(f"feature cache key {key} is not the sha256 of its key material")
        if key in self._memory:
            self.hits += 1
            return self._remember(key, self._memory.pop(key))
        path = self.path(key)
        found = self._read(path, material)
        if found is None:
            with self._lock(key):
                found = self._read(path, material, warn=False)
                if found is None:
                    self.misses += 1
                    return self._remember(key, self._write(path, fit(), material))
        self.hits += 1
        return self._remember(key, found)

    def _remember(self, key: str, matrices: FeatureMatrices) -> FeatureMatrices:
        if self.memory_items > 0:
            self._memory[key] = matrices
            while len(self._memory) > self.memory_items:
                del self._memory[next(iter(self._memory))]
        return matrices

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # no advisory locks: concurrent fits are wasted work, never wrong
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / f"{key}.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self, path: Path, material: str, *, warn: bool = True) -> FeatureMatrices | None:
        import numpy as np
        from scipy import sparse

        if not path.exists():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                stored = str(z["key"]) if "key" in z.files else ""
                if stored != material:
                    # A file under another entry's name (copied, renamed, swapped) must never serve its matrices.
                    if warn:
                        what = (f"its key differs in {_differences(stored, material)}" if stored
                                else "it carries no key material")
                        print(f"bench: warning: feature cache entry {path} is not the entry its name says ({what}); "
                              "fitting the block again", file=sys.stderr, flush=True)
                    return None
                mats = []
                for part in ("train", "test"):
                    X = sparse.csr_matrix((z[f"{part}_data"], z[f"{part}_indices"], z[f"{part}_indptr"]),
                                          shape=tuple(int(n) for n in z[f"{part}_shape"]))
                    X.has_sorted_indices = True  # written sorted
                    mats.append(X)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            # The entry is derived data: refitting gives the same matrices, so no number changes.
            warnings.warn(f"feature cache entry {path} is unreadable ({exc}); fitting the block again",
                          stacklevel=3)
            return None
        return FeatureMatrices(X_train=mats[0], X_test=mats[1], n_features=mats[0].shape[1],
                               fit_seconds=0.0, from_cache=True)

    def _write(self, path: Path, matrices: FeatureMatrices, material: str) -> FeatureMatrices:
        import numpy as np

        self.root.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {"key": np.asarray(material)}
        for part, X in (("train", matrices.X_train), ("test", matrices.X_test)):
            X.sort_indices()
            arrays.update({f"{part}_data": X.data, f"{part}_indices": X.indices, f"{part}_indptr": X.indptr,
                           f"{part}_shape": np.asarray(X.shape, dtype=np.int64)})
        write_atomic(path, lambda handle: np.savez(handle, **arrays))
        return matrices


def load_or_fit_features(cache: FeatureCache | None, spec: FeatureSpec, blocks: Mapping[str, FeatureSpec],
                         train: pd.DataFrame, test: pd.DataFrame, *, stance: bool, seed: int,
                         fingerprint: str, train_ids_hash: str) -> FeatureMatrices:
    """``fit_features`` through the cache, union members included (each cached on its own).

    Args:
        cache: the cache, or ``None`` to always fit.
        fingerprint, train_ids_hash: see ``feature_key``.
        Others: see ``bench.learn.features.fit_features``.
    """
    def get(block: FeatureSpec) -> FeatureMatrices:
        def fit() -> FeatureMatrices:
            return fit_features(block, blocks, train, test, stance=stance, seed=seed, member=get)

        if cache is None:
            return fit()
        material = key_material(fingerprint, train_ids_hash, block, blocks)
        return cache.get_or_fit(key_of(material), fit, material)

    return get(spec)
