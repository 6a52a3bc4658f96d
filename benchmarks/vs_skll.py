"""newsbench against SKLL, the closest config-driven peer, on the same grid side by side.

The grid: BBC News (the ``train`` split of configs/datasets/bbc.yaml, 1,674 articles), tf-idf
word 1-2-grams (``min_df: 2``, sublinear tf), five learners both tools offer with the same
parameters (logistic regression by saga, linear SVM, multinomial naive Bayes, ridge, SGD with
log loss; random_state 0 wherever the estimator has one), 5-fold stratified cross-validation
on the **same folds**: newsbench's folds (``cv: {folds: 5, seed: 0}``) are written to a SKLL
``folds_file``.

What each side does, as its users run it (both as fresh processes, start-up included):

- newsbench: ``bench run`` on a config; it fits the tf-idf vectorizer inside each fold on the
  fold's training rows only, computes 95% bootstrap CIs (1000 resamples) for every metric, and
  writes predictions and results; ``--jobs`` worker processes (default 1: one process, like SKLL).
- SKLL: ``run_experiment -l`` (local) on a ``cross_validate`` config; SKLL takes feature
  files, not text, so the features are extracted once beforehand on all 1,674 articles (not
  timed; the time is printed apart) and SKLL reads them from a JSON Lines feature file (once
  per learner: SKLL runs each learner as its own job). No CIs.

Each repetition runs newsbench then SKLL, one right after the other, so machine load hits both
alike; medians of wall and of CPU seconds (process and children) are compared; on a shared
machine the CPU ratio is the steadier one. Accuracy per learner is pooled over the out-of-fold predictions
on both sides (SKLL's from its saved CV predictions). With ``--tuned``, the tuned grid: linear
SVM with C in SKLL's default grid (0.01 ... 100) chosen by 3-fold inner CV on accuracy in
each outer fold; newsbench's ``tune:`` against SKLL's grid search, per model fit (both make
5 x (3 x 5 + 1) = 80 fits).

SKLL pins an older scikit-learn (SKLL 5.1.0: scikit-learn >=1.5,<1.6), so it lives in its own
virtualenv, outside the repository: ``--create-venv`` makes it (``python -m venv DIR`` and
``DIR/bin/pip install skll==5.1.0``), ``--skll-venv DIR`` says where (default
``~/.cache/newsbench/skll-venv``). Needs ``NEWSBENCH_DATA`` (the BBC News CSV under
``$NEWSBENCH_DATA/bbc_news``).

    python benchmarks/vs_skll.py [--skll-venv DIR] [--create-venv] [--repeat 3] [--jobs 1]
                                 [--tuned] [--work DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKLL_VERSION = "5.1.0"
TARGET = 0.5
WORD = {"ngram_range": [1, 2], "sublinear_tf": True, "min_df": 2}
# (newsbench name, newsbench estimator, SKLL learner, parameters given to both)
LEARNERS = (
    ("logreg", "logistic_regression", "LogisticRegression", {"solver": "saga", "max_iter": 1000, "random_state": 0}),
    ("svm", "linear_svc", "LinearSVC", {"C": 1.0, "random_state": 0}),
    ("mnb", "multinomial_nb", "MultinomialNB", {"alpha": 0.1}),
    ("ridge", "ridge", "RidgeClassifier", {}),
    ("sgd", "sgd", "SGDClassifier", {"loss": "log_loss", "max_iter": 1000, "tol": 0.001, "random_state": 0}),
)
C_GRID = [0.01, 0.1, 1.0, 10.0, 100.0]  # SKLL's default grid for LinearSVC
TUNED_FITS = 5 * (3 * len(C_GRID) + 1)


def _newsbench_config(path: Path, *, tuned: bool) -> None:
    import yaml

    def model(name: str, estimator: str, params: dict) -> dict:
        params = {k: v for k, v in params.items() if k != "random_state"}  # newsbench passes the seed
        return {"name": name, "estimator": estimator, "params": params}

    if tuned:
        models = [{"name": "svm", "estimator": "linear_svc",
                   "tune": {"params": {"C": C_GRID}, "folds": 3, "metric": "accuracy"}}]
    else:
        models = [model(n, e, p) for n, e, _, p in LEARNERS]
    config = {"name": "bbc-vs-skll" + ("-tuned" if tuned else ""),
              "datasets": [str(ROOT / "configs/datasets/bbc.yaml")],
              "features": [{"name": "word", "kind": "tfidf", "params": WORD}],
              "models": models, "seeds": [0],
              "evaluation": {"train": "train", "cv": {"folds": 5, "by": "label", "seed": 0},
                             "metrics": ["accuracy", "f1_macro"]}}
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _bench(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "bench", *args], check=True, env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def _prepare(work: Path, env: dict[str, str]) -> tuple[dict[str, str], float]:
    """Build the dataset, write SKLL's feature and folds files; the gold label of every id and the
    seconds the one-off feature extraction took."""
    _bench("data", "build", str(ROOT / "configs/datasets/bbc.yaml"), "--data", str(work / "data"), env=env)
    sys.path.insert(0, str(ROOT))
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bench.corpus import load_split, open_dataset
    from bench.run.units import cv_test_indices
    from bench.run.validate import load_config

    config = load_config(work / "newsbench.yaml")
    ds = open_dataset(work / "data" / "bbc")
    frame = load_split(ds, "train")
    with open(work / "folds.csv", "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["id", "fold"])
        for i, rows in enumerate(cv_test_indices(frame, ds, config.config.evaluation)):
            out.writerows([frame["id"].iloc[r], i] for r in rows)
    start = time.perf_counter()
    vec = TfidfVectorizer(**{k: tuple(v) if isinstance(v, list) else v for k, v in WORD.items()})
    X = vec.fit_transform(frame["text"]).tocsr()
    terms = vec.get_feature_names_out()
    with open(work / "features.jsonlines", "w") as fh:
        for r, (doc_id, label) in enumerate(zip(frame["id"], frame["label"])):
            row = X[r]
            fh.write(json.dumps({"id": doc_id, "y": label,
                                 "x": {terms[j]: float(v) for j, v in zip(row.indices, row.data)}}) + "\n")
    return dict(zip(frame["id"], frame["label"])), time.perf_counter() - start


def _skll_config(work: Path, out: Path, *, tuned: bool) -> Path:
    learners = [("LinearSVC", {"random_state": 0})] if tuned else [(s, p) for _, _, s, p in LEARNERS]
    lines = ["[General]", f"experiment_name = bbc{'_tuned' if tuned else ''}", "task = cross_validate",
             "[Input]", f"train_file = {work / 'features.jsonlines'}", f"folds_file = {work / 'folds.csv'}",
             f"learners = {json.dumps([name for name, _ in learners])}",
             f"fixed_parameters = {json.dumps([params for _, params in learners])}",
             "[Tuning]", f"grid_search = {tuned}"]
    if tuned:
        lines += [f"param_grids = {json.dumps([{'C': C_GRID}])}", "grid_search_folds = 3",
                  "use_folds_file_for_grid_search = false", 'objectives = ["accuracy"]', "grid_search_jobs = 1"]
    lines += ["[Output]", 'metrics = ["accuracy"]', "save_cv_folds = false",
              f"results = {out}", f"predictions = {out}", f"logs = {out}"]
    path = out.with_suffix(".cfg")
    out.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (of the process and its children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"vs_skll: {' '.join(cmd[:3])}... failed:\n{done.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _newsbench_accuracy(results: Path) -> dict[str, float]:
    (run,) = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    rows = json.loads((run / "metrics.json").read_text())["rows"]
    return {r["model"]: r["value"] for r in rows if r["metric"] == "accuracy" and r["fold"] is None and r["target"] is None}


def _skll_accuracy(out: Path, gold: dict[str, str], skll_name: str) -> float:
    (path,) = out.glob(f"*_{skll_name}_predictions.tsv")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return sum(gold[r["id"]] == r["prediction"] for r in rows) / len(rows)


def _side_by_side(work: Path, env: dict[str, str], python: Path, gold: dict[str, str], *, tuned: bool,
                  repeat: int, jobs: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]], dict, dict]:
    tag = "tuned" if tuned else "grid"
    _newsbench_config(work / f"newsbench-{tag}.yaml", tuned=tuned)
    nb_times, skll_times, nb_acc, skll_acc = [], [], {}, {}
    run_experiment = python.parent / "run_experiment"
    for r in range(repeat):
        results = work / f"nb-{tag}-{r}"  # a fresh results folder: a cold feature cache every time
        nb_times.append(_timed([sys.executable, "-m", "bench", "run", str(work / f"newsbench-{tag}.yaml"),
                                "--data", str(work / "data"), "--results", str(results), "-q",
                                "--jobs", str(jobs)], env))
        out = work / f"skll-{tag}-{r}"
        skll_times.append(_timed([str(run_experiment), "-l", str(_skll_config(work, out, tuned=tuned))], env))
        print(f"  {tag} repetition {r + 1}: newsbench {nb_times[-1][0]:.1f} s, SKLL {skll_times[-1][0]:.1f} s",
              flush=True)
        nb_acc = _newsbench_accuracy(results)
        names = [("svm", "LinearSVC")] if tuned else [(n, s) for n, _, s, _ in LEARNERS]
        skll_acc = {n: _skll_accuracy(out, gold, s) for n, s in names}
    return nb_times, skll_times, nb_acc, skll_acc


def _report(title: str, nb: list[tuple[float, float]], skll: list[tuple[float, float]], per: int = 1) -> float:
    nb_wall, skll_wall = statistics.median(w for w, _ in nb), statistics.median(w for w, _ in skll)
    nb_cpu, skll_cpu = statistics.median(c for _, c in nb), statistics.median(c for _, c in skll)
    unit = "s" if per == 1 else "s per fit"
    print(f"{title}: newsbench {nb_wall / per:.3g} {unit} (CPU {nb_cpu / per:.3g}), "
          f"SKLL {skll_wall / per:.3g} {unit} (CPU {skll_cpu / per:.3g}); "
          f"ratio {nb_wall / skll_wall:.2f}x wall, {nb_cpu / skll_cpu:.2f}x CPU")
    return nb_wall / skll_wall


def _accuracies(nb: dict[str, float], skll: dict[str, float]) -> bool:
    print(f"  {'learner':<8} {'newsbench':>10} {'SKLL':>8} {'diff':>8}")
    for name in skll:
        print(f"  {name:<8} {nb[name]:>10.4f} {skll[name]:>8.4f} {nb[name] - skll[name]:>+8.4f}")
    return all(abs(nb[n] - skll[n]) <= 0.005 for n in skll)


def _create_venv(venv: Path) -> None:
    print(f"creating SKLL's virtualenv in {venv} (skll=={SKLL_VERSION})", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin/pip"), "install", "-q", f"skll=={SKLL_VERSION}"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skll-venv", type=Path, default=Path.home() / ".cache/newsbench/skll-venv")
    parser.add_argument("--create-venv", action="store_true", help="make the SKLL virtualenv if it is missing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1, help="newsbench worker processes (default 1, as SKLL runs locally)")
    parser.add_argument("--tuned", action="store_true", help="also the tuned grid, per model fit")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    if "NEWSBENCH_DATA" not in os.environ:
        sys.exit("vs_skll: set NEWSBENCH_DATA to the folder holding bbc_news/bbc_news.csv")
    python = args.skll_venv / "bin/python"
    if not python.exists():
        if not args.create_venv:
            sys.exit(f"vs_skll: no SKLL virtualenv at {args.skll_venv}; rerun with --create-venv to make it "
                     f"(python -m venv DIR && DIR/bin/pip install skll=={SKLL_VERSION}), or give --skll-venv DIR")
        _create_venv(args.skll_venv)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "HF_UPDATE_DOWNLOAD_COUNTS": "0", "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory(prefix="vs-skll-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        _newsbench_config(work / "newsbench.yaml", tuned=False)
        gold, extract = _prepare(work, env)
        version = subprocess.run([str(python), "-c", "import sklearn, skll.version as v; "
                                  "print(v.__version__, sklearn.__version__)"],
                                 capture_output=True, text=True, check=True).stdout.split()
        print(f"SKLL {version[0]} (scikit-learn {version[1]}); features for SKLL extracted once in "
              f"{extract:.1f} s (not timed below); newsbench --jobs {args.jobs}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f} at start")
        nb, skll, nb_acc, skll_acc = _side_by_side(work, env, python, gold, tuned=False, repeat=args.repeat,
                                                   jobs=args.jobs)
        ratio = _report("5 learners x 5 folds", nb, skll)
        same = _accuracies(nb_acc, skll_acc)
        print(f"  target <= {TARGET}x: {'met' if ratio <= TARGET else 'NOT met'}; "
              f"same accuracy (within 0.005): {same}")
        if args.tuned:
            nb, skll, nb_acc, skll_acc = _side_by_side(work, env, python, gold, tuned=True, repeat=args.repeat,
                                                       jobs=args.jobs)
            per_fit = _report(f"tuned linear SVM ({TUNED_FITS} fits)", nb, skll, per=TUNED_FITS)
            _accuracies(nb_acc, skll_acc)
            print(f"  target: newsbench no slower per fit: {'met' if per_fit <= 1 else 'NOT met'}")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
