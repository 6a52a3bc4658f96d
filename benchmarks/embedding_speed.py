"""Speed of the multilingual embedding block on one built dataset split (the cost of a
cross-lingual transfer run, docs/generalization.md).

Embeds every text of ``--split`` of the built dataset ``DATASET`` (a folder made by
``bench data build``) with ``bench.learn.embeddings.SentenceEmbedder`` at its default
parameters and prints the number of texts, their mean length in words, the seconds and
texts per second. Needs ``pip install -e ".[embeddings]"``.

    python benchmarks/embedding_speed.py data/masakhanews_fra [--split test]
"""

from __future__ import annotations

import argparse
import time

from bench.corpus import load_split, open_dataset
from bench.learn.embeddings import SentenceEmbedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a built dataset folder")
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    texts = load_split(open_dataset(args.dataset), args.split)["text"].astype(str).tolist()
    embedder = SentenceEmbedder()
    start = time.perf_counter()
    embedder.fit(texts[:1])
    embedder.transform(texts)
    seconds = time.perf_counter() - start
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"{len(texts)} texts, {words:.0f} words each on average: {seconds:.1f} s, {len(texts) / seconds:.1f} texts/s")


if __name__ == "__main__":
    main()
