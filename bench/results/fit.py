"""Draw a table that fits the terminal without ever breaking a number or a name.

Each cell offers layouts from widest to narrowest (``0.57 ±0.01 [0.45, 0.68]`` on one line, then
the bracket on a second line, ...). The first level at which the whole table fits the width is
drawn; past the narrowest, the table is drawn at its narrowest and the terminal may scroll, but
rich never folds a cell (``no_wrap``), so what is printed is always whole. Headers abbreviate last
(``f1_macro`` -> ``F1m``), each short form spelled out in a line under the table.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

PIPED_WIDTH = 100  # the width of a table written to a file or a pipe, unless COLUMNS says otherwise
# Short forms of header words (metric and column names), used only at the narrowest levels and always
# spelled out under the table; a header word not listed here is never shortened.
ABBREVIATE_AT = 2
ABBREVIATIONS = {
    "accuracy": "acc", "balanced_accuracy": "bacc", "cohen_kappa": "kappa", "f1_macro": "F1m",
    "f1_micro": "F1mi", "f1_weighted": "F1w", "f1_per_class": "F1/cls", "f_avg": "Favg", "fnc1_score": "FNC",
    "hamming_loss": "ham", "log_loss": "LL", "precision_macro": "Pm", "precision_micro": "Pmi",
    "precision_weighted": "Pw", "precision_per_class": "P/cls", "recall_macro": "Rm", "recall_micro": "Rmi",
    "recall_weighted": "Rw", "recall_per_class": "R/cls", "roc_auc": "AUC", "subset_accuracy": "subacc",
    "features": "feat", "(baseline)": "(base)",
}


@dataclass(frozen=True)
class Cell:
    """One cell's layouts, widest first; each layout is its lines."""

    layouts: tuple[tuple[str, ...], ...]

    @classmethod
    def plain(cls, text: str) -> Cell:
        return cls(((text,),))

    @classmethod
    def parts(cls, first: Sequence[str], rest: Sequence[str] = ()) -> Cell:
        """``first`` parts on line one and ``rest`` after them: on one line, then on a second line,
        then each part of ``rest`` on its own line, then each part a line with a bracket's two bounds on
        two lines (split after the comma: no number is cut)."""
        first, rest = [p for p in first if p], [p for p in rest if p]
        one = " ".join([*first, *rest])
        layouts = [(one,)]
        if rest:
            layouts += [(" ".join(first), " ".join(rest)), (" ".join(first), *rest)]
            split = [line for part in [*first, *rest] for line in part.replace(", ", ",\n").split("\n")]
            layouts.append(tuple(split))
        return cls(tuple(layouts))  # repeats kept: a level means the same layout in every cell

    @classmethod
    def words(cls, text: str) -> Cell:
        """A header: whole, then one word a line (names are never split inside); from level
        ``ABBREVIATE_AT`` on (once a number's CI has moved under it), with ``ABBREVIATIONS`` applied."""
        words = text.split(" ")
        short = [ABBREVIATIONS.get(w, w) for w in words]
        full = [(text,), tuple(words)] if len(words) > 1 else [(text,)] * ABBREVIATE_AT
        if short == words:
            return cls(tuple(full))
        return cls((*full, *dict.fromkeys([(" ".join(short),), tuple(short)])))

    def at(self, level: int) -> str:
        return "\n".join(self.layouts[min(level, len(self.layouts) - 1)])

    def width(self, level: int) -> int:
        return max(len(line) for line in self.layouts[min(level, len(self.layouts) - 1)])


def target_width(console_width: int | None = None) -> int:
    """``console_width`` when given, else ``COLUMNS``, else the terminal's width, else ``PIPED_WIDTH``."""
    if console_width:
        return console_width
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        return os.get_terminal_size(sys.stdout.fileno()).columns
    return PIPED_WIDTH


def levels(header: Sequence[Cell], rows: Sequence[Sequence[Cell]]) -> int:
    """How many layouts the widest-offering cell has."""
    return max(len(c.layouts) for c in [*header, *(c for r in rows for c in r)])


def table_width(header: Sequence[Cell], rows: Sequence[Sequence[Cell]], level: int) -> int:
    """Width of the drawn table at ``level``: columns, one space of padding each side, one rule between."""
    widths = [max([h.width(level), *(r[i].width(level) for r in rows)]) for i, h in enumerate(header)]
    return sum(widths) + 3 * len(widths) + 1


def fitting_level(header: Sequence[Cell], rows: Sequence[Sequence[Cell]], width: int) -> int | None:
    """The widest level that fits ``width``, or ``None`` when even the narrowest does not."""
    for level in range(levels(header, rows)):
        if table_width(header, rows, level) <= width:
            return level
    return None


def abbreviations(header: Sequence[Cell], level: int) -> list[str]:
    """``short=full`` for each abbreviated header word drawn at ``level``, in column order."""
    pairs = [(s, f) for h in header for s, f in zip(h.at(level).split(), h.at(0).split()) if s != f]
    return [f"{s}={f}" for s, f in dict.fromkeys(pairs)]  # no space inside: a wrapped line keeps pairs whole


def draw(header: Sequence[Cell], rows: Sequence[Sequence[Cell]], *, right: Sequence[bool], level: int,
         width: int, title: str = "", file: object = None) -> None:
    """Print the table at ``level`` with rich, and a line spelling out its abbreviated headers; cells never
    fold (the console is widened if need be)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title) if title else None, show_lines=any(
        len(c.at(level).splitlines()) > 1 for r in rows for c in r))
    for head, flush_right in zip(header, right):
        table.add_column(escape(head.at(level)), justify="right" if flush_right else "left", no_wrap=True,
                         overflow="ignore")
    for row in rows:
        table.add_row(*(escape(c.at(level)) for c in row))
    need = max(table_width(header, rows, level), len(title))
    console = Console(file=file, soft_wrap=False, width=max(width, need))
    console.print(table)
    if short := abbreviations(header, level):
        Console(file=file, width=width).print(escape("abbreviations: " + ", ".join(short)), highlight=False)
