"""What running jobs through newsbench costs, against plain scikit-learn scripts doing the same work.

P1  one job (tf-idf 1-2-grams + LinearSVC, accuracy and macro-F1, predictions saved) by
    ``bench run`` against a plain script that loads the same built dataset, vectorizes, fits,
    predicts, scores and saves its predictions. Target: newsbench <= 1.05x the plain script.
P2  a grid of 2 feature blocks x 5 models x 3 seeds (30 jobs) by ``bench run`` against the
    naive loop that refits the features for every job (one process, no start-up repeated).
    Target: newsbench >= 3x faster.

Both sides run as fresh processes (interpreter start-up and imports included), one after
the other in each repetition so that machine load hits both alike, with a fresh results
folder (so a cold feature cache) every time; medians of wall and of CPU seconds are
compared (CPU time is far steadier than wall time on a shared machine). Bootstrap CIs are
off on the newsbench side because the plain scripts compute none. The corpus is synthetic
(seeded; 4 topics, 60-180 words a document) so that the script runs anywhere; it is built
once with ``bench data build`` before timing, and the plain scripts read its Arrow files.
Each side's accuracy per job is compared: they must be equal ("same accuracy: True"),
which shows that the work is the same.

    python benchmarks/runner_overhead.py [--p1-rows 30000] [--p2-rows 6000] [--repeat 5] [--p2-repeat 1]
                                         [--jobs 1] [--only p1|p2]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

LABELS = ("world", "sports", "business", "science")
P1_TARGET, P2_TARGET = 1.05, 3.0
WORD = {"ngram_range": [1, 2], "min_df": 2, "sublinear_tf": True}
CHAR = {"analyzer": "char_wb", "ngram_range": [2, 4], "min_df": 2, "sublinear_tf": True}
P2_MODELS = ("majority", "complement_nb", "sgd", "ridge", "linear_svc")

PLAIN = r'''
import json, sys
from pathlib import Path
import numpy as np, pandas as pd
import pyarrow as pa
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import RidgeClassifier, SGDClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

data_dir, out_dir, grid = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
def read(split):  # the Arrow file that datasets.save_to_disk wrote
    with pa.memory_map(str(next((data_dir / split).glob("data-*.arrow")))) as source:
        return pa.ipc.open_stream(source).read_all().to_pandas()
train, test = read("train"), read("test")
labels = json.loads((data_dir / "train" / "dataset_info.json").read_text())["features"]["label"]["names"]
MODELS = {"majority": lambda s: DummyClassifier(strategy="most_frequent"), "complement_nb": lambda s: ComplementNB(),
          "sgd": lambda s: SGDClassifier(random_state=s), "ridge": lambda s: RidgeClassifier(random_state=s),
          "linear_svc": lambda s: LinearSVC(random_state=s)}
out_dir.mkdir(parents=True, exist_ok=True)
accuracy = {}
for feature, params in grid["features"].items():
    for model in grid["models"]:
        for seed in grid["seeds"]:
            # the naive loop: features refitted for every job
            vec = TfidfVectorizer(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
            X_train, X_test = vec.fit_transform(train["text"]), vec.transform(test["text"])
            est = MODELS[model](seed).fit(X_train, train["label"])
            pred = est.predict(X_test)
            scores = est.predict_proba(X_test) if hasattr(est, "predict_proba") else est.decision_function(X_test)
            frame = pd.DataFrame({"id": test["id"], "gold": [labels[i] for i in test["label"]],
                                  "pred": [labels[i] for i in pred]})
            for j, label in enumerate(labels):
                frame[f"score:{label}"] = scores[:, j]
            frame.to_parquet(out_dir / f"{feature}__{model}__s{seed}.parquet", index=False)
            accuracy[f"{feature}/{model}/{seed}"] = accuracy_score(test["label"], pred)
            f1_score(test["label"], pred, average="macro")
print(json.dumps(accuracy))
'''


def make_corpus(path: Path, rows: int, seed: int = 0) -> None:
    """A seeded topic corpus: a shared Zipf vocabulary plus 400 words per topic."""
    rng = np.random.default_rng(seed)
    syllables = np.array(["ka", "to", "ri", "men", "sa", "lo", "ve", "dan", "pu", "ti", "ro", "bel", "na", "gi",
                          "sor", "um", "fe", "ly", "qua", "zen"])
    vocab = np.unique(["".join(rng.choice(syllables, size=rng.integers(2, 5))) for _ in range(30000)])
    zipf = 1.0 / np.arange(1, len(vocab) + 1)
    zipf /= zipf.sum()
    topic_words = [rng.choice(len(vocab), 400, replace=False) for _ in LABELS]
    y = rng.integers(0, len(LABELS), rows)
    lengths = rng.integers(60, 180, rows)
    texts = []
    for label, n in zip(y, lengths):
        n_topic = rng.binomial(n, 0.15)
        words = np.concatenate([rng.choice(len(vocab), n - n_topic, p=zipf),
                                rng.choice(topic_words[label], n_topic)])
        rng.shuffle(words)
        texts.append(" ".join(vocab[words]))
    pd.DataFrame({"id": [f"d{i}" for i in range(rows)], "text": texts,
                  "label": [LABELS[i] for i in y]}).to_csv(path, index=False)


def write_spec(folder: Path, name: str, csv: Path) -> Path:
    spec = {"name": name, "task": "topic", "language": "en", "source": {"files": {"train": str(csv)}},
            "columns": {"id": "id", "text": "text", "label": "label"}, "labels": list(LABELS),
            "splits": {"test": {"from": "train", "size": 0.2, "seed": 13}}}
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(spec, indent=1))  # JSON is YAML
    return path


def write_config(folder: Path, name: str, spec: Path, features: dict[str, dict], models: tuple[str, ...],
                 seeds: list[int]) -> Path:
    config = {"name": name, "datasets": [str(spec)],
              "features": [{"name": f, "kind": "tfidf", "params": p} for f, p in features.items()],
              "models": [{"name": m, "estimator": m} for m in models], "seeds": seeds,
              "evaluation": {"train": "train", "test": "test", "metrics": ["accuracy", "f1_macro"],
                             "bootstrap": None}}
    path = folder / f"{name}.yaml"
    path.write_text(json.dumps(config, indent=1))
    return path


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_UPDATE_DOWNLOAD_COUNTS": "0"}


@dataclass
class Timing:
    """Wall and CPU seconds (user + system, the process and its children) per repetition."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def _timed(cmd: list[str], into: Timing | None = None) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr.strip()[-2000:]}")
    if into is not None:
        into.wall.append(seconds)
        into.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return seconds, done.stdout


