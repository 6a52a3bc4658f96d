"""How often ``bench compare --fail-on-regression`` trips on seed noise alone, and how often on a real drop.

One ``bench run`` trains an SGD classifier (scikit-learn's ``SGDClassifier``, hinge loss,
shuffled each epoch: seeds really differ) with ``2 x --pairs x --seeds`` seeds on a public
dataset (SemEval-2016 stance by default, ``${NEWSBENCH_DATA}``). Its jobs are split into
``--pairs`` pairs of runs with disjoint seed sets: the same config, other seeds. For each
pair we run the comparison and the gate twice, seed-aware (the default, items and seeds)
and item-only (the inference before it, conditional on the trained models), and count:

* false alarms: the gate trips although both runs are the same recipe (a one-sided test
  at alpha 0.05 two-sided: a calibrated gate trips on at most alpha/2 = 2.5% of pairs, and
  either direction is significant on at most alpha = 5%);
* power: every seed of the second run is made worse by ``--worse`` accuracy (that many
  items it got right get a wrong label), and the gate should trip.

The Monte Carlo standard error of a rate ``p`` over ``P`` pairs is ``sqrt(p (1 - p) / P)``.

    NEWSBENCH_DATA=... python benchmarks/gate_false_alarms.py [--pairs 25] [--seeds 3] [--worse 0.02]
        [--sgd-params '{"max_iter": 5, "tol": null}']
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from bench.cli import main as bench_main
from bench.compare import CompareOptions, compare_runs
from bench.config.spec import BootstrapSpec
from bench.results.rows import RowKey, score_frame
from bench.results.store import RunDir

ROOT = Path(__file__).resolve().parent.parent


def train(work: Path, dataset: str, n_seeds: int, params: dict) -> RunDir:
    """One run of the recipe with ``n_seeds`` seeds."""
    config = {"name": "gate", "datasets": [str(ROOT / dataset)],
              "features": [{"name": "word", "kind": "tfidf",
                            "params": {"ngram_range": [1, 2], "sublinear_tf": True, "min_df": 2}}],
              "models": [{"name": "sgd", "estimator": "sgd", "params": params}], "seeds": list(range(n_seeds)),
              "evaluation": {"train": "train", "test": "test", "metrics": ["accuracy", "f1_macro"],
                             "bootstrap": {"samples": 200, "confidence": 0.95}}}
    path = work / "gate.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    if bench_main(["run", str(path), "--results", str(work / "results"), "--data", str(work / "data"), "-q"]) != 0:
        raise SystemExit("bench run failed")
    (folder,) = [p for p in (work / "results").iterdir() if p.is_dir() and not p.name.startswith(".")]
    return RunDir.open(folder)


def subset(source: RunDir, root: Path, name: str, seeds: list[int], worse: float = 0.0, seed: int = 0) -> Path:
    """A run folder with the source run's jobs of ``seeds``; with ``worse``, each seed loses that much accuracy."""
    manifest = source.manifest
    (dataset,) = manifest["datasets"]
    info = manifest["datasets"][dataset]
    labels = tuple(info["labels"])
    by_seed = {int(source.job(j)["seed"]): j for j in source.job_ids()}
    job_ids = [by_seed[s] for s in seeds]
    new = {**manifest, "run_id": name, "name": name, "status": "running", "seeds": seeds,
           "jobs": {j: {"status": "pending"} for j in job_ids}}
    config = {**source.config, "name": name, "seeds": seeds}
    run = RunDir.create(root, name, config_yaml=yaml.safe_dump(config, sort_keys=False), manifest=new)
    rng = np.random.default_rng(seed)
    for s, job_id in zip(seeds, job_ids):
        record, frame = source.job(job_id), source.predictions(job_id)
        if worse:
            right = np.flatnonzero(frame["gold"].to_numpy() == frame["pred"].to_numpy())
            broken = rng.choice(right, size=round(worse * len(frame)), replace=False)
            pred = frame["pred"].to_numpy().copy()
            for i in broken:
                pred[i] = labels[(labels.index(pred[i]) + 1) % len(labels)]
            frame = frame.assign(pred=pred)
            key = RowKey(dataset=dataset, features=record["features"], model=record["model"], seed=s, split="test")
            record = {**record, "rows": score_frame(frame, key, labels=labels, multilabel=False,
                                                    metrics=("accuracy", "f1_macro"),
                                                    bootstrap=BootstrapSpec(samples=200))}
        run.write_job(job_id, record, frame)
        run.set_job(job_id, status="done")
    return run.finalize().path


