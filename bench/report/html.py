"""One self-contained HTML page: inline CSS, figures as base64 PNG, no script, no fetch.

The page opens offline in any browser and can be mailed as one file: it references no
URL at all (images are ``data:`` URIs; links are in-page anchors, plus a relative link to
each figure's PNG beside the report). Every item id mentioned in the error analysis links
to an anchor in the *Items* appendix, which shows the item's text and every system's
prediction. All text from runs and datasets is HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Mapping, Sequence

import numpy as np

from bench.core.version import __version__
from bench.report.collect import DatasetView, ReportData, short_labels
from bench.report.errors import ErrorAnalysis, label_strings
from bench.report.figure import Plot, safe_name
from bench.compare.slices import MIN_ITEMS, SliceRow

SNIPPET_CHARS = 160
ITEM_CHARS = 2000
ITEM_FIELDS = ("target", "title", "source", "language", "date")

CSS = """
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:0 1.2em 3em;
color:#1f2328;line-height:1.45;font-size:14px}
h1{margin:.8em 0 .2em}h2{border-bottom:2px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.6em}nav ul{columns:2;padding-left:1.2em}
code,pre{font-family:"DejaVu Sans Mono",monospace;font-size:12px}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse;margin:.6em 0;font-size:12.5px}th,td{border:1px solid #d0d7de;padding:3px 7px;
vertical-align:top}th{background:#f6f8fa;text-align:left}td.num{text-align:right;white-space:nowrap}
.newsbench-compare td{white-space:nowrap}.small{color:#8a5a00;font-style:italic}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eaeef2}
figcaption{font-size:12.5px;color:#57606a;max-width:900px}.warning{background:#fff8c5;border:1px solid #d4a72c;
padding:.5em .8em}.item{border-top:1px solid #d0d7de;padding:.4em 0}.item p{max-width:900px}
.wide{overflow-x:auto}.ok{color:#1a7f37}.bad{color:#c62828}.muted{color:#57606a}details{margin:.4em 0}
"""


def esc(value: object) -> str:
    """Text for HTML (``None`` is an empty string)."""
    return "" if value is None else html.escape(str(value))


def item_anchor(dataset: str, item_id: str) -> str:
    """A unique, URL-safe anchor for an item (ids may hold any character)."""
    digest = hashlib.sha1(f"{dataset}\0{item_id}".encode()).hexdigest()[:8]
    return f"item-{safe_name(dataset)}-{safe_name(item_id)[:40]}-{digest}"


def item_link(dataset: str, item_id: str) -> str:
    return f'<a href="#{item_anchor(dataset, item_id)}">{esc(item_id)}</a>'


def _text(ds: DatasetView, item_id: str, limit: int) -> str:
    if ds.items is None or item_id not in ds.items.index:
        return ""
    text = re.sub(r"\s+", " ", str(ds.items.at[item_id, "text"])).strip()
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def _snippet(ds: DatasetView, item_id: str) -> str:
    text = _text(ds, item_id, SNIPPET_CHARS)
    target = ""
    if ds.items is not None and "target" in ds.items.columns and item_id in ds.items.index:
        value = ds.items.at[item_id, "target"]
        target = f"<b>[{esc(value)}]</b> " if isinstance(value, str) and value else ""
    return target + esc(text) if text else '<span class="muted">(text not available)</span>'


def _num(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """A table from already escaped cells."""
    out = ["<table><thead><tr>", *(f"<th>{h}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _runs(data: ReportData) -> str:
    rows, details = [], []
    for label, run in zip(data.run_labels, data.runs):
        m = run.manifest
        git = m.get("git") or {}
        commit = (str(git.get("commit") or "unknown")[:12]) + (" (dirty)" if git.get("dirty") else "")
        jobs = m.get("jobs") or {}
        rows.append([esc(label) + (" <b>(baseline)</b>" if label == data.run_labels[data.comparison.baseline] else ""),
                     f"<code>{esc(run.run_id)}</code>", esc(m.get("status")), esc(m.get("created")),
                     f"<code>{esc(commit)}</code>", esc(", ".join(map(str, m.get("seeds") or []))),
                     f"{len(run.finished_jobs())}/{len(jobs)}", esc(", ".join(m.get("datasets") or {})),
                     f"<code>{esc(' '.join(map(str, m.get('command') or [])))}</code>"])
        try:
            config = (run.path / "config.yaml").read_text(encoding="utf-8")
        except OSError:
            config = "(config.yaml missing)"
        versions = ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())
        details.append(f"<details><summary>{esc(label)}: config.yaml and versions</summary>"
                       f"<pre>{esc(config)}</pre><p class=\"muted\">{esc(versions)}</p></details>")
    head = ["run", "run id", "status", "created", "git commit", "seeds", "jobs", "datasets", "command"]
    return _table(head, rows) + "".join(details)


def _datasets(data: ReportData) -> str:
    rows, cards = [], []
    for ds in data.datasets:
        rows.append([esc(ds.name), esc(ds.task), esc(", ".join(ds.labels)), esc("yes" if ds.multilabel else "no"),
                     esc(ds.split), str(ds.n_items), f"<code>{esc(ds.fingerprint[:16])}</code>"])
        if ds.card:
            cards.append(f"<details><summary>{esc(ds.name)}: dataset card</summary><pre>{esc(ds.card)}</pre></details>")
    head = ["dataset", "task", "labels", "multi-label", "evaluated split", "items", "fingerprint"]
    return _table(head, rows, numeric=(5,)) + "".join(cards)


def _comparison(data: ReportData) -> str:
    from bench.compare import html_table, notes

    items = "".join(f"<li>{esc(n)}</li>" for n in notes(data.comparison))
    return f'<div class="wide">{html_table(data.comparison)}</div><ul class="newsbench-notes">{items}</ul>'


def _figure(plot: Plot, plots_dir: str) -> str:
    data = base64.b64encode(plot.png).decode("ascii")
    return (f'<figure id="fig-{esc(plot.name)}"><img src="data:image/png;base64,{data}" alt="{esc(plot.title)}" '
            f'data-plot="{esc(plot.name)}"><figcaption><b>{esc(plot.title)}.</b> {esc(plot.caption)} '
            f'<a href="{esc(plots_dir)}/{esc(plot.name)}.png">PNG</a></figcaption></figure>')


def _errors(ds: DatasetView, analysis: ErrorAnalysis) -> str:
    n = len(analysis.systems)
    out = [f"<p>{n} system{'s' if n != 1 else ''} analysed on {analysis.n_items} items "
           "(predictions: majority vote over seeds). " + esc(" ".join(analysis.notes)) + "</p>"]
    out.append("<h4>Most frequent confusions</h4>")
    if analysis.confusions:
        rows = [[esc(c.gold), esc(c.pred), str(c.count), f"{c.share:.1%}", str(c.n_systems),
                 "<br>".join(f"{item_link(ds.name, i)}: {_snippet(ds, i)}" for i in c.examples)]
                for c in analysis.confusions]
        out.append(_table(["gold", "predicted", "errors", "share of gold class", "systems", "examples"], rows,
                          numeric=(2, 3, 4)))
    else:
        out.append("<p>No errors.</p>")
    out.append("<h4>Most confident errors</h4>")
    if analysis.confident:
        rows = [[esc(e.system), item_link(ds.name, e.id), esc(e.gold), esc(e.pred),
                 f"{e.pred_score:.3f}" + (" (p)" if e.probability else ""), f"{e.gold_score:.3f}",
                 f"{e.margin:.3f}", _snippet(ds, e.id)] for e in analysis.confident]
        out.append(_table(["system", "item", "gold", "predicted", "score of predicted", "score of gold", "margin",
                           "text"], rows, numeric=(4, 5, 6)))
        out.append('<p class="muted">(p): the scores are probabilities; otherwise decision values, comparable '
                   "within a system only.</p>")
    else:
        out.append("<p>None to show (see the note above).</p>")
    out.append("<h4>Errors shared by every system</h4>")
    if len(analysis.systems) >= 2:
        share = analysis.n_shared / max(analysis.n_items, 1)
        out.append(f"<p>{analysis.n_shared} of {analysis.n_items} items ({share:.1%})"
                   " are wrong for every system: hard items, or gold labels to check (above all where every system "
                   "predicts the same other label, listed first).</p>")
        rows = [[item_link(ds.name, e.id), esc(e.gold), esc(", ".join(f"{p} ×{n}" for p, n in e.predictions)),
                 "yes" if e.unanimous else "", _snippet(ds, e.id)] for e in analysis.shared]
        if rows:
            out.append(_table(["item", "gold", "predicted (systems)", "all agree", "text"], rows))
    return "".join(out)


def _slices(ds: DatasetView, rows: Sequence[SliceRow]) -> str:
    if not rows:
        return "<p>No slices: the dataset has no language, source or target column with two or more values, " \
               "and text lengths do not vary.</p>" if ds.items is not None else \
               "<p>No slices: the dataset's items were not found (see the warnings).</p>"
    out = []
    for dimension in dict.fromkeys(r.dimension for r in rows):
        part = [r for r in rows if r.dimension == dimension]
        systems = list(dict.fromkeys(r.system for r in part))
        groups = list(dict.fromkeys(r.group for r in part))
        cell = {(r.group, r.system): r for r in part}
        n = {r.group: r.n_items for r in part}
        table = []
        for g in groups:
            line = [esc(g), str(n[g])]
            for s in systems:
                r = cell.get((g, s))
                if r is None:
                    line.append("")
                elif r.too_small:
                    line.append('<span class="small">too small</span>')
                else:
                    line.append(f"{_num(r.value)} [{_num(r.ci_low)}, {_num(r.ci_high)}]")
            table.append(line)
        out.append(f"<h4>by {esc(dimension)}</h4>")
        out.append(_table([esc(dimension), "items", *map(esc, systems)], table,
                          numeric=tuple(range(1, len(systems) + 2))))
    return "".join(out)


def _items(ds: DatasetView, ids: Sequence[str]) -> str:
    names = short_labels(ds.systems)
    out = []
    for item_id in ids:
        facts = []
        if ds.items is not None and item_id in ds.items.index:
            row = ds.items.loc[item_id]
            facts = [f"<b>{f}</b>: {esc(row[f])}" for f in ITEM_FIELDS if f in ds.items.columns and row[f]]
        preds, gold_text = [], ""
        for system, name in zip(ds.systems, names):
            o = system.outputs
            pos = int(np.searchsorted(o.ids, item_id))
            if pos >= o.n_items or o.ids[pos] != item_id:
                continue
            gold = label_strings(o.gold[pos:pos + 1], o.labels, o.multilabel)[0]
            pred = label_strings(o.vote()[pos:pos + 1], o.labels, o.multilabel)[0]
            mark = '<span class="ok">✓</span>' if pred == gold else '<span class="bad">✗</span>'
            preds.append(f"{esc(name)}: {esc(pred)} {mark}")
            gold_text = f"<b>gold</b>: {esc(gold)}"
        text = _text(ds, item_id, ITEM_CHARS) or "(text not available)"
        out.append(f'<div class="item" id="{item_anchor(ds.name, item_id)}"><b>{esc(item_id)}</b> '
                   f'<span class="muted">({esc(ds.name)})</span> · '
                   f'{" · ".join([gold_text, *facts] if gold_text else facts)}<p>{esc(text)}</p>'
                   f'<p class="muted">{"; ".join(preds)}</p></div>')
    return "".join(out)


def render_page(data: ReportData, plots: Mapping[str, Sequence[Plot]], analyses: Mapping[str, ErrorAnalysis],
                slices: Mapping[str, Sequence[SliceRow]], plots_dir: str) -> str:
    """The whole page as a string."""
    c = data.comparison
    toc = [("runs", "Runs"), ("datasets", "Datasets"), ("comparison", "Comparison"), ("plots", "Plots"),
           ("errors", "Error analysis"), ("slices", "Slices"), ("items", "Items")]
    body = [f"<h1>newsbench report</h1><p class=\"muted\">{len(data.runs)} runs, {len(data.datasets)} datasets; "
            f"metric <b>{esc(c.metric)}</b> ({'higher' if c.greater_is_better else 'lower'} is better); baseline run "
            f"<b>{esc(c.runs[c.baseline])}</b>; written by newsbench {esc(__version__)}.</p>"]
    if data.warnings:
        body.append('<div class="warning"><b>Warnings</b><ul>' + "".join(f"<li>{esc(w)}</li>" for w in data.warnings)
                    + "</ul></div>")
    body.append("<nav><ul>" + "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in toc) + "</ul></nav>")
    body.append(f'<section id="runs"><h2>Runs</h2>{_runs(data)}</section>')
    body.append(f'<section id="datasets"><h2>Datasets</h2>{_datasets(data)}</section>')
    body.append(f'<section id="comparison"><h2>Comparison</h2>{_comparison(data)}</section>')
    figures = []
    for group, group_plots in plots.items():
        figures.append(f"<h3>{esc(group)}</h3>" + "".join(_figure(p, plots_dir) for p in group_plots))
    if c.ranking is None:
        figures.append("<p class=\"muted\">No critical-difference diagram: it needs at least 3 systems scored on at "
                       "least 3 datasets.</p>")
    body.append(f'<section id="plots"><h2>Plots</h2>{"".join(figures)}</section>')
    body.append('<section id="errors"><h2>Error analysis</h2>' + "".join(
        f"<h3>{esc(ds.name)}</h3>{_errors(ds, analyses[ds.name])}" for ds in data.datasets) + "</section>")
    body.append(f'<section id="slices"><h2>Slices</h2><p>{esc(c.metric)} per slice of the evaluated items (the test '
                f'split, or the out-of-fold predictions of cross-validation), mean over seeds '
                f'[{data.options.confidence:.0%} bootstrap CI]. Slices with fewer than {MIN_ITEMS} items are '
                "marked <i>too small</i> and get no number. Length buckets cut the word counts at the terciles.</p>"
                + "".join(f"<h3>{esc(ds.name)}</h3>{_slices(ds, slices.get(ds.name, []))}" for ds in data.datasets)
                + "</section>")
    body.append('<section id="items"><h2>Items</h2><p>Every item named above, with its text and each system\'s '
                "prediction.</p>" + "".join(_items(ds, analyses[ds.name].item_ids()) for ds in data.datasets)
                + "</section>")
    title = f"newsbench report: {', '.join(data.run_labels)}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>{''.join(body)}</body></html>\n")
