"""Scale: generated news corpora of 10k, 100k and 1M documents through the streaming path.

Documents are generated, not real: news-length (about 150 words, in sentences), half in
French and half in English, four topics. Words follow a Zipf law over a vocabulary of real
function and news words plus syllable-built words of each language (accents included), and
each topic raises the odds of its own words, so that a linear model learns something.

For each size, in a fresh process (so that peak memory is that step's and the steps
before it), the script measures documents/s and peak memory (RSS and PSS summed over the
step's process and its helper processes, see ``TreeMemory``) of:

* ``build``: ``bench.corpus.build_dataset`` (read the parquet sources in batches, clean,
  check labels, deduplicate, audit train/test overlap, write the Arrow dataset), its
  batches prepared by ``--workers`` processes;
* ``hashing alone``: ``HashingVectorizer.transform`` over every document (chunked, in one
  process, reading not timed): the hashing vectorizer's own throughput, the reference;
* ``run``: ``bench run`` on the built dataset with ``evaluation.streaming: true`` (hashing
  features, SGD trained chunk by chunk, prediction, accuracy and macro-F1 with 1000-sample
  bootstrap CIs, results files), with its fit and predict times from the job record;
  ``--workers`` helper processes featurize the next chunks while the model trains (the
  hashing-alone reference uses one process);
* ``end to end``: build + run.

It prints a table per size, then the growth of time and memory from size to size (1.0 =
linear in time) and the ratio of end-to-end to hashing-alone throughput.

    python benchmarks/scale.py [--sizes 10000 100000 1000000] [--workers 2] [--repeat 1] [--work DIR]
                               [--keep] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TOPICS = ("politics", "economy", "sport", "culture")
WORDS = {
    "en": {
        "common": ("the of and to a in is that for on was with he it as at by from his be an have has are "
                   "but not they were this which had their after been its who will one new would more also "
                   "said year two first over people than last government could into about up state when "
                   "out officials week city country told percent million report on monday tuesday friday "
                   "according some them there other can while where between during under since police"),
        "politics": ("minister parliament election vote party president senate opposition coalition law bill "
                     "campaign ballot policy reform cabinet leader democrats conservatives mayor"),
        "economy": ("market shares bank inflation growth prices company investors trade rates billion profit "
                    "economy quarterly earnings debt budget unemployment exports merger"),
        "sport": ("match team goal season league coach player final championship cup victory striker "
                  "tournament score injury transfer stadium defender referee"),
        "culture": ("film festival music album artist museum exhibition book novel theatre director award "
                    "concert painting actress gallery premiere songs writer"),
        "syllables": "ter ex con pro ment ing ly tion ar er al ous ive re de in com dis ble ful ness man port",
    },
    "fr": {
        "common": ("le la les de des du un une et à en est que qui pour dans sur par au aux avec il elle "
                   "ils ont a été sont pas plus ce cette ses son sa leur mais ou comme selon après avant "
                   "lors deux premier année gouvernement pays ville semaine millions pourcent selon "
                   "déclaré affirmé mardi lundi vendredi responsables police entre depuis pendant très "
                   "aussi encore déjà où dont même tous nouvelle nouveau"),
        "politics": ("ministre parlement élection vote parti président sénat opposition coalition loi projet "
                     "campagne scrutin politique réforme gouvernement député maire électeurs"),
        "economy": ("marché actions banque inflation croissance prix entreprise investisseurs commerce taux "
                    "milliards bénéfice économie trimestre résultats dette budget chômage exportations"),
        "sport": ("match équipe but saison championnat entraîneur joueur finale coupe victoire attaquant "
                  "tournoi score blessure transfert stade défenseur arbitre"),
        "culture": ("film festival musique album artiste musée exposition livre roman théâtre réalisateur "
                    "prix concert peinture actrice galerie première chansons écrivain"),
        "syllables": "tion ment é è re de con pré com dé ais eur ité ance ère ique eau oir ion qu ç ille",
    },
}
DOC_WORDS = (110, 190)  # words per document (uniform)
TOPIC_SHARE = 0.03  # share of a document's words drawn from its topic's words
N_WORDS = 30_000  # syllable-built words per language
ZIPF = 1.07
TEST_SHARE = 0.2
CHUNK = 20_000
HASHING = {"n_features": 2**20, "ngram_range": [1, 2]}


def vocabulary(language: str, rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Words by frequency rank (real common words first) and each topic's word ids."""
    spec = WORDS[language]
    words = spec["common"].split()
    syllables = spec["syllables"].split()
    seen = set(words)
    while len(words) < N_WORDS + len(spec["common"].split()):
        n = int(rng.integers(2, 5))
        word = "".join(syllables[i] for i in rng.integers(0, len(syllables), size=n))
        if word not in seen:
            seen.add(word)
            words.append(word)
    topic_ids = {}
    for topic in TOPICS:
        own = spec[topic].split()
        topic_ids[topic] = np.arange(len(words), len(words) + len(own))
        words += own
    return np.asarray(words, dtype=object), topic_ids


