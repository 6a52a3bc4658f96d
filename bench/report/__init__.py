"""``bench report``: runs -> one self-contained HTML page with plots, error analysis and slices.

``write_report(run_dirs, out_path)`` compares the runs (``bench.compare``), draws the
figures (``bench.report.plots``), analyses the errors (``bench.report.errors``), slices
the test items (``bench.compare.slices``) and writes ``out_path`` plus every figure as a PNG in
``<stem>_plots/`` beside it. Both are written atomically: the PNG folder is built under a
temporary name and swapped in, then the page is written through a temporary file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.core.files import swap_folder, write_bytes, write_text
from bench.report.collect import ReportData, ReportOptions

if TYPE_CHECKING:
    from bench.report.figure import Plot

CONFIDENT_SYSTEMS = 5  # the most confident errors of the best 5 systems of each dataset

__all__ = ["ReportData", "ReportOptions", "build_report", "plots_folder", "write_report"]


def plots_folder(out_path: Path) -> Path:
    """Where the PNGs of the report ``out_path`` go: ``<stem>_plots/`` beside it."""
    return out_path.with_name(f"{out_path.stem}_plots")


def _slices(data: ReportData) -> dict[str, list]:
    from bench.report.collect import short_labels
    from bench.compare.slices import DIMENSIONS, item_groups, slice_metrics

    out: dict[str, list] = {}
    o = data.options
    for ds in data.datasets:
        rows: list = []
        if ds.items is not None:
            names = short_labels(ds.systems)
            for dimension in DIMENSIONS:
                groups = item_groups(ds.items, dimension)
                if groups is None:
                    continue
                for system, name in zip(ds.systems, names):
                    rows += slice_metrics(system.outputs, groups, system=name, dimension=dimension,
                                          metric=data.metric, samples=o.slice_samples, confidence=o.confidence,
                                          seed=o.seed)
        out[ds.name] = rows
    return out


def build_report(run_dirs: Sequence[str | Path], options: ReportOptions,
                 plots_dir: str) -> tuple[str, list[Plot], ReportData]:
    """The page, its plots and the data they show, nothing written."""
    from bench.report.collect import best_systems, collect
    from bench.report.errors import analyse
    from bench.report.html import render_page
    from bench.report.plots import all_plots
    from bench.results.store import RunDir

    runs = [RunDir.open(path) for path in run_dirs]
    data = collect(runs, options)
    plots = all_plots(data)
    analyses = {ds.name: analyse(ds, options.top, best_systems(data, [s for s in ds.systems if not s.is_majority],
                                                               CONFIDENT_SYSTEMS)) for ds in data.datasets}
    page = render_page(data, plots, analyses, _slices(data), plots_dir)
    return page, [p for group in plots.values() for p in group], data


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_report(run_dirs: Sequence[str | Path], out_path: str | Path, options: ReportOptions | None = None,
                 warn: Callable[[str], None] | None = None) -> Path:
    """Write the report of ``run_dirs`` to ``out_path`` and its PNGs beside it; returns ``out_path``.

    ``warn`` receives each warning shown at the top of the page (e.g. a dataset not found).

    Raises:
        ResultsError: a run cannot be read, or the runs cannot be compared.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    folder = plots_folder(out_path)
    page, plots, data = build_report(run_dirs, options or ReportOptions(), folder.name)
    tmp = Path(tempfile.mkdtemp(dir=out_path.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    try:
        for plot in plots:
            write_bytes(tmp / f"{plot.name}.png", plot.png)
        os.chmod(tmp, 0o777 & ~_umask())
        swap_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_text(out_path, page)
    for warning in data.warnings if warn else ():
        warn(warning)
    return out_path
