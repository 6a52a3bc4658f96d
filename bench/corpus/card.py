"""Write a built dataset: the DatasetDict, ``stats.json``, ``card.md``, atomically.

The folder is written under a hidden temporary name next to its destination and renamed
when complete, so ``data/<name>/`` is either the previous build or the new one, never half
of one. The fingerprint is a sha256 over the sorted ``(split, id, text, label, target)``
rows plus the ordered label list: it changes when any text or label changes, and not when
rows are only reordered or the build is repeated.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from bench.corpus.build import Prepared
    from bench.corpus.spec import LoadedSpec

SCHEMA_VERSION = 1
FIELDS = ("id", "text", "label", "target", "title", "source", "date", "language", "group")


def fingerprint(splits: dict[str, pd.DataFrame], labels: tuple[str, ...]) -> str:
    """sha256 hex of the content: sorted (split, id, text, label, target) rows and the label order."""
    digest = hashlib.sha256()
    digest.update(json.dumps(list(labels)).encode("utf-8"))
    for split in sorted(splits):
        frame = splits[split]
        ids = frame["id"].tolist()
        texts = frame["text"].tolist()
        gold = ["\x1d".join(v) if isinstance(v, list) else v for v in frame["label"].tolist()]
        targets = frame["target"].tolist() if "target" in frame.columns else [""] * len(ids)
        for i in sorted(range(len(ids)), key=ids.__getitem__):
            digest.update("\x1f".join((split, ids[i], texts[i], gold[i], targets[i])).encode("utf-8"))
            digest.update(b"\x1e")
    return digest.hexdigest()


def _lengths(texts: list[str]) -> dict[str, float]:
    if not texts:
        return {}
    chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    # Cleaned text has exactly one space or newline between words.
    words = np.fromiter((t.count(" ") + t.count("\n") + 1 if t else 0 for t in texts), dtype=np.int64,
                        count=len(texts))
    return {"chars_mean": round(float(chars.mean()), 1), "chars_median": float(np.median(chars)),
            "chars_p95": float(np.percentile(chars, 95)), "chars_max": int(chars.max()),
            "words_mean": round(float(words.mean()), 1)}


def split_stats(frame: pd.DataFrame, labels: tuple[str, ...], multilabel: bool) -> dict[str, Any]:
    """Rows, label counts (in label order), text lengths, languages, and targets of one split."""
    counts = dict.fromkeys(labels, 0)
    for value in frame["label"].tolist():
        for label in (value if multilabel else (value,)):
            counts[label] += 1
    out: dict[str, Any] = {"n_rows": len(frame), "label_counts": counts, "text": _lengths(frame["text"].tolist())}
    if "language" in frame.columns:
        out["languages"] = dict(frame["language"].value_counts().sort_index().items())
        out["languages"] = {str(k): int(v) for k, v in out["languages"].items()}
    if "target" in frame.columns:
        out["n_targets"] = int(frame["target"].nunique())
    if "group" in frame.columns:
        out["n_groups"] = int(frame["group"].nunique())
    return out


def dataset_language(splits: dict[str, pd.DataFrame]) -> str | None:
    """The one language code of every row, or None when languages are mixed or unknown."""
    found: set[str] = set()
    for frame in splits.values():
        if "language" not in frame.columns:
            return None
        found.update(frame["language"].unique().tolist())
    return found.pop() if len(found) == 1 else None


def build_stats(loaded: LoadedSpec, prepared: Prepared, digest: str, stamps: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``stats.json`` document."""
    spec = loaded.spec
    return {
        "schema_version": SCHEMA_VERSION, "name": spec.name, "task": spec.task, "multilabel": spec.multilabel,
        "labels": list(prepared.labels), "fingerprint": digest, "spec_hash": loaded.spec_hash,
        "language": dataset_language(prepared.splits),
        "splits": {s: split_stats(f, prepared.labels, spec.multilabel) for s, f in prepared.splits.items()},
        "audit": asdict(prepared.audit),
        "policies": {k: getattr(spec, k) for k in ("on_empty", "on_unknown_label", "on_duplicate",
                                                     "on_overlap", "on_near_overlap")},
        "build": {"spec_path": str(loaded.path.resolve()), "sources": stamps},
        "description": spec.description, "license": spec.license, "citation": spec.citation,
    }


def _language_mix(splits: dict[str, Any]) -> str:
    """``fr 50%, en 50%`` over every split, or ``unknown`` without a language column."""
    counts: dict[str, int] = {}
    for split in splits.values():
        for lang, n in split.get("languages", {}).items():
            counts[lang] = counts.get(lang, 0) + n
    total = sum(counts.values())
    if not total:
        return "unknown"
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return "mixed: " + ", ".join(f"{lang} {n / total:.0%}" for lang, n in ranked)


