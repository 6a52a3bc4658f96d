"""What a built dataset says about itself: ``stats.json`` (counts, audit, policies) and ``card.md``.

Both are computed from the slim rows (``bench.corpus.batches``), which carry each text's
length instead of the text.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.corpus.rows import CHARS, WORDS
from bench.metrics.catalog import default_headline

if TYPE_CHECKING:
    import pandas as pd

    from bench.corpus.rows import Prepared
    from bench.corpus.spec import LoadedSpec

SCHEMA_VERSION = 1


def _lengths(chars: np.ndarray, words: np.ndarray) -> dict[str, float]:
    if not len(chars):
        return {}
    return {"chars_mean": round(float(chars.mean()), 1), "chars_median": float(np.median(chars)),
            "chars_p95": float(np.percentile(chars, 95)), "chars_max": int(chars.max()),
            "words_mean": round(float(words.mean()), 1)}


def split_stats(frame: pd.DataFrame, labels: tuple[str, ...], multilabel: bool) -> dict[str, Any]:
    """Rows, label counts (in label order), text lengths, languages, and targets of one split."""
    counts = dict.fromkeys(labels, 0)
    for value in frame["label"].tolist():
        for label in (value if multilabel else (value,)):
            counts[label] += 1
    out: dict[str, Any] = {"n_rows": len(frame), "label_counts": counts,
                           "text": _lengths(frame[CHARS].to_numpy(), frame[WORDS].to_numpy())}
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
        "headline_metric": spec.headline_metric or default_headline(
            task=spec.task, multilabel=spec.multilabel, labels=prepared.labels),
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