def gate(a: Path, b: Path, metric: str, samples: int, seed_variance: bool) -> tuple[bool, bool, float]:
    """(the gate trips, Δ significant either way, seed share of the Δ) for ``b`` against ``a``."""
    comparison = compare_runs([RunDir.open(a), RunDir.open(b)],
                              CompareOptions(metric=metric, samples=samples, seed_variance=seed_variance))
    delta = comparison.rows[0].deltas[1]
    return bool(comparison.regressions), bool(delta.significant), delta.seed_share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=25, help="pairs of runs with disjoint seed sets")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per run")
    parser.add_argument("--worse", type=float, default=0.02, help="accuracy taken from every seed for the power row")
    parser.add_argument("--dataset", default="configs/datasets/semeval2016.yaml")
    parser.add_argument("--metric", default="accuracy")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--sgd-params", default="{}", help='SGDClassifier parameters as JSON, e.g. \'{"max_iter": 5,'
                        ' "tol": null}\' for a recipe stopped after 5 epochs (more seed noise)')
    args = parser.parse_args()
    if not os.environ.get("NEWSBENCH_DATA"):
        raise SystemExit("set NEWSBENCH_DATA to the folder of the public datasets (see configs/datasets/)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        source = train(work, args.dataset, 2 * args.pairs * args.seeds, json.loads(args.sgd_params))
        trained = time.perf_counter() - start
        values = [r["value"] for r in source.rows() if r["metric"] == args.metric and r["fold"] is None]
        print(f"{args.dataset}: {len(values)} seeds of sgd {args.sgd_params}, {args.metric} mean {np.mean(values):.4f}, "
              f"sd across seeds {np.std(values, ddof=1):.4f} (trained in {trained:.0f} s)")
        counts = {(mode, what): 0 for mode in (True, False) for what in ("trip", "either", "power")}
        shares = []
        for p in range(args.pairs):
            first = list(range(2 * p * args.seeds, (2 * p + 1) * args.seeds))
            second = list(range((2 * p + 1) * args.seeds, (2 * p + 2) * args.seeds))
            a = subset(source, work / "pairs", f"a{p}", first)
            b = subset(source, work / "pairs", f"b{p}", second)
            worse = subset(source, work / "pairs", f"w{p}", second, worse=args.worse, seed=p)
            for mode in (True, False):
                trip, either, share = gate(a, b, args.metric, args.samples, mode)
                counts[(mode, "trip")] += trip
                counts[(mode, "either")] += either
                counts[(mode, "power")] += gate(a, worse, args.metric, args.samples, mode)[0]
                if mode:
                    shares.append(share)
        elapsed = time.perf_counter() - start
    n = args.pairs

    def rate(k: int) -> str:
        p = k / n
        return f"{k:>2}/{n} = {100 * p:5.1f}% (+-{100 * np.sqrt(max(p * (1 - p), 1 / n) / n):.1f})"

    print(f"{n} pairs of runs with {args.seeds} disjoint seeds each; {args.samples} resamples; alpha 0.05; "
          f"mean seed share of the Δ variance {100 * np.mean(shares):.0f}%")
    print(f"{'inference':<14} {'gate trips (same recipe)':<28} {'Δ significant either way':<28} "
          f"{f'gate trips, {args.worse:.0%} worse':<28}")
    for mode, label in ((True, "items + seeds"), (False, "items only")):
        print(f"{label:<14} {rate(counts[(mode, 'trip')]):<28} {rate(counts[(mode, 'either')]):<28} "
              f"{rate(counts[(mode, 'power')]):<28}")
    print(f"({elapsed:.0f} s in all)")


if __name__ == "__main__":
    main()