def _bench_accuracy(run_dir: Path) -> dict[str, float]:
    rows = json.loads((run_dir / "metrics.json").read_text())["rows"]
    return {f"{r['features']}/{r['model']}/{r['seed']}": r["value"] for r in rows
            if r["metric"] == "accuracy" and r["fold"] is None and r["target"] is None}


def compare(work: Path, label: str, config: Path, data: Path, dataset: str, grid: dict, repeat: int,
            jobs: int) -> tuple[Timing, Timing, bool]:
    """Timings of ``bench run`` and of the plain script, and whether their accuracies agree."""
    plain = work / "plain.py"
    plain.write_text(PLAIN)
    ours, theirs, same = Timing(), Timing(), True
    for r in range(repeat):
        results = work / f"results-{label}-{r}"
        _, out = _timed([sys.executable, "-m", "bench", "run", str(config), "--results", str(results),
                         "--data", str(data), "--jobs", str(jobs), "-q"], ours)
        bench_acc = _bench_accuracy(Path(out.strip().splitlines()[-1]))
        _, out = _timed([sys.executable, str(plain), str(data / dataset), str(work / f"plain-{label}-{r}"),
                         json.dumps(grid)], theirs)
        plain_acc = json.loads(out.strip().splitlines()[-1])
        same &= bench_acc.keys() == plain_acc.keys() and all(abs(bench_acc[k] - plain_acc[k]) < 1e-12
                                                             for k in bench_acc)
        print(f"  {label} repetition {r + 1}: bench run {ours.wall[-1]:.1f} s wall / {ours.cpu[-1]:.1f} s CPU, "
              f"plain {theirs.wall[-1]:.1f} s wall / {theirs.cpu[-1]:.1f} s CPU", flush=True)
    return ours, theirs, same


