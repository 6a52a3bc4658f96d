"""One self-contained HTML page: inline CSS, figures as base64 PNG, no script, no fetch.

The page opens offline in any browser and can be mailed as one file: it references no
URL at all (images are ``data:`` URIs; links are in-page anchors, plus a relative link to
each figure's PNG beside the report). Every item id mentioned in the error analysis links
to an anchor in the *Items* appendix, which shows the item's text and every system's
prediction. The markup is in ``templates/*.html.j2``, where jinja2 escapes all text from
runs and datasets; this module only gathers what each section shows.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bench.compare.slices import MIN_ITEMS, SliceRow
from bench.core.version import __version__
from bench.report.collect import DatasetView, ReportData, short_labels
from bench.report.errors import ErrorAnalysis, label_strings
from bench.report.figure import Plot, safe_name

SNIPPET_CHARS = 160
ITEM_CHARS = 2000
ITEM_FIELDS = ("target", "title", "source", "language", "date")
SECTIONS = (("runs", "Runs"), ("datasets", "Datasets"), ("comparison", "Comparison"), ("plots", "Plots"),
            ("errors", "Error analysis"), ("slices", "Slices"), ("probes", "Robustness probes"), ("items", "Items"))


@dataclass(frozen=True, kw_only=True)
class RunView:
    """A run as the *Runs* table shows it, with its config and library versions below."""

    label: str
    baseline: bool
    run_id: str
    status: str
    created: str
    commit: str
    seeds: str
    jobs: str
    datasets: str
    command: str
    config: str
    versions: str


@dataclass(frozen=True, kw_only=True)
class ItemView:
    """An item the error analysis names: a link and a snippet in its tables, a card under *Items*.

    Attributes:
        anchor: the id of the item's card, which every link to it points at.
        target: the stance target shown before the snippet (``""``: none).
        snippet: the start of the text (``""``: the text is not available).
        text: the text as the card shows it.
        facts: (name, value): the gold label, then the item's own fields.
        predictions: (system, predicted label, whether it is right).
    """

    id: str
    anchor: str
    target: str
    snippet: str
    text: str
    facts: tuple[tuple[str, str], ...]
    predictions: tuple[tuple[str, str, bool], ...]


@dataclass(frozen=True, kw_only=True)
class SliceTable:
    """One dimension of a dataset's slices: (group, items, cells) rows, a cell per system.

    A cell is the metric with its CI, ``""`` when the system has no such group, ``None``
    when the group is too small to give a number.
    """

    dimension: str
    systems: tuple[str, ...]
    rows: tuple[tuple[str, int, tuple[str | None, ...]], ...]


def item_anchor(dataset: str, item_id: str) -> str:
    """A unique, URL-safe anchor for an item (ids may hold any character)."""
    digest = hashlib.sha1(f"{dataset}\0{item_id}".encode()).hexdigest()[:8]
    return f"item-{safe_name(dataset)}-{safe_name(item_id)[:40]}-{digest}"


def _text(ds: DatasetView, item_id: str, limit: int) -> str:
    if ds.items is None or item_id not in ds.items.index:
        return ""
    text = re.sub(r"\s+", " ", str(ds.items.at[item_id, "text"])).strip()
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _blank_if_none(value: object) -> str:
    return "" if value is None else str(value)


def _runs(data: ReportData) -> list[RunView]:
    out = []
    for label, run in zip(data.run_labels, data.runs):
        m = run.manifest
        git = m.get("git") or {}
        try:
            config = (run.path / "config.yaml").read_text(encoding="utf-8")
        except OSError:
            config = "(config.yaml missing)"
        out.append(RunView(
            label=label, baseline=label == data.run_labels[data.comparison.baseline], run_id=run.run_id,
            status=_blank_if_none(m.get("status")), created=_blank_if_none(m.get("created")),
            commit=str(git.get("commit") or "unknown")[:12] + (" (dirty)" if git.get("dirty") else ""),
            seeds=", ".join(map(str, m.get("seeds") or [])),
            jobs=f"{len(run.finished_jobs())}/{len(m.get('jobs') or {})}", datasets=", ".join(m.get("datasets") or {}),
            command=" ".join(map(str, m.get("command") or [])), config=config,
            versions=", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())))
    return out


def _predictions(ds: DatasetView, names: Sequence[str], item_id: str) -> tuple[str, list[tuple[str, str, bool]]]:
    """The gold label (``""`` when no system has the item) and each system's vote on it."""
    gold, out = "", []
    for system, name in zip(ds.systems, names):
        o = system.outputs
        pos = int(np.searchsorted(o.ids, item_id))
        if pos >= o.n_items or o.ids[pos] != item_id:
            continue
        gold = label_strings(o.gold[pos:pos + 1], o.labels, o.multilabel)[0]
        pred = label_strings(o.vote()[pos:pos + 1], o.labels, o.multilabel)[0]
        out.append((name, pred, pred == gold))
    return gold, out


