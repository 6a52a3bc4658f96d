"""One run's results table: metric rows averaged over seeds, rendered as text, md, csv, json or LaTeX.

A cell is the mean over seeds of the metric on the pooled test sample (``fold`` null) and,
with several seeds, the standard deviation over seeds (``ddof=1``) after ``±``. The bracket
is a confidence interval of the number it stands beside: with one seed, the bootstrap CI
over test items stored with the metric row; with several, the CI of the seed mean over test
items and seeds, recomputed from the predictions (``summarize_run``, ``bench.results.seedmean``).
``notes`` says which, under the table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bench.results.fit import Cell, draw, fitting_level, levels, target_width
from bench.results.latex import booktabs, latex_escape
from bench.results.transfer import with_system_datasets

if TYPE_CHECKING:
    import pandas as pd

    from bench.results.store import RunDir

KEYS = ("dataset", "features", "model", "split", "target")
DEGENERATE = "degenerate"  # the manifest key of the degenerate data a run found (bench.run.degenerate)
FORMATS = ("table", "md", "csv", "json", "latex")
PLUS_MINUS = {"±": r"$\pm$"}  # the seed spread of a cell


def summarize(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Long table: one row per (dataset, features, model, split, target, metric) over seeds.

    A drift run's table also has ``window`` (``""`` for the rows over all test items).

    ``ci_low``/``ci_high`` are the stored item CI of one-seed rows and NaN for several-seed
    rows (``summarize_run`` fills those from the predictions).

    Rows keep the order in which they first appear (the plan order of the run).
    """
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    columns = [*KEYS, "metric", "mean", "std", "ci_low", "ci_high", "n_seeds", "n", "undefined"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame[frame["fold"].isna()].copy()
    frame = with_system_datasets(frame)  # a transfer run: the system's dataset is train→test
    frame["undefined"] = frame["undefined"].fillna(0) if "undefined" in frame else 0
    frame["target"] = frame["target"].astype(object).where(frame["target"].notna(), "")
    # a drift run's rows per window are cells of their own, never pooled with the run's other rows
    keys = [*KEYS, *(["window"] if "window" in frame else [])]
    if "window" in frame:
        frame["window"] = frame["window"].astype(object).where(frame["window"].notna(), "")
        columns.insert(len(KEYS), "window")
    grouped = frame.groupby([*keys, "metric"], sort=False, dropna=False)
    out = grouped.agg(mean=("value", "mean"), std=("value", "std"), ci_low=("ci_low", "first"),
                      ci_high=("ci_high", "first"), n_seeds=("seed", "nunique"), n=("n", "max"),
                      undefined=("undefined", "sum")).reset_index()
    # a seed mean's interval is not the mean of the seeds' intervals: only summarize_run has one
    out.loc[out["n_seeds"] > 1, ["ci_low", "ci_high"]] = float("nan")
    return out[columns].reset_index(drop=True)


def summarize_run(run: RunDir) -> pd.DataFrame:
    """``summarize(run.rows())`` with the CI of the seed mean for several-seed rows."""
    from bench.results.seedmean import seed_mean_intervals

    return seed_mean_intervals(run, summarize(run.rows()))


def legend(summary: pd.DataFrame, run: RunDir | None = None) -> list[str]:
    """What the brackets and ``±`` of the table are (printed under it)."""
    if summary.empty:
        return []
    boot = ((run.manifest.get("evaluation") or {}).get("bootstrap") or {}) if run is not None else {}
    level = f"{float(boot.get('confidence', 0.95)):.0%}"
    several, one = bool((summary["n_seeds"] >= 2).any()), bool((summary["n_seeds"] < 2).any())
    seed_mean = (f"the {level} CI of the seed mean over test items and seeds (percentile,"
                 f" {boot.get('samples', '?')} resamples, docs/statistics.md)")
    item = f"{level} bootstrap CI over test items"
    if several and "seed_share" not in summary:
        seed_mean = "no interval (a seed mean's interval needs the predictions, see summarize_run)"
    lines = [f"[ ]: {item} with one seed; with several, {seed_mean}" if several and one
             else f"[ ]: {seed_mean}" if several else f"[ ]: {item}"]
    if several:
        lines.append("±: standard deviation across seeds")
        if "target" in summary and bool(((summary["n_seeds"] >= 2) & (summary["target"] != "")).any()):
            lines.append("rows by target with several seeds have no interval")
    if "undefined" in summary and int(summary["undefined"].sum()):
        hit = summary[summary["undefined"] > 0]
        lines += [f"{r['dataset']}/{r['features']}/{r['model']}: {r['metric']} undefined in {int(r['undefined'])}"
                  " resamples (e.g. a class absent), left out of its interval" for r in hit.to_dict("records")]
    return lines


def run_notes(manifest: Mapping[str, Any]) -> list[str]:
    """The footnotes of a run's table: what makes some of its numbers meaningless (degenerate data)."""
    return [f"degenerate data: {item.get('message')}" for item in manifest.get(DEGENERATE) or []
            if isinstance(item, Mapping)]


def _with_notes(text: str, notes: Sequence[str], prefix: str, *, joined: bool = False) -> str:
    """``text`` then one ``<prefix>note: ...`` line per note (markdown: after a blank line, unless
    ``joined`` to a list that already ends the text)."""
    if not notes:
        return text
    gap = "\n" if prefix == "- " and not joined else ""
    return text + "\n" + gap + "\n".join(f"{prefix}note: {note}" for note in notes)


def _parts(mean: float, std: float, lo: float, hi: float, digits: int) -> tuple[list[str], list[str]]:
    """The value and its ``±`` spread, then its CI bracket (``[]`` when absent); ``-`` for no value."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ["-"], []
    first = [f"{mean:.{digits}f}"]
    if std is not None and not (isinstance(std, float) and math.isnan(std)):
        first.append(f"±{std:.{digits}f}")
    if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
        return first, [f"[{lo:.{digits}f}, {hi:.{digits}f}]"]
    return first, []


def _cell(mean: float, std: float, lo: float, hi: float, digits: int) -> str:
    first, rest = _parts(mean, std, lo, hi, digits)
    return " ".join([*first, *rest])


def wide(summary: pd.DataFrame, digits: int = 4, cell: Any = _cell) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the display table: one row per system, one column per metric (``cell``
    makes a cell from mean, std, CI bounds and digits; a missing metric is ``""``)."""
    metrics = list(dict.fromkeys(summary["metric"]))
    show_target = bool((summary["target"] != "").any()) if len(summary) else False
    show_split = summary["split"].nunique() > 1 if len(summary) else False
    show_window = "window" in summary and bool((summary["window"] != "").any())
    keys = ["dataset", *(["split"] if show_split else []), "features", "model", *(["target"] if show_target else []),
            *(["window"] if show_window else [])]
    cells: dict[tuple[Any, ...], dict[str, str]] = {}
    for rec in summary.to_dict("records"):
        key = tuple(rec[k] for k in keys)
        cells.setdefault(key, {})[rec["metric"]] = cell(rec["mean"], rec["std"], rec["ci_low"], rec["ci_high"],
                                                        digits)
    body = [[str(k) for k in key] + [row.get(m, "") for m in metrics] for key, row in cells.items()]
    return keys + metrics, body


def _markdown(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return "\n".join(lines)


def _latex_text(text: str) -> str:
    return latex_escape(text, PLUS_MINUS)


def _latex(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    rows = ([_latex_text(c) for c in row] for row in body)
    return "\n".join(booktabs("l" * len(header), map(_latex_text, header), rows))


def render(summary: pd.DataFrame, fmt: str, *, title: str = "", digits: int = 4,
           notes: Sequence[str] = (), run: RunDir | None = None) -> str | None:
    """The table as text in ``fmt``; ``None`` for ``table``, which ``print_table`` draws with rich.

    Under a markdown table (as lines) and a LaTeX table (as comments): the ``legend`` of its
    brackets, then ``notes`` (``run_notes``); csv and json stay plain data.
    """
    if fmt == "csv":
        return summary.to_csv(index=False, lineterminator="\n").rstrip("\n")
    if fmt == "json":
        records = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                   for r in summary.to_dict("records")]
        return json.dumps(records, indent=2, ensure_ascii=False, default=str)
    header, body = wide(summary, digits)
    lines = legend(summary, run)
    if fmt == "md":
        legend_text = "\n\n" + "\n".join(f"- {line}" for line in lines) if lines else ""
        table = (f"**{title}**\n\n" if title else "") + _markdown(header, body) + legend_text
        return _with_notes(table, notes, "- ", joined=bool(lines))
    if fmt == "latex":
        return _with_notes("\n".join([*(f"% {_latex_text(line)}" for line in lines), _latex(header, body)]),
                           notes, "% ")
    return None


def _fit_cell(mean: float, std: float, lo: float, hi: float, digits: int) -> Cell:
    return Cell.parts(*_parts(mean, std, lo, hi, digits))


def print_table(summary: pd.DataFrame, *, title: str = "", digits: int = 4, notes: Sequence[str] = (),
                run: RunDir | None = None, width: int | None = None, file: Any = None) -> None:
    """Draw the results table with rich at the terminal's width (``bench.results.fit``), its legend, then
    ``notes``.

    Narrower widths move the CI bracket under its value; when even that does not fit, one row per
    metric. No number or name is ever broken.
    """
    from rich.console import Console
    from rich.markup import escape

    width = target_width(width)
    header, body = wide(summary, digits, _fit_cell)
    n_keys = len(header) - summary["metric"].nunique()
    head = [Cell.words(h) for h in header]
    rows = [[c if isinstance(c, Cell) else Cell.plain(c) for c in row] for row in body]
    right = [i >= n_keys for i in range(len(header))]
    level = fitting_level(head, rows, width)
    if level is None and len(header) - n_keys > 1:  # one row per metric: the narrowest table there is
        head = [*head[:n_keys], Cell.plain("metric"), Cell.plain("value")]
        rows = [[*row[:n_keys], Cell.plain(metric), cell] for row in rows
                for metric, cell in zip(header[n_keys:], row[n_keys:]) if cell.at(0)]
        right = [i > n_keys for i in range(len(head))]
        level = fitting_level(head, rows, width)
    draw(head, rows, right=right, level=levels(head, rows) - 1 if level is None else level, width=width,
         title=title, file=file)
    console = Console(file=file, width=width)
    for line in legend(summary, run):
        console.print(escape(line), highlight=False)
    for note in notes:
        console.print(f"note: {escape(note)}", highlight=False)
