"""The report's drift curve: each system's score per time window of a drift run, with its CI.

The points are the metric rows with ``window`` set (``evaluation.drift``, docs/results.md):
one model per job, trained before ``train_before``, scored on each later window. With one
seed a point's band is the bootstrap CI over the window's items stored with the row; with
several seeds the point is the seed mean and has no band, since averaging the seeds' bounds
is not an interval of the mean (the run table leaves it out for the same reason). A window
with too few items (``value: null``) gets no point and is named in the caption. The dashed
line is the system's score on all test items.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.report.figure import Plot, new_figure, safe_name, set_margins, text_inches, to_png

if TYPE_CHECKING:
    from bench.report.collect import DatasetView, ReportData, SystemView

__all__ = ["drift_curve", "drift_points"]


def drift_points(data: ReportData, system: SystemView) -> tuple[list[tuple[str, float | None, float, float, int]],
                                                                float | None]:
    """``(window, value, ci_low, ci_high, n)`` per window in time order, and the score on all test items.

    ``value`` is ``None`` for a window with too few items; the bounds are NaN without a CI.
    """
    rows = [r for r in data.runs[system.run_index].rows()
            if r.get("dataset") == system.key.dataset and r.get("features") == system.key.features
            and r.get("model") == system.key.model and r.get("metric") == data.metric
            and r.get("fold") is None and r.get("target") is None and "window" in r]
    by_window: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_window[row["window"]].append(row)
    points = []
    for window in sorted(w for w in by_window if w is not None):
        seeds = by_window[window]
        values = [r["value"] for r in seeds]
        if any(v is None for v in values):
            points.append((window, None, math.nan, math.nan, int(seeds[0]["n"])))
            continue
        one = len(seeds) == 1 and seeds[0]["ci_low"] is not None
        points.append((window, float(np.mean(values)), float(seeds[0]["ci_low"]) if one else math.nan,
                       float(seeds[0]["ci_high"]) if one else math.nan, int(seeds[0]["n"])))
    pooled = [r["value"] for r in by_window.get(None, []) if r["value"] is not None]
    return points, float(np.mean(pooled)) if pooled else None


def drift_curve(data: ReportData, ds: DatasetView) -> Plot | None:
    """Score against time window for every system of a drift run on ``ds``; ``None`` without drift rows."""
    curves = {s: drift_points(data, s) for s in ds.systems}
    curves = {s: c for s, c in curves.items() if c[0]}
    if not curves:
        return None
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(curves) <= 10 else "tab20"]
    colors = [cmap(i % cmap.N) for i in range(len(curves))]
    boot = (data.runs[next(iter(curves)).run_index].manifest.get("evaluation") or {}).get("bootstrap") or {}
    level = f"{float(boot.get('confidence', 0.95)):.0%}"
    windows = sorted({p[0] for points, _ in curves.values() for p in points})
    labels = [s.label for s in curves]
    if len({s.run for s in curves}) == 1:
        labels = [f"{s.key.features}/{s.key.model}" for s in curves]
    legend_in = text_inches(labels, 7) + 0.5
    fig = new_figure(max(6.0, 0.55 * len(windows) + 2.5) + legend_in, 3.8)
    set_margins(fig, 0.65, legend_in, 0.75, 0.35)
    ax = fig.subplots()
    x_of = {w: i for i, w in enumerate(windows)}
    sparse: dict[str, int] = {}
    for color, label, (points, pooled) in zip(colors, labels, curves.values()):
        shown = [p for p in points if p[1] is not None]
        sparse.update({p[0]: p[4] for p in points if p[1] is None})
        x = np.array([x_of[p[0]] for p in shown], dtype=np.float64)
        y, lo, hi = (np.array([p[k] for p in shown], dtype=np.float64) for k in (1, 2, 3))
        ax.plot(x, y, "o-", color=color, label=label, markersize=4)
        if np.isfinite(lo).any():
            ax.fill_between(x, lo, hi, color=color, alpha=0.15)
        if pooled is not None:
            ax.axhline(pooled, color=color, linestyle="--", linewidth=0.8, alpha=0.7)
    ax.set_xticks(range(len(windows)), windows, rotation=45 if len(windows) > 8 else 0, fontsize=7)
    ax.set_xlabel("test window")
    ax.set_ylabel(data.metric)
    ax.set_title(f"{ds.name}: {data.metric} over time")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(alpha=0.3)
    note = ""
    if sparse:
        listed = ", ".join(f"{w} (n={n})" for w, n in sorted(sparse.items()))
        note = f" Windows with too few items for a score (evaluation.drift.min_items) have no point: {listed}."
    return Plot(name=f"drift-{safe_name(ds.name)}", title=f"{ds.name}: score over time",
                caption="Each system trained once on the items dated before evaluation.drift.train_before and scored "
                f"on each later window; bands are the {level} bootstrap CIs over the window's items (one seed; with "
                "several, the seed mean without a band); dashed: the score on all test items." + note,
                png=to_png(fig))
