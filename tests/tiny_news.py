"""Tiny labeled news datasets written into a test's tmp_path (CSV + spec), for runner and CLI tests.

Texts mix class words with shared words, so that a linear model learns something and a
majority baseline does not; rows come from a seeded generator, so files are identical
across runs.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

TOPIC_WORDS = {
    "business": "market shares profit bank trade investors quarterly earnings merger",
    "sport": "match goal team player league coach season final striker",
    "tech": "software chip phone internet data startup cloud processor app",
}
STANCE_WORDS = {
    "FAVOR": "support welcome praise endorse benefit agree backing approve",
    "AGAINST": "oppose reject condemn criticise harm protest refuse denounce",
    "NONE": "report meeting schedule announced statement weather traffic held",
}
SHARED = "the a of and in today said officials city week new".split()


def _rows(words: dict[str, str], n: int, start: int, rng: np.random.Generator, targets: tuple[str, ...] = ()) -> list[dict]:
    labels = list(words)
    every = sorted({w for ws in words.values() for w in ws.split()})
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        own = words[label].split()
        # 25% own-class words, 25% any class (noise), 50% shared: learnable, not trivial
        pools = rng.choice(3, size=14, p=[0.25, 0.25, 0.5])
        text = " ".join(str(rng.choice((own, every, SHARED)[k])) for k in pools)
        row = {"id": f"d{start + i}", "text": f"{text} {i}", "label": label, "group": f"g{(start + i) // 3}"}
        if targets:
            row["target"] = targets[i % len(targets)]
        rows.append(row)
    return rows


def _write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_csv_dataset(folder: Path, name: str, splits: dict[str, list[dict]], spec_body: str) -> Path:
    """``<split>.csv`` for each split and the spec ``<name>.yaml`` (name + ``spec_body`` + the
    files); returns the spec path."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        _write(folder / f"{split}.csv", rows)
    files = ", ".join(f"{split}: {split}.csv" for split in splits)
    spec = folder / f"{name}.yaml"
    spec.write_text(f"name: {name}\n{spec_body}source:\n  files: {{{files}}}\n", encoding="utf-8")
    return spec


def write_topic(folder: Path, *, n_train: int = 30, n_test: int = 15, name: str = "tiny_topic",
                group: bool = True) -> Path:
    """A 3-class topic dataset (train/test CSV) and its spec; returns the spec path."""
    rng = np.random.default_rng(7)
    splits = {"train": _rows(TOPIC_WORDS, n_train, 0, rng), "test": _rows(TOPIC_WORDS, n_test, 1000, rng)}
    return write_csv_dataset(folder, name, splits, f"""task: topic
language: en
columns: {{id: id, text: text, label: label{", group: group" if group else ""}}}
labels: [business, sport, tech]
""")


def write_stance(folder: Path, *, n_train: int = 30, n_test: int = 15, name: str = "tiny_stance") -> Path:
    """A SemEval-like stance dataset (FAVOR/AGAINST/NONE, two targets) and its spec."""
    rng = np.random.default_rng(11)
    targets = ("climate policy", "nuclear energy")
    splits = {"train": _rows(STANCE_WORDS, n_train, 0, rng, targets),
              "test": _rows(STANCE_WORDS, n_test, 1000, rng, targets)}
    return write_csv_dataset(folder, name, splits, """task: stance
language: en
columns: {id: id, text: text, target: target, label: label, group: group}
labels: [AGAINST, FAVOR, NONE]
""")


def write_multilabel(folder: Path, *, name: str = "tiny_multi") -> Path:
    """A multi-label topic dataset: each text has one or two of three topics ("a|b" cells)."""
    rng = np.random.default_rng(5)
    topics = list(TOPIC_WORDS)
    splits = {}
    for split, n, start in (("train", 30, 0), ("test", 15, 1000)):
        rows = []
        for i in range(n):
            chosen = [topics[i % 3]] + ([topics[(i + 1) % 3]] if i % 2 else [])
            words = [w for t in chosen for w in TOPIC_WORDS[t].split()] + SHARED
            rows.append({"id": f"m{start + i}", "text": " ".join(rng.choice(words, size=14)) + f" {i}",
                         "label": "|".join(chosen)})
        splits[split] = rows
    return write_csv_dataset(folder, name, splits, """task: topic
language: en
columns: {id: id, text: text, label: label}
labels: [business, sport, tech]
multilabel: true
""")