def _ratios(ours: Timing, theirs: Timing) -> str:
    """Median wall and CPU ratios. On a busy machine wall time swings with other load; CPU
    time (single-threaded work here, --jobs 1) does much less, so both are printed."""
    wall = statistics.median(ours.wall) / statistics.median(theirs.wall)
    cpu = statistics.median(ours.cpu) / statistics.median(theirs.cpu)
    return (f"median wall {statistics.median(ours.wall):.1f} s vs {statistics.median(theirs.wall):.1f} s "
            f"-> {wall:.3f}x; median CPU {statistics.median(ours.cpu):.1f} s vs {statistics.median(theirs.cpu):.1f} s "
            f"-> {cpu:.3f}x")


def build(work: Path, name: str, rows: int, data: Path) -> Path:
    csv = work / f"{name}.csv"
    make_corpus(csv, rows)
    spec = write_spec(work, name, csv)
    seconds, _ = _timed([sys.executable, "-m", "bench", "data", "build", str(spec), "--data", str(data)])
    print(f"built {name}: {rows} documents in {seconds:.1f} s (not timed below)", flush=True)
    return spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p1-rows", type=int, default=30000)
    parser.add_argument("--p2-rows", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of P1")
    parser.add_argument("--p2-repeat", type=int, default=1, help="repetitions of P2 (the naive loop takes minutes)")
    parser.add_argument("--jobs", type=int, default=1, help="--jobs for bench run")
    parser.add_argument("--only", choices=("p1", "p2"))
    args = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory(prefix="newsbench-overhead-") as tmp:
        work, data = Path(tmp), Path(tmp) / "data"
        if args.only in (None, "p1"):
            spec = build(work, "synth_p1", args.p1_rows, data)
            config = write_config(work, "p1", spec, {"word": WORD}, ("linear_svc",), [0])
            grid = {"features": {"word": WORD}, "models": ["linear_svc"], "seeds": [0]}
            ours, theirs, same = compare(work, "p1", config, data, "synth_p1", grid, args.repeat, args.jobs)
            lines.append(f"P1 one job, {args.p1_rows} docs, {args.repeat} runs each, bench run / plain script "
                         f"(target <= {P1_TARGET}x): {_ratios(ours, theirs)}; same accuracy: {same}")
        if args.only in (None, "p2"):
            spec = build(work, "synth_p2", args.p2_rows, data)
            seeds = [0, 1, 2]
            config = write_config(work, "p2", spec, {"word": WORD, "char": CHAR}, P2_MODELS, seeds)
            grid = {"features": {"word": WORD, "char": CHAR}, "models": list(P2_MODELS), "seeds": seeds}
            ours, theirs, same = compare(work, "p2", config, data, "synth_p2", grid, args.p2_repeat, args.jobs)
            speedup = statistics.median(theirs.wall) / statistics.median(ours.wall)
            lines.append(f"P2 grid 2 features x 5 models x 3 seeds, {args.p2_rows} docs, {args.p2_repeat} run(s) "
                         f"each, bench run / naive loop (target <= {1 / P2_TARGET:.3f}x, i.e. >= {P2_TARGET}x "
                         f"faster): {_ratios(ours, theirs)}; {speedup:.2f}x faster by wall time; same accuracy: {same}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