def documents(n: int, seed: int, start: int = 0) -> dict[str, list]:
    """``n`` generated documents with ids ``start..``: id, text, title, label, language."""
    rng = np.random.default_rng([seed, start])
    languages = rng.choice(["en", "fr"], size=n)
    labels = rng.integers(0, len(TOPICS), size=n)
    lengths = rng.integers(DOC_WORDS[0], DOC_WORDS[1], size=n)
    texts = np.empty(n, dtype=object)
    titles = np.empty(n, dtype=object)
    for language in ("en", "fr"):
        words, topic_ids = vocabulary(language, np.random.default_rng([seed, ord(language[0])]))
        n_background = N_WORDS + len(WORDS[language]["common"].split())
        p = np.arange(1, n_background + 1, dtype=np.float64) ** -ZIPF
        rows = np.flatnonzero(languages == language)
        if not len(rows):
            continue
        sizes = lengths[rows]
        total = int(sizes.sum())
        ids = rng.choice(n_background, size=total, p=p / p.sum())
        doc = np.repeat(np.arange(len(rows)), sizes)
        topical = np.flatnonzero(rng.random(total) < TOPIC_SHARE)
        for k, topic in enumerate(TOPICS):
            mine = topical[labels[rows][doc[topical]] == k]
            own = topic_ids[topic]
            ids[mine] = own[rng.integers(0, len(own), size=len(mine))]
        tokens = words[ids]
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        position = np.arange(total) - np.repeat(first, sizes)
        opens = position % 18 == 0  # sentences of 18 words: a capital first, a full stop last
        tokens[opens] = [t.capitalize() for t in tokens[opens]]
        closes = (position % 18 == 17) | (position == np.repeat(sizes, sizes) - 1)
        tokens[closes] = tokens[closes] + "."
        last = np.cumsum(sizes) - 1
        tokens[last] = tokens[last] + "\x1e"  # a record separator (numpy drops a trailing NUL)
        texts[rows] = " ".join(tokens).rstrip("\x1e").split("\x1e ")
        titles[rows] = [" ".join(tokens[a:a + 8]).rstrip(".") for a in first]
    return {"id": [f"doc{start + i:08d}" for i in range(n)], "title": list(titles), "text": list(texts),
            "label": [TOPICS[k] for k in labels], "language": languages.tolist()}


def write_corpus(folder: Path, n_docs: int, seed: int = 0) -> Path:
    """Parquet train/test files of ``n_docs`` documents and their dataset spec; returns the spec."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    n_test = int(round(n_docs * TEST_SHARE))
    parts = {"train": (0, n_docs - n_test), "test": (n_docs - n_test, n_docs)}
    for split, (lo, hi) in parts.items():
        writer = None
        for start in range(lo, hi, CHUNK):
            table = pa.table(documents(min(CHUNK, hi - start), seed, start))
            writer = writer or pq.ParquetWriter(folder / f"{split}.parquet", table.schema)
            writer.write_table(table)
        writer.close()
    spec = folder / f"news{n_docs}.yaml"
    spec.write_text(f"""name: news{n_docs}
task: topic
language: {{column: language}}
source:
  files: {{train: train.parquet, test: test.parquet}}
