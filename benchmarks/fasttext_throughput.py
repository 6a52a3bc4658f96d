"""fastText supervised against word tf-idf + linear SVM: fit and predict throughput on the same texts.

Reads BBC News (2,225 articles, about 390 words each) and AG News (7,600 titles with their
descriptions, about 40 words) from ``$NEWSBENCH_DATA``, splits each 80/20 with a fixed seed,
and times, side by side in this process and alternating which goes first, ``fit`` on the
training texts and ``predict`` on the test texts of:

- tf-idf + SVM: ``TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)`` and
  ``LinearSVC`` in one Pipeline (vectorizing is part of the cost, as in a run);
- fastText: ``bench.learn.fasttext_model.FastTextClassifier`` as ``estimator: fasttext``
  runs it (the training file written and read back included), one thread, with the
  settings of configs/fasttext_*.yaml (dim 10, bigrams, lr 1.0, 25 epochs) and with
  fastText's 5 epochs.

Prints docs/s (median of ``--repeats``) by the process's CPU time, which other work on a shared
machine slows much less than the wall clock (every system here computes in one thread), and by
the wall clock; the ratio fastText / SVM of each; and test accuracy. Run:

    NEWSBENCH_DATA=... OMP_NUM_THREADS=1 python benchmarks/fasttext_throughput.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def load(root: Path, name: str) -> tuple[list[str], list[str]]:
    """Texts and labels of ``bbc`` or ``ag_news``, in file order."""
    import pandas as pd

    if name == "bbc":
        frame = pd.read_csv(root / "bbc_news" / "bbc_news.csv")
        return (frame["title"] + "\n" + frame["text"]).tolist(), frame["category"].tolist()
    frame = pd.read_csv(root / "ag_news" / "test.csv", header=None)
    return (frame[1] + "\n" + frame[2]).tolist(), frame[0].astype(str).tolist()


def systems() -> dict[str, Callable[[], Any]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    from bench.learn.fasttext_model import FastTextClassifier

    return {
        "tf-idf + SVM": lambda: Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
                                          ("svm", LinearSVC(random_state=0))]),
        "fastText, 25 epochs": lambda: FastTextClassifier(dim=10, word_ngrams=2, lr=1.0, epoch=25, random_state=0),
        "fastText, 5 epochs": lambda: FastTextClassifier(dim=10, word_ngrams=2, lr=1.0, epoch=5, random_state=0),
    }


def _clocks() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def measure(make: Callable[[], Any], X_train: list[str], y_train: Any,
            X_test: list[str]) -> tuple[tuple[float, float], tuple[float, float], Any]:
    """(CPU, wall) seconds to fit, (CPU, wall) seconds to predict, and the predictions."""
    model = make()
    cpu, wall = _clocks()
    model.fit(X_train, y_train)
    fitted = _clocks()
    pred = model.predict(X_test)
    done = _clocks()
    return (fitted[0] - cpu, fitted[1] - wall), (done[0] - fitted[0], done[1] - fitted[1]), pred


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timings per system; the median is printed")
    parser.add_argument("--datasets", nargs="+", default=["bbc", "ag_news"], choices=["bbc", "ag_news"])
    args = parser.parse_args()
    if not os.environ.get("NEWSBENCH_DATA"):
        print("set NEWSBENCH_DATA to the folder of public datasets", file=sys.stderr)
        return 2
    import numpy as np

    made = systems()
    for name in args.datasets:
        texts, labels = load(Path(os.environ["NEWSBENCH_DATA"]), name)
        classes = sorted(set(labels))
        y = np.array([classes.index(label) for label in labels])
        order = np.random.default_rng(13).permutation(len(texts))
        cut = int(0.8 * len(texts))
        X_train, X_test = [texts[i] for i in order[:cut]], [texts[i] for i in order[cut:]]
        y_train, y_test = y[order[:cut]], y[order[cut:]]
        words = sum(len(t.split()) for t in texts) / len(texts)
        print(f"\n{name}: {len(X_train)} train / {len(X_test)} test texts, {words:.0f} words each on average")
        fits: dict[str, list[tuple[float, float]]] = {s: [] for s in made}
        predicts: dict[str, list[tuple[float, float]]] = {s: [] for s in made}
        accuracy: dict[str, float] = {}
        for repeat in range(args.repeats):
            names = list(made) if repeat % 2 == 0 else list(reversed(made))  # alternate who goes first
            for system in names:
                fit_s, predict_s, pred = measure(made[system], X_train, y_train, X_test)
                fits[system].append(fit_s)
                predicts[system].append(predict_s)
                accuracy[system] = float(np.mean(pred == y_test))
        for clock, label in ((0, "CPU time"), (1, "wall clock")):
            def rate(times: list[tuple[float, float]], n: int, clock: int = clock) -> float:
                return n / statistics.median(t[clock] for t in times)

            base_fit = rate(fits["tf-idf + SVM"], len(X_train))
            base_predict = rate(predicts["tf-idf + SVM"], len(X_test))
            print(f"docs/s by {label:<12}{'fit':>10}{'x SVM':>8}{'predict':>10}{'x SVM':>8}"
                  + (f"{'accuracy':>10}" if clock == 0 else ""))
            for system in made:
                fit, predict = rate(fits[system], len(X_train)), rate(predicts[system], len(X_test))
                print(f"  {system:<20}{fit:>10,.0f}{fit / base_fit:>8.2f}{predict:>10,.0f}"
                      f"{predict / base_predict:>8.2f}" + (f"{accuracy[system]:>10.4f}" if clock == 0 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
