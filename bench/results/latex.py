"""LaTeX for the tables of ``bench show`` and ``bench compare``: one escaper, one booktabs frame.

Names of datasets, models and runs are plain text that often holds ``_`` or ``%``; both
tables escape it here, so they agree on every special character.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def latex_escape(text: str, extra: Mapping[str, str] | None = None) -> str:
    """Plain ``text`` as LaTeX: its special characters escaped, and those of ``extra`` replaced too."""
    table = {**SPECIAL, **extra} if extra else SPECIAL
    return "".join(table.get(ch, ch) for ch in text)


def booktabs(columns: str, header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    """The lines of a ``tabular`` with ``\\toprule``, ``\\midrule`` and ``\\bottomrule`` (cells already LaTeX)."""
    return [r"\begin{tabular}{" + columns + "}", r"\toprule", " & ".join(header) + r" \\", r"\midrule",
            *(" & ".join(row) + r" \\" for row in rows), r"\bottomrule", r"\end{tabular}"]
