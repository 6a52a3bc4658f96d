"""Throughput of `bench data build` on a generated French/English news corpus.

Generates N articles (default 100,000; about 150 words each, half French with accents, half
English, 2% syndicated near-copies with an edited word and a credit line, a few exact copies)
as one CSV in a temporary folder, then runs `bench data build` on it in a child process, twice
side by side: with the near-duplicate audit (the default) and without it. Prints articles/s
(wall clock of the whole command, Python start-up and imports included) and the child's peak
resident memory (at 100,000 rows the builder prepares its batches in that one process; past
it, in worker processes whose memory this figure does not include: see benchmarks/scale.py). Target: >= 5,000 articles/s with the audit, under 2 GB.

    python benchmarks/build_dataset.py [--articles 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TOPICS = ("politics", "economy", "sports", "culture", "science")
SYLLABLES = {
    "fr": "la le de re mi sé pré con tra ban vil port é è à ê ç ou eau ien tion ment gou ver nem ent ré gion".split(),
    "en": "the an of re mi pro con tra ban vil port ing er ed tion ment gov ern ment re gion ly ous".split(),
}
STOP = {
    "fr": "le la les de des du un une et est dans pour sur avec par que qui au aux ce cette".split(),
    "en": "the a an of and is in for on with by that which to at this from as was were".split(),
}


def vocabulary(rng: np.random.Generator, lang: str, size: int) -> np.ndarray:
    """Pseudo-words of 2-4 syllables; the language's function words first so they are the most frequent."""
    syl = np.array(SYLLABLES[lang], dtype=object)
    words = {w for w in STOP[lang]}
    while len(words) < size:
        words.add("".join(rng.choice(syl, size=int(rng.integers(2, 5)))))
    ordered = list(STOP[lang]) + sorted(words - set(STOP[lang]))
    return np.array(ordered[:size], dtype=object)


def generate(path: Path, n_articles: int, seed: int) -> None:
    """Write the corpus CSV: id, title, body, topic, lang, date."""
    rng = np.random.default_rng(seed)
    vocab = {lang: vocabulary(rng, lang, 20_000) for lang in ("fr", "en")}
    topic_words = {t: {lang: rng.choice(vocab[lang][200:], size=40) for lang in vocab} for t in TOPICS}
    bodies: list[str] = []
    rows = []
    for i in range(n_articles):
        lang = "fr" if i % 2 == 0 else "en"
        topic = TOPICS[int(rng.integers(len(TOPICS)))]
        if i > 100 and rng.random() < 0.02:
            source = int(rng.integers(i))
            words = bodies[source].split()
            words[int(rng.integers(len(words)))] = "modifié" if lang == "fr" else "edited"
            body = " ".join(words) + (" (AFP)" if lang == "fr" else " (Reuters)")
            topic, lang = rows[source][3], rows[source][4]
        elif i > 100 and rng.random() < 0.002:
            source = int(rng.integers(i))
            body, topic, lang = bodies[source], rows[source][3], rows[source][4]
        else:
            n = int(rng.integers(100, 200))
            ranks = np.minimum(rng.zipf(1.25, size=n) - 1, len(vocab[lang]) - 1)
            words = vocab[lang][ranks]
            mask = rng.random(n) < 0.08
            words[mask] = rng.choice(topic_words[topic][lang], size=int(mask.sum()))
            sentences = [" ".join(words[s:s + 18]).capitalize() + "." for s in range(0, n, 18)]
            body = " ".join(sentences[: len(sentences) // 2]) + "\n\n" + " ".join(sentences[len(sentences) // 2:])
        bodies.append(body)
        title = " ".join(body.split()[:8]).rstrip(".").capitalize()
        date = f"202{int(rng.integers(0, 5))}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        rows.append((f"a{i:06d}", title, body, topic, lang, date))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "title", "body", "topic", "lang", "date"])
        writer.writerows(rows)


SPEC = """\
name: synthetic
task: topic
language: {{column: lang}}
source:
  files: {{train: {csv}}}
columns: {{id: id, text: [title, body], title: title, date: date, label: topic}}
labels: [politics, economy, sports, culture, science]
splits:
  test: {{from: train, size: 0.2, seed: 13}}
near_duplicates: {{enabled: {audit}}}
"""


def run_build(folder: Path, csv_path: Path, audit: bool) -> tuple[float, float, float, dict]:
    """Wall seconds, CPU seconds, peak RSS (MB) of a `bench data build` child, and the dataset's stats."""
    spec = folder / f"spec_{'audit' if audit else 'noaudit'}.yaml"
    spec.write_text(SPEC.format(csv=csv_path, audit=str(audit).lower()), encoding="utf-8")
    out = folder / f"data_{'audit' if audit else 'noaudit'}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench", "data", "build", str(spec), "--data", str(out), "--force"],
                   check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if after.ru_maxrss <= before.ru_maxrss:
        print("note: peak RSS of this child is not above an earlier child's; the figure is a lower bound")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stats = json.loads((out / "synthetic" / "stats.json").read_text(encoding="utf-8"))
    return seconds, cpu, after.ru_maxrss / 1024, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsbench-build-") as tmp:
        folder = Path(tmp)
        csv_path = folder / "corpus.csv"
        start = time.perf_counter()
        generate(csv_path, args.articles, args.seed)
        print(f"generated {args.articles:,} articles ({csv_path.stat().st_size / 1e6:.0f} MB CSV) "
              f"in {time.perf_counter() - start:.1f} s")
        # The audit-free build runs first so that the audit build's peak RSS is its own
        # (RUSAGE_CHILDREN reports the largest child so far).
        plain_s, plain_cpu, plain_mb, _ = run_build(folder, csv_path, audit=False)
        audit_s, audit_cpu, audit_mb, stats = run_build(folder, csv_path, audit=True)
        near = stats["audit"]["near_duplicates"]
        print(f"near-duplicate pairs found: {near['pairs']:,}; exact duplicates within a split: "
              f"{sum(stats['audit']['duplicates'].values()):,}; test rows near/exact in train: "
              f"{stats['audit']['overlap']['test']['near']:,}/{stats['audit']['overlap']['test']['exact']:,}")
        print(f"{'build':<26}{'wall s':>8}{'articles/s':>12}{'CPU s':>8}{'peak MB':>9}")
        for label, wall, cpu, peak in (("without near-dup audit", plain_s, plain_cpu, plain_mb),
                                       ("with near-dup audit", audit_s, audit_cpu, audit_mb)):
            print(f"{label:<26}{wall:>8.1f}{args.articles / wall:>12,.0f}{cpu:>8.1f}{peak:>9,.0f}")
        print(f"audit cost: x{audit_s / plain_s:.2f} wall, x{audit_cpu / plain_cpu:.2f} CPU; "
              f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall grows with load); "
              "target >= 5,000 articles/s with the audit, < 2,048 MB")


if __name__ == "__main__":
    main()
