"""How long `bench compare` takes on two runs of 100k predictions each, 10,000 bootstrap samples.

Writes two simulated run folders (4 labels, one seed each; and a 3-seed variant) in a
temporary folder, then times `bench compare A B --samples 10000` end to end in a fresh
process (imports, reading parquet, pairing, the joint bootstrap, the table), and the same
comparison in-process. Prints the seconds and the ratio to the 2 s target.

    python benchmarks/compare_speed.py [--n 100000] [--samples 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from run_factory import gold_labels, simulated_job, write_run  # noqa: E402

TARGET_SECONDS = 2.0


def _runs(root: Path, n: int, seeds: tuple[int, ...]) -> list[Path]:
    rng = np.random.default_rng(0)
    gold = gold_labels(rng, n)
    return [write_run(root, name, [simulated_job(rng, dataset="news", model="logreg", seed=s, gold=gold,
                                                 accuracy=acc) for s in seeds], samples=10)
            for name, acc in (("baseline", 0.80), ("candidate", 0.81))]


def _cli_seconds(paths: list[Path], samples: int) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bench", "compare", *map(str, paths), "--samples", str(samples)],
                          capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"bench compare failed: {done.stderr.strip()}")
    return seconds


def _api_seconds(paths: list[Path], samples: int) -> float:
    from bench.compare import CompareOptions, compare_runs, render
    from bench.store import RunDir

    start = time.perf_counter()
    render(compare_runs([RunDir.open(p) for p in paths], CompareOptions(samples=samples)), "md")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for seeds in ((0,), (0, 1, 2)):
            root = Path(tmp) / f"s{len(seeds)}"
            paths = _runs(root, args.n, seeds)
            cli = min(_cli_seconds(paths, args.samples) for _ in range(args.repeat))
            api = min(_api_seconds(paths, args.samples) for _ in range(args.repeat))
            print(f"{args.n} items x 2 runs x {len(seeds)} seed(s), {args.samples} resamples: "
                  f"bench compare {cli:.2f} s end to end (target {TARGET_SECONDS:.0f} s, "
                  f"{cli / TARGET_SECONDS:.2f} of it); in-process {api:.2f} s; best of {args.repeat}")


if __name__ == "__main__":
    main()
