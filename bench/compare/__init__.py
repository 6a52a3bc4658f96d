"""Compare runs: tables with CIs, paired tests, corrections, ranks and a regression gate.

``compare_runs(runs, options) -> Comparison`` computes; ``render(comparison, fmt)`` writes
md, csv, json, latex or html. See ``bench.compare.table`` for the rules and
``bench.metrics.joint`` and ``bench.stats.seeds`` for how items and seeds are resampled.
"""

from bench.compare.render import FORMATS, html_table, notes, records, render
from bench.compare.result import Cell, Comparison, CompareOptions, Delta, PowerNote, Ranking, Row
from bench.compare.table import compare_runs

__all__ = ["FORMATS", "Cell", "CompareOptions", "Comparison", "Delta", "PowerNote", "Ranking", "Row",
           "compare_runs", "html_table", "notes", "records", "render"]
