"""How long `bench report` takes, and how big the page is, for 3 runs on 2 datasets.

Targets (issue 6): the report of a 3-run, 2-dataset comparison is under 5 MB and written in
under 10 s on 2 cores. Without --runs, the script makes the three runs first with `bench run
configs/demo.yaml` (the bundled corpus: topic and stance, 2 feature blocks x 4 models x 3
seeds = 48 jobs per run) in a temporary folder: the base config, logistic regression with
C=1, and unigram word features. It then times `bench report RUN RUN RUN -o FILE` end to end
in a fresh process (imports, the comparison with 10,000 resamples, 9 figures, error analysis,
slices, writing), --repeat times, and prints wall and CPU seconds, the page size, and their
ratios to the targets. The in-process split of one report into its steps follows.

    python benchmarks/report_speed.py [--runs RUN RUN RUN] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0
TARGET_BYTES = 5 * 1024 * 1024
VARIANTS = ((), ("name=demo-c1", "models.2.params.C=1.0"),
            ("name=demo-unigram", "features.0.params.ngram_range=[1, 1]"))


def make_runs(root: Path) -> list[Path]:
    """Three runs of the demo config (about a minute each on 2 cores)."""
    runs = []
    for overrides in VARIANTS:
        args = [sys.executable, "-m", "bench", "run", str(REPO / "configs" / "demo.yaml"), "--quiet", "--jobs", "2",
                "--results", str(root / "results"), "--data", str(root / "data")]
        for override in overrides:
            args += ["--set", override]
        done = subprocess.run(args, capture_output=True, text=True, check=True, cwd=REPO)
        runs.append(Path(done.stdout.strip().splitlines()[-1]))
        print(f"made {runs[-1].name}", file=sys.stderr)
    return runs


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_cli(runs: list[Path], out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `bench report` in a fresh process."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "bench", "report", *map(str, runs), "-o", str(out)],
                   capture_output=True, text=True, check=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def steps(runs: list[Path]) -> list[tuple[str, float, float]]:
    """Wall and CPU seconds (this process and its workers) of each step of one report."""
    from bench.report import ReportOptions, _slices
    from bench.report.collect import collect
    from bench.report.errors import analyse
    from bench.report.html import render_page
    from bench.report.plots import all_plots
    from bench.results.store import RunDir

    out = []
    wall, cpu = time.perf_counter(), time.process_time() + _children_cpu()

    def lap(name: str) -> None:
        nonlocal wall, cpu
        now_wall, now_cpu = time.perf_counter(), time.process_time() + _children_cpu()
        out.append((name, now_wall - wall, now_cpu - cpu))
        wall, cpu = now_wall, now_cpu

    options = ReportOptions()
    data = collect([RunDir.open(r) for r in runs], options)
    lap("compare and read runs and datasets")
    plots = all_plots(data)
    lap(f"draw {sum(len(g) for g in plots.values())} figures (2 worker processes)")
    analyses = {ds.name: analyse(ds) for ds in data.datasets}
    lap("error analysis")
    slices = _slices(data)
    lap("slices")
    render_page(data, plots, analyses, slices, "report_plots")
    lap("HTML")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs=3, type=Path, metavar="RUN", help="three existing run folders")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="make the runs here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = args.runs or make_runs(args.keep or Path(tmp))
        out = Path(tmp) / "report.html"
        times = [time_cli(runs, out) for _ in range(args.repeat)]
        size = out.stat().st_size
        png = sum(p.stat().st_size for p in (Path(tmp) / "report_plots").glob("*.png"))
        n_png = len(list((Path(tmp) / "report_plots").glob("*.png")))
        best_wall, best_cpu = min(t[0] for t in times), min(t[1] for t in times)
        print(f"bench report of {', '.join(p.name for p in runs)}")
        print(f"wall seconds: {', '.join(f'{t[0]:.2f}' for t in times)}  (best {best_wall:.2f}; "
              f"{best_wall / TARGET_SECONDS:.2f} of the {TARGET_SECONDS:.0f} s target)")
        print(f"CPU seconds:  {', '.join(f'{t[1]:.2f}' for t in times)}  (best {best_cpu:.2f})")
        print(f"page: {size / 1e6:.2f} MB ({size / TARGET_BYTES:.2f} of the 5 MB target); "
              f"{n_png} PNGs beside it: {png / 1e6:.2f} MB")
        print("one report in this process (imports done), step by step:")
        for name, wall, cpu in steps(runs):
            print(f"  {name}: {wall:.2f} s wall, {cpu:.2f} s CPU")


if __name__ == "__main__":
    main()
