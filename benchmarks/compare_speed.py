"""How long `bench compare` takes on two runs of 100k predictions each, 10,000 bootstrap samples.

Writes two simulated run folders (4 labels; one seed each, then two 3-seed variants) in a
temporary folder, then times `bench compare A B --samples 10000` end to end in a fresh
process (imports, reading parquet, pairing, the joint bootstrap, the table), and the same
comparison in-process. Prints the seconds and the ratio to the 2 s target.

    python benchmarks/compare_speed.py [--n 100000] [--samples 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from run_factory import Job, gold_labels, simulated_job, write_run  # noqa: E402

TARGET_SECONDS = 2.0


def _runs(root: Path, n: int, seeds: int, flip: float | None) -> list[Path]:
    """Two runs on the same ``n`` items; ``flip``: share of items each seed changes from a shared
    base prediction (seeds of one model mostly agree), ``None``: independent seeds (worst case)."""
    rng = np.random.default_rng(0)
    gold = gold_labels(rng, n)
    paths = []
    for name, acc in (("baseline", 0.80), ("candidate", 0.81)):
        base = simulated_job(rng, dataset="news", model="logreg", seed=0, gold=gold, accuracy=acc)
        jobs = []
        for seed in range(seeds):
            job = simulated_job(rng, dataset="news", model="logreg", seed=seed, gold=gold, accuracy=acc)
            if flip is not None:
                keep = rng.random(n) >= flip
                job = Job(**{**job.__dict__, "pred": list(np.where(keep, base.pred, job.pred))})
            jobs.append(job)
        paths.append(write_run(root, name, jobs, samples=10))
    return paths


def _cli_seconds(paths: list[Path], samples: int) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one `bench compare` process.

    CPU time is reported too because wall time on a shared 2-core machine includes waiting
    for the CPU when other work runs.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench", "compare", *map(str, paths), "--samples", str(samples)],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"bench compare failed: {done.stderr.strip()}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _api_seconds(paths: list[Path], samples: int) -> float:
    from bench.compare import CompareOptions, compare_runs, render
    from bench.results.store import RunDir

    start = time.perf_counter()
    render(compare_runs([RunDir.open(p) for p in paths], CompareOptions(samples=samples)), "md")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenarios = (("1 seed", 1, None), ("3 seeds, each changing 3% of a shared prediction", 3, 0.03),
                 ("3 independent seeds (worst case)", 3, None))
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, seeds, flip) in enumerate(scenarios):
            paths = _runs(Path(tmp) / str(i), args.n, seeds, flip)
            cli, cpu = min(_cli_seconds(paths, args.samples) for _ in range(args.repeat))
            api = min(_api_seconds(paths, args.samples) for _ in range(args.repeat))
            print(f"{args.n} items x 2 runs, {label}, {args.samples} resamples: bench compare {cli:.2f} s end to "
                  f"end, {cpu:.2f} s CPU ({cli / TARGET_SECONDS:.2f} x the {TARGET_SECONDS:.0f} s target); "
                  f"compare_runs in-process {api:.2f} s; best of {args.repeat}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