def _display_path(path: str) -> str:
    """A source path relative to the current folder when it is below it (cards travel)."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path


def _source_lines(sources: list[dict[str, Any]], max_listed: int = 10) -> list[str]:
    """One line per source file, or per folder when a folder holds many (article collections)."""
    if len(sources) <= max_listed:
        return [f"- `{_display_path(s['path'])}` ({s['size']:,} bytes)" for s in sources]
    folders: dict[str, list[int]] = {}
    for s in sources:
        folders.setdefault(_display_path(str(Path(s["path"]).parent)), []).append(s["size"])
    return [f"- `{folder}/`: {len(sizes):,} files, {sum(sizes):,} bytes" for folder, sizes in folders.items()]


def render_card(stats: dict[str, Any]) -> str:
    """``card.md``: what, where from, labels per split, how it was split, what the checks found."""
    audit = stats["audit"]
    lines = [f"# {stats['name']}", "", stats["description"] or f"A {stats['task']} dataset built by newsbench.", "",
             f"- task: {stats['task']}{' (multi-label)' if stats['multilabel'] else ''}",
             f"- language: {stats['language'] or _language_mix(stats['splits'])}",
             f"- labels: {', '.join(stats['labels'])}",
             f"- fingerprint: `{stats['fingerprint']}`",
             f"- license: {stats['license'] or 'not stated in the spec; check the source'}"]
    if stats["citation"]:
        lines.append(f"- cite: {stats['citation']}")
    lines += ["", "## Source", ""]
    lines += _source_lines(stats["build"]["sources"]) or ["- (hub)"]
    lines += ["", "## Rows and labels per split", "",
              "| split | rows | " + " | ".join(stats["labels"]) + " |",
              "|---|---:|" + "---:|" * len(stats["labels"])]
    for split, s in stats["splits"].items():
        lines.append(f"| {split} | {s['n_rows']:,} | "
                     + " | ".join(f"{s['label_counts'][lab]:,}" for lab in stats["labels"]) + " |")
    lines += ["", "## How it was split", ""]
    if audit["splits_made"]:
        for split, made in audit["splits_made"].items():
            detail = ", ".join(f"{k}: {v}" for k, v in made.items() if k not in ("from", "n_rows"))
            lines.append(f"- `{split}`: {made['n_rows']:,} rows taken from `{made['from']}` ({detail})")
    else:
        lines.append("- the source's own splits")
    lines += ["", "## What the checks found", ""]
    pol = stats["policies"]
    lines.append(f"- rows removed by the `where` filter: {audit['filtered_out']:,}")
    lines.append(f"- empty texts: {_per_split(audit['empty'])} (policy {pol['on_empty']})")
    lines.append(f"- unknown labels: {_per_split(audit['unknown_labels'])} (policy {pol['on_unknown_label']})")
    lines.append(f"- exact duplicates within a split: {_per_split(audit['duplicates'])} "
                 f"(policy {pol['on_duplicate']}); with conflicting labels: "
                 f"{_per_split(audit['conflicting_duplicates'])}")
    for split, found in audit["overlap"].items():
        lines.append(f"- `{split}` texts also in train: {found['exact']:,} exact (policy {pol['on_overlap']}), "
                     f"{found['near']:,} near-duplicates (policy {pol['on_near_overlap']})")
    near = audit["near_duplicates"]
    if near:
        lines.append(f"- near-duplicate pairs (MinHash, Jaccard >= {near['threshold']}): {near['pairs']:,}; "
                     f"rows with a near copy in their split: {_per_split(near['rows_with_near_copy'])}")
    lines.append(f"- rows dropped by policy: {_per_split(audit['dropped'])}")
    return "\n".join(lines) + "\n"


def _per_split(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items()) if any(counts.values()) else "none"


def to_datasetdict(prepared: Prepared, multilabel: bool, digest: str) -> Any:
    """The rows as a ``datasets.DatasetDict`` with ``ClassLabel`` labels and str fields."""
    import pyarrow as pa

    from bench.hf import import_datasets

    datasets = import_datasets()
    class_label = datasets.ClassLabel(names=list(prepared.labels))
    index = {label: i for i, label in enumerate(prepared.labels)}
    out = {}
    for split, frame in prepared.splits.items():
        present = [f for f in FIELDS if f in frame.columns]
        features = datasets.Features({f: (datasets.Sequence(class_label) if multilabel else class_label)
                                      if f == "label" else datasets.Value("string") for f in present})
        arrays = {}
        for name in present:
            values = frame[name].tolist()
            if name == "label":
                codes = [[index[v] for v in row] for row in values] if multilabel else [index[v] for v in values]
                arrays[name] = pa.array(codes, type=pa.list_(pa.int64()) if multilabel else pa.int64())
            else:
                arrays[name] = pa.array([str(v) for v in values], type=pa.string())
        # Our own content fingerprint spares datasets from hashing the whole table.
        out[split] = datasets.Dataset(pa.table(arrays), info=datasets.DatasetInfo(features=features),
                                      fingerprint=f"{digest[:16]}-{split}")
    return datasets.DatasetDict(out)


def write_dataset(target: Path, prepared: Prepared, stats: dict[str, Any], multilabel: bool) -> None:
    """Write ``target`` (DatasetDict + stats.json + card.md) via a temporary folder and a rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        to_datasetdict(prepared, multilabel, stats["fingerprint"]).save_to_disk(str(tmp))
        (tmp / "stats.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / "card.md").write_text(render_card(stats), encoding="utf-8")
        replace_folder(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def replace_folder(tmp: Path, target: Path) -> None:
    """Put the complete folder ``tmp`` at ``target``, moving any previous build aside first."""
    old = None
    if target.exists():
        if not (target / "stats.json").is_file():
            raise DataError(target, None, "", "exists and is not a newsbench dataset; move it away or "
                            "choose another name")
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        if old is not None and not target.exists():
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
