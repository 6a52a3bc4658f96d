"""Render a ``Comparison`` as Markdown, CSV, JSON, LaTeX (booktabs) or HTML.

Wide formats (md, latex, html) have one row per system and, per run, a column with the
seed-mean metric, its bootstrap CI and the seed standard deviation; per non-baseline run,
the delta to the baseline with its paired CI and a marker, and the corrected p-value.
Long formats (csv, json) have one record per (system, run) with every number unrounded.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bench.compare.result import Cell, Comparison, Delta
from bench.results.latex import booktabs, latex_escape
from bench.results.layout import json_text

if TYPE_CHECKING:
    from markupsafe import Markup

    from bench.results.fit import Cell

FORMATS = ("md", "csv", "json", "latex", "html")
_MARK = {"better": "▲", "worse": "▼", "none": ""}
_LATEX_MARK = {"better": r"$\uparrow$", "worse": r"$\downarrow$", "none": ""}
_LATEX_DELTA = {"Δ": r"$\Delta$"}


def render(comparison: Comparison, fmt: str) -> str:
    """The comparison in format ``fmt`` (one of ``FORMATS``), ending with a newline."""
    renderers: dict[str, Callable[[Comparison], str]] = {
        "md": render_markdown, "csv": render_csv, "json": render_json,
        "latex": render_latex, "html": render_html,
    }
    return renderers[fmt](comparison)


def _num(x: float | None, digits: int = 3, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def _p(p: float) -> str:
    if math.isnan(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    text = f"{_num(cell.value)} [{_num(cell.ci_low)}, {_num(cell.ci_high)}]"
    if cell.seed_std is not None:
        text += f" sd {_num(cell.seed_std)}"
    return text


def _delta_text(delta: Delta | None, marks: dict[str, str]) -> str:
    if delta is None:
        return "-"
    mark = marks[delta.direction]
    seeds = f" seeds {delta.seed_share:.0%}" if delta.seed_share > 0 else ""
    return (f"{_num(delta.delta, sign=True)} [{_num(delta.ci_low, sign=True)}, "
            f"{_num(delta.ci_high, sign=True)}]{seeds}" + (f" {mark}" if mark else ""))


def _header(comparison: Comparison) -> list[str]:
    head = ["dataset", "features", "model", "floor"]
    for i, run in enumerate(comparison.runs):
        head.append(f"{run} (baseline)" if i == comparison.baseline else run)
    for i, run in enumerate(comparison.runs):
        if i != comparison.baseline:
            head += [f"Δ {run}", f"p {run}"]
    return head


def _wide_rows(comparison: Comparison, marks: dict[str, str]) -> list[list[str]]:
    out = []
    for row in comparison.rows:
        line = [row.dataset, row.features, row.model, _num(row.floor)]
        line += [_cell_text(cell) for cell in row.cells]
        for i, delta in enumerate(row.deltas):
            if i != comparison.baseline:
                line += [_delta_text(delta, marks),
                         "-" if delta is None else "identical" if delta.identical else _p(delta.p_adjusted)]
        out.append(line)
    return out


def notes(comparison: Comparison) -> list[str]:
    """The lines printed under the table: legend, power, ranking, warnings, regressions."""
    o = comparison.options
    level = f"{o.confidence:.0%}"
    test = {"bootstrap": "paired bootstrap", "mcnemar": "McNemar", "permutation": "approximate randomization"}
    correction = {"holm": "Holm", "bh": "Benjamini-Hochberg"}[o.correction]
    direction = "higher" if comparison.greater_is_better else "lower"
    lines = [
        f"metric: {comparison.metric} ({direction} is better); baseline: {comparison.runs[comparison.baseline]}",
        f"cells: mean over seeds [{level} CI of that mean over test items and, with several seeds, over seeds;"
        f" {o.samples} resamples] and sd = standard deviation across seeds",
        "floor: majority-class score (majority model when run, else the test set's most frequent label)",
    ]
    if _n_deltas(comparison):
        n_tested, n_identical = _n_deltas(comparison, tested=True), _n_deltas(comparison) - _n_deltas(
            comparison, tested=True)
        identical = (f" ({n_identical} pair{'s' if n_identical != 1 else ''} with identical predictions shown as"
                     " 'identical': they cannot differ, so they are not tested and not counted)"
                     if n_identical else "")
        lines.insert(2, f"Δ: run - baseline on matched item ids [{level} paired CI over items and seeds;"
                        " 'seeds x%': the share of its variance due to seeds]; p:"
                        f" {test[o.test]},"
                        f" {correction}-corrected over {n_tested} comparison{'s' if n_tested != 1 else ''}"
                        f"{identical}; ▲/▼ significantly better/worse at alpha {o.alpha}")
    cells = [c for row in comparison.rows for c in row.cells if c is not None]
    if cells and all(c.n_seeds == 1 for c in cells):
        lines.append("seeds: one seed per system, so CIs and p cover the test items only, not training randomness"
                     " (run several seeds to include it, docs/statistics.md)")
    for note in comparison.power:
        head = f"power: {note.dataset} (n={note.n_items}): "
        left_out = (f"; {note.n_identical} pair{'s' if note.n_identical != 1 else ''} with identical "
                    "predictions left out" if note.n_identical else "")
        if not note.n_pairs:
            lines.append(head + "every compared pair makes identical predictions: nothing to detect")
            continue
        mdd = f"{note.min_detectable:.3f}" if math.isfinite(note.min_detectable) else "none (too few discordant items)"
        pairs = f"the {note.n_pairs} compared pair{'s' if note.n_pairs != 1 else ''} that differ"
        lines.append(head + f"minimum detectable accuracy difference {mdd} (McNemar, alpha 0.05, power 0.8, "
                     f"mean discordance {note.discordance:.3f} over {pairs}{left_out})")
    if comparison.ranking is not None:
        r = comparison.ranking
        ranks = ", ".join(f"{s} {rank:.2f}" for s, rank in zip(r.systems, r.average_ranks))
        lines.append(f"ranking over {len(r.datasets)} datasets: average ranks {ranks}")
        n = len(r.datasets)
        if r.small_sample:
            lines.append(f"Friedman test over {n} datasets: its chi-square approximation is unreliable below"
                         f" {r.min_reliable_datasets} datasets (Demsar 2006), so p is from the Iman-Davenport F ="
                         f" {r.iman_davenport_f:.3f} (p {_p(r.iman_davenport_p)}; chi2 = {r.friedman_statistic:.3f}"
                         f" only for reference); the Nemenyi CD = {r.critical_difference:.3f} is asymptotic too, read"
                         f" it as indicative; tied with the best: {', '.join(r.tied_with_best)}")
        else:
            lines.append(f"Friedman test: Iman-Davenport F = {r.iman_davenport_f:.3f} (p {_p(r.iman_davenport_p)}),"
                         f" chi2 = {r.friedman_statistic:.3f} (p {_p(r.friedman_p)}); Nemenyi CD ="
                         f" {r.critical_difference:.3f}; tied with the best: {', '.join(r.tied_with_best)}")
        if r.left_out:
            lines.append(f"not ranked (missing a dataset): {', '.join(r.left_out)}")
    lines += [f"tuned: {t}" for t in comparison.tuned]
    lines += [f"warning: {w}" for w in comparison.warnings]
    lines += [f"regression: {r}" for r in comparison.regressions]
    return lines


def _n_deltas(comparison: Comparison, tested: bool = False) -> int:
    return sum(d is not None and not (tested and d.identical) for row in comparison.rows for d in row.deltas)


def render_markdown(comparison: Comparison) -> str:
    """A GitHub Markdown table followed by the notes."""
    head = _header(comparison)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|"]
    for line in _wide_rows(comparison, _MARK):
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |")
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes(comparison)) + "\n"


def records(comparison: Comparison) -> list[dict[str, Any]]:
    """One flat record per (system, run): every number unrounded (csv, json, DataFrames)."""
    out = []
    for row in comparison.rows:
        for i, (cell, delta) in enumerate(zip(row.cells, row.deltas)):
            if cell is None:
                continue
            rec: dict[str, Any] = {
                "dataset": row.dataset, "features": row.features, "model": row.model,
                "run": comparison.runs[i], "run_id": comparison.run_ids[i],
                "baseline": i == comparison.baseline, "metric": comparison.metric,
                "value": cell.value, "ci_low": cell.ci_low, "ci_high": cell.ci_high,
                "seed_std": cell.seed_std, "seed_share": cell.seed_share, "n_seeds": cell.n_seeds,
                "n_items": cell.n_items,
                "floor": row.floor, "floor_source": row.floor_source,
            }
            for field in dataclasses.fields(Delta):
                rec[field.name if field.name.startswith(("delta", "p_")) else f"delta_{field.name}"] = (
                    None if delta is None else getattr(delta, field.name))
            out.append(rec)
    return out


def render_csv(comparison: Comparison) -> str:
    """Long CSV: one line per (system, run)."""
    rows = records(comparison)
    buf = io.StringIO()
    fields = list(rows[0]) if rows else ["dataset", "features", "model", "run", "value"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for rec in rows:
        writer.writerow({k: "" if v is None else v for k, v in rec.items()})
    return buf.getvalue()


def render_json(comparison: Comparison) -> str:
    """Everything: options, long records, ranking, power notes, warnings, regressions."""
    doc = {
        "schema_version": 1, "metric": comparison.metric,
        "greater_is_better": comparison.greater_is_better, "runs": list(comparison.runs),
        "run_ids": list(comparison.run_ids), "baseline": comparison.runs[comparison.baseline],
        "options": dataclasses.asdict(comparison.options), "rows": records(comparison),
        "ranking": None if comparison.ranking is None else dataclasses.asdict(comparison.ranking),
        "power": [dataclasses.asdict(p) for p in comparison.power],
        "warnings": list(comparison.warnings), "regressions": list(comparison.regressions),
    }
    return json_text(doc)


def render_latex(comparison: Comparison) -> str:
    """A booktabs ``tabular`` ready for a paper (needs ``\\usepackage{booktabs}``).

    The legend comes first as ``%`` comment lines, so the output can be ``\\input`` as is.
    """
    head = [latex_escape(h, _LATEX_DELTA) for h in _header(comparison)]
    ascii_notes = (n.replace("Δ", "delta").replace("▲/▼", "arrows up/down") for n in notes(comparison))
    rows = ([latex_escape(c) if i < 3 else _latex_number(c) for i, c in enumerate(line)]
            for line in _wide_rows(comparison, _LATEX_MARK))
    lines = [f"% {latex_escape(n)}" for n in ascii_notes]
    lines += booktabs("lll" + "r" * (len(head) - 3), head, rows)
    return "\n".join(lines) + "\n"


def _latex_number(text: str) -> str:
    """Numbers stay numbers; CI brackets get a smaller font; markers are already LaTeX."""
    text = re.sub(r"(?<![\w.])-(?=\d)", r"$-$", text.replace("<", r"$<$"))  # a minus, not a hyphen
    if " [" in text:
        value, rest = text.split(" [", 1)
        ci, tail = rest.split("]", 1)
        return f"{value} {{\\scriptsize [{ci}]{tail}}}"
    return text


def html_table(comparison: Comparison) -> Markup:
    """The table alone as a plain ``<table>``, ``Markup`` that the HTML report nests as is."""
    from bench.core.templating import render as render_template

    return render_template("bench.compare", "table.html.j2", head=_header(comparison),
                           rows=_wide_rows(comparison, _MARK))


def render_html(comparison: Comparison) -> str:
    """An HTML fragment: the table and the notes as a list."""
    from bench.core.templating import render as render_template

    return str(render_template("bench.compare", "fragment.html.j2", head=_header(comparison),
                               rows=_wide_rows(comparison, _MARK), notes=notes(comparison)))


def _fit_rows(comparison: Comparison) -> list[list[Cell]]:
    """The wide rows as ``bench.results.fit`` cells: a CI bracket may go under its number."""
    from bench.results.fit import Cell as FitCell

    out = []
    for row in comparison.rows:
        line = [FitCell.plain(row.dataset), FitCell.plain(row.features), FitCell.plain(row.model),
                FitCell.plain(_num(row.floor))]
        for cell in row.cells:
            line.append(FitCell.plain("-") if cell is None else FitCell.parts(
                [_num(cell.value), "" if cell.seed_std is None else f"sd {_num(cell.seed_std)}"],
                [f"[{_num(cell.ci_low)}, {_num(cell.ci_high)}]"]))
        for i, delta in enumerate(row.deltas):
            if i == comparison.baseline:
                continue
            if delta is None:
                line += [FitCell.plain("-"), FitCell.plain("-")]
                continue
            seeds = f"seeds {delta.seed_share:.0%}" if delta.seed_share > 0 else ""
            line += [FitCell.parts([_num(delta.delta, sign=True), _MARK[delta.direction]],
                                   [f"[{_num(delta.ci_low, sign=True)}, {_num(delta.ci_high, sign=True)}]", seeds]),
                     FitCell.plain("identical" if delta.identical else _p(delta.p_adjusted))]
        out.append(line)
    return out


def _stacked(head: list[Cell], rows: list[list[Cell]]) -> tuple[list[Cell], list[list[Cell]]]:
    """Dataset, features and model as the three lines of one column (names stay whole)."""
    from bench.results.fit import Cell as FitCell

    def stack(cells: list[Cell]) -> Cell:
        return FitCell((tuple(c.at(0) for c in cells),))

    return [stack(head[:3]), *head[3:]], [[stack(row[:3]), *row[3:]] for row in rows]


def print_terminal(comparison: Comparison, width: int | None = None, file: Any = None) -> None:
    """The table drawn to fit the terminal (``bench.results.fit``), then the notes, word-wrapped.

    Three tables are tried: run names in the header, runs named by a letter (spelled out under the
    table), and the latter with dataset/features/model stacked in one column; the one that fits at the
    widest level (CI brackets under their numbers, then headers abbreviated) is drawn.
    """
    from rich.console import Console
    from rich.markup import escape

    from bench.results.fit import Cell as FitCell
    from bench.results.fit import draw, fitting_level, levels, target_width

    width = target_width(width)
    rows = _fit_rows(comparison)
    letters = [chr(ord("A") + i) if i < 26 else str(i + 1) for i in range(len(comparison.runs))]
    lettered = [FitCell.words(h) for h in _header(dataclasses.replace(comparison, runs=tuple(letters)))]
    variants = [([FitCell.words(h) for h in _header(comparison)], rows, False), (lettered, rows, True),
                (*_stacked(lettered, rows), True)]
    fits = [(level, i) for i, (head, body, _) in enumerate(variants)
            if (level := fitting_level(head, body, width)) is not None]
    level, chosen = min(fits) if fits else (None, len(variants) - 1)  # the fewest lines a cell, then the first
    head, body, named_by_letter = variants[chosen]
    draw(head, body, right=[i >= 3 for i in range(len(head))] if len(head) == len(rows[0]) else
         [i >= 1 for i in range(len(head))], level=levels(head, body) - 1 if level is None else level,
         width=width, file=file)
    console = Console(file=file, width=width)
    if named_by_letter:
        named = ", ".join(f"{letter} = {run}" for letter, run in zip(letters, comparison.runs))
        console.print(f"- runs: {escape(named)}", highlight=False)
    for note in notes(comparison):
        console.print(f"- {escape(note)}", highlight=False)
