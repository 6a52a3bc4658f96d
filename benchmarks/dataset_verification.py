"""Cost of checking a built dataset against its fingerprint (``bench.corpus.verify``).

For each dataset spec given: build it (or reuse the build) under ``--data``, then time, in
this process, the median of ``--repeat`` calls of

* opening it without any check (``stats.json`` only: what ``open_dataset`` did before);
* ``open_dataset`` with the cheap check (sizes and modification times of the split files);
* ``open_dataset(verify=True)`` (every row hashed again, as ``bench run --verify`` does);
* reading every split with ``load_split`` (what a run reads anyway), for scale.

    python benchmarks/dataset_verification.py configs/datasets/demo-topic.yaml \\
        configs/datasets/fnc1.yaml [--data data] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.corpus import _from_stats, _read_stats, build_dataset, load_split, open_dataset


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'dataset':<16} {'rows':>8} {'no check':>10} {'cheap':>10} {'--verify':>10} {'read splits':>12}")
    for spec in args.specs:
        built = build_dataset(spec, args.data)
        folder = built.dataset.path
        plain = median_seconds(lambda: _from_stats(folder, _read_stats(folder)), args.repeat)
        cheap = median_seconds(lambda: open_dataset(folder), args.repeat)
        full = median_seconds(lambda: open_dataset(folder, verify=True), args.repeat)
        ds = open_dataset(folder)
        read = median_seconds(lambda: [load_split(ds, split) for split in ds.splits], args.repeat)
        print(f"{ds.name:<16} {built.n_rows:>8,} {plain * 1e3:>8.2f}ms {cheap * 1e3:>8.2f}ms "
              f"{full:>9.3f}s {read:>11.3f}s")


if __name__ == "__main__":
    main()