columns: {{id: id, text: text, title: title, label: label}}
labels: [{", ".join(TOPICS)}]
""", encoding="utf-8")
    return spec


# --- steps, each in a fresh process ----------------------------------------------------------

class TreeMemory:
    """Peak memory of this process plus its children (helper processes), sampled every 0.1 s.

    Two sums over the process tree: resident memory (RSS; counts the pages of the
    memory-mapped dataset that each process touched, once per process, so it over-counts)
    and proportional set size (PSS; shared pages split between the processes that share
    them). Sampling can miss a peak shorter than 0.1 s, so RSS is at least this process's
    ``ru_maxrss``.
    """

    def __init__(self) -> None:
        import threading

        self.rss = self.pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        try:
            import psutil
        except ImportError:  # psutil comes with dask[distributed]; without it, ru_maxrss only
            return
        me = psutil.Process()
        while not self._stop.wait(0.1):
            rss = pss = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    info = proc.memory_full_info()
                except psutil.Error:
                    continue
                rss, pss = rss + info.rss, pss + getattr(info, "pss", info.rss)
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)

    def peaks_mb(self) -> tuple[float, float]:
        """Peak RSS and peak PSS of the tree, in MB."""
        self._stop.set()
        self._thread.join()
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        return max(self.rss, own) / 2**20, (self.pss or own) / 2**20


MEMORY: TreeMemory | None = None


def peak_mb() -> dict[str, float]:
    """``{"peak_mb": RSS, "pss_mb": PSS}``: this step's process tree's peaks so far (once per step)."""
    if MEMORY is None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"peak_mb": own, "pss_mb": own}
    rss, pss = MEMORY.peaks_mb()
    return {"peak_mb": rss, "pss_mb": pss}


def step_build(spec: Path, data: Path, workers: int) -> dict:
    from bench.corpus import build_dataset

    start = time.perf_counter()
    result = build_dataset(spec, data, force=True, workers=workers)
    return {"seconds": time.perf_counter() - start, "docs": result.n_rows, **peak_mb()}


def step_hashing(data: Path, name: str) -> dict:
    """The hashing vectorizer alone over every document of the built dataset, chunk by chunk."""
    from sklearn.feature_extraction.text import HashingVectorizer

    from bench.corpus import open_dataset
    from bench.run.streaming import iter_chunks

    ds = open_dataset(name, data)
    vectorizer = HashingVectorizer(n_features=HASHING["n_features"], ngram_range=tuple(HASHING["ngram_range"]))
    n, seconds = 0, 0.0
    for split in ds.splits:
        for chunk in iter_chunks(ds, split, ("text",), CHUNK):
            texts = chunk["text"].tolist()
            start = time.perf_counter()
            vectorizer.transform(texts)
            seconds += time.perf_counter() - start
            n += len(texts)
    return {"seconds": seconds, "docs": n, **peak_mb()}


def step_run(data: Path, name: str, results: Path, workers: int) -> dict:
    from bench.cli import main

    config = results.parent / f"{name}-run.yaml"
    config.write_text(f"""name: scale
datasets: [{name}]
features:
  - {{name: hash, kind: hashing, params: {{n_features: {HASHING["n_features"]}, ngram_range: {HASHING["ngram_range"]}}}}}
models:
  - {{name: sgd, estimator: sgd}}
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 1000}}
  streaming: {{enabled: true, chunk_rows: {CHUNK}, workers: {workers}}}