def _items(ds: DatasetView, ids: Sequence[str]) -> dict[str, ItemView]:
    """The items the error analysis of ``ds`` names, by id, in the order it names them."""
    names = short_labels(ds.systems)
    out = {}
    for item_id in ids:
        row = ds.items.loc[item_id] if ds.items is not None and item_id in ds.items.index else None
        target = row["target"] if row is not None and "target" in ds.items.columns else ""
        gold, predictions = _predictions(ds, names, item_id)
        facts = [("gold", gold)] if gold else []
        if row is not None:
            facts += [(f, str(row[f])) for f in ITEM_FIELDS if f in ds.items.columns and row[f]]
        out[item_id] = ItemView(
            id=item_id, anchor=item_anchor(ds.name, item_id), target=target if isinstance(target, str) else "",
            snippet=_text(ds, item_id, SNIPPET_CHARS), text=_text(ds, item_id, ITEM_CHARS) or "(text not available)",
            facts=tuple(facts), predictions=tuple(predictions))
    return out


def _slice_tables(rows: Sequence[SliceRow]) -> list[SliceTable]:
    out = []
    for dimension in dict.fromkeys(r.dimension for r in rows):
        part = [r for r in rows if r.dimension == dimension]
        systems = tuple(dict.fromkeys(r.system for r in part))
        cell = {(r.group, r.system): r for r in part}
        n = {r.group: r.n_items for r in part}
        table = []
        for g in dict.fromkeys(r.group for r in part):
            cells = [cell.get((g, s)) for s in systems]
            table.append((g, n[g], tuple("" if r is None else None if r.too_small else
                                         f"{_num(r.value)} [{_num(r.ci_low)}, {_num(r.ci_high)}]" for r in cells)))
        out.append(SliceTable(dimension=dimension, systems=systems, rows=tuple(table)))
    return out


def render_page(data: ReportData, plots: Mapping[str, Sequence[Plot]], analyses: Mapping[str, ErrorAnalysis],
                slices: Mapping[str, Sequence[SliceRow]], plots_dir: str) -> str:
    """The whole page as a string."""
    from bench.compare import html_table, notes
    from bench.core.templating import render

    figures = {group: [(p, base64.b64encode(p.png).decode("ascii")) for p in group_plots]
               for group, group_plots in plots.items()}
    items = {ds.name: _items(ds, analyses[ds.name].item_ids()) for ds in data.datasets}
    return str(render("bench.report", "page.html.j2", data=data, c=data.comparison, version=__version__,
                      sections=SECTIONS, runs=_runs(data), table=html_table(data.comparison),
                      notes=notes(data.comparison), figures=figures, plots_dir=plots_dir, analyses=analyses,
                      items=items, slices={ds.name: _slice_tables(slices.get(ds.name, [])) for ds in data.datasets},
                      min_items=MIN_ITEMS))
