"""Language detection speed: ``detect_languages`` (batched) against py3langid's ``classify``.

Reads real news texts from ``$NEWSBENCH_DATA`` (BBC News, MasakhaNEWS French, x-stance
comments), repeats them to ``--n`` texts, and prints docs/s for both, measured side by side
in this process, their ratio, and how many labels differ. Run:

    NEWSBENCH_DATA=... python benchmarks/language_detection.py --n 10000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def load_texts(root: Path, n: int) -> list[str]:
    """Up to ``n`` real texts, English, French and German, cycled in a fixed order."""
    import pandas as pd

    texts = list(pd.read_csv(root / "bbc_news" / "bbc_news.csv")["text"])
    texts += list(pd.read_csv(root / "masakhanews" / "fra" / "test.tsv", sep="\t")["text"])
    texts += list(pd.read_json(root / "x_stance" / "valid.jsonl", lines=True)["comment"])
    return [texts[i % len(texts)] for i in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of texts")
    args = parser.parse_args()
    if not os.environ.get("NEWSBENCH_DATA"):
        print("set NEWSBENCH_DATA to the folder of public datasets", file=sys.stderr)
        return 2
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from bench.corpus.language import _encode, _model, detect_languages

    texts = load_texts(Path(os.environ["NEWSBENCH_DATA"]), args.n)
    mean_chars = sum(map(len, texts)) / len(texts)
    _model()
    reference = LanguageIdentifier.from_model_file(MODEL_FILE)

    start = time.perf_counter()
    batched = detect_languages(texts)
    t_batched = time.perf_counter() - start

    start = time.perf_counter()
    # the same bytes (prefix) as detect_languages, so the labels can be compared one to one
    single = [reference.classify(_encode(t))[0] for t in texts]
    t_single = time.perf_counter() - start

    start = time.perf_counter()
    full = [reference.classify(t)[0] for t in texts]
    t_full = time.perf_counter() - start

    print(f"texts: {len(texts)}, mean {mean_chars:.0f} characters")
    print(f"detect_languages (batched, prefix):  {len(texts) / t_batched:8.0f} docs/s")
    print(f"py3langid classify (same prefix):    {len(texts) / t_single:8.0f} docs/s")
    print(f"py3langid classify (full text):      {len(texts) / t_full:8.0f} docs/s")
    print(f"speed-up vs classify on full text:   {t_full / t_batched:8.1f}x")
    print(f"labels differing from same-prefix classify: {sum(a != b for a, b in zip(batched, single))}")
    print(f"labels differing from full-text classify:   {sum(a != b for a, b in zip(batched, full))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