""", encoding="utf-8")
    start = time.perf_counter()
    code = main(["run", str(config), "--data", str(data), "--results", str(results), "--quiet"])
    seconds = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"bench run failed ({code})")
    (run,) = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    job = json.loads(next((run / "jobs").glob("*.json")).read_text())
    rows = json.loads((run / "metrics.json").read_text())["rows"]
    return {"seconds": seconds, "docs": job["n_train"] + job["n_test"], **peak_mb(),
            "fit_seconds": job["fit_seconds"], "predict_seconds": job["predict_seconds"],
            "feature_seconds": job["feature_seconds"], "n_train": job["n_train"], "n_test": job["n_test"],
            "metrics": {r["metric"]: [round(r["value"], 4), round(r["ci_low"], 4), round(r["ci_high"], 4)]
                        for r in rows}}


def child(args: argparse.Namespace) -> None:
    """One step in this process; prints its JSON result."""
    global MEMORY
    MEMORY = TreeMemory()
    work = Path(args.work)
    if args.step == "generate":
        start = time.perf_counter()
        write_corpus(work / "src", args.size)
        out = {"seconds": time.perf_counter() - start, "docs": args.size, **peak_mb()}
    elif args.step == "build":
        out = step_build(work / "src" / f"news{args.size}.yaml", work / "data", args.workers)
    elif args.step == "hashing":
        out = step_hashing(work / "data", f"news{args.size}")
    else:
        out = step_run(work / "data", f"news{args.size}", work / f"results-w{args.workers}", args.workers)
    print(json.dumps(out))


def run_step(step: str, size: int, work: Path, workers: int = 1) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", step, "--size", str(size), "--work", str(work),
                           "--workers", str(workers)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"step {step} at {size} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated corpora and runs")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes that prepare the build's batches, and streaming.workers of the run: "
                             "helper processes that featurize (default 2)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure hashing alone and the run this many times, alternating, and keep the "
                             "fastest of each (the machine's other load then hits both alike)")
    parser.add_argument("--child", choices=("generate", "build", "hashing", "run"), dest="step",
                        help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        child(args)
        return
    root = args.work or Path(tempfile.mkdtemp(prefix="newsbench-scale-"))
    measured: dict[int, dict[str, dict]] = {}
    try:
        for size in args.sizes:
            work = root / f"n{size}"
            shutil.rmtree(work, ignore_errors=True)
            steps = {step: run_step(step, size, work, args.workers) for step in ("generate", "build")}
            for _ in range(args.repeat):
                for step in ("hashing", "run"):
                    shutil.rmtree(work / f"results-w{args.workers}", ignore_errors=True)
                    again = run_step(step, size, work, args.workers)
                    if step not in steps or again["seconds"] < steps[step]["seconds"]:
                        steps[step] = again
            measured[size] = steps
            report_size(size, steps)
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        report_growth(measured)
        if args.json:
            args.json.write_text(json.dumps(measured, indent=2))
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(root, ignore_errors=True)


def report_size(size: int, steps: dict[str, dict]) -> None:
    build, hashing, run = steps["build"], steps["hashing"], steps["run"]
    end_to_end = build["seconds"] + run["seconds"]
    print(f"\n== {size:,} documents (generated in {steps['generate']['seconds']:.1f} s) ==")
    print(f"{'step':<26}{'seconds':>10}{'docs/s':>12}{'peak RSS MB':>13}{'peak PSS MB':>13}")
    lines = [("build", build["seconds"], build["docs"], build),
             ("hashing alone", hashing["seconds"], hashing["docs"], hashing),
             ("run: features (helpers)", run["feature_seconds"], run["docs"], None),
             ("run: fit (SGD)", run["fit_seconds"], run["n_train"], None),
             ("run: predict", run["predict_seconds"], run["n_test"], None),
             ("run (bench run)", run["seconds"], run["docs"], run),
             ("end to end", end_to_end, run["docs"], {k: max(build[k], run[k]) for k in ("peak_mb", "pss_mb")})]
    for name, seconds, docs, mem in lines:
        mb_text = f"{mem['peak_mb']:>13,.0f}{mem['pss_mb']:>13,.0f}" if mem else ""
        print(f"{name:<26}{seconds:>10.2f}{docs / seconds if seconds else float('nan'):>12,.0f}{mb_text}")
    ratio_run = (hashing["docs"] / hashing["seconds"]) / (run["docs"] / run["seconds"])
    ratio_e2e = (hashing["docs"] / hashing["seconds"]) / (run["docs"] / end_to_end)
    print(f"hashing-alone throughput / run throughput: {ratio_run:.2f}x; / end-to-end throughput: {ratio_e2e:.2f}x")
    print("test metrics:", ", ".join(f"{m} {v[0]} [{v[1]}, {v[2]}]" for m, v in run["metrics"].items()))


def report_growth(measured: dict[int, dict[str, dict]]) -> None:
    sizes = sorted(measured)
    if len(sizes) < 2:
        return
    print("\n== growth (time ratio / size ratio: 1.00 = linear) ==")
    for a, b in zip(sizes, sizes[1:]):
        factor = b / a
        for step in ("build", "hashing", "run"):
            ta, tb = measured[a][step]["seconds"], measured[b][step]["seconds"]
            ma, mb = measured[a][step]["pss_mb"], measured[b][step]["pss_mb"]
            print(f"{a:>9,} -> {b:>9,} {step:<8} time x{tb / ta:6.1f} ({tb / ta / factor:.2f} of linear); "
                  f"peak PSS {ma:,.0f} -> {mb:,.0f} MB")
        ea = measured[a]["build"]["seconds"] + measured[a]["run"]["seconds"]
        eb = measured[b]["build"]["seconds"] + measured[b]["run"]["seconds"]
        print(f"{a:>9,} -> {b:>9,} end to end time x{eb / ea:6.1f} ({eb / ea / factor:.2f} of linear)")


if __name__ == "__main__":
    os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")
    main()
