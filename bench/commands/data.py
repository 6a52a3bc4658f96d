"""``bench data build`` (spec -> ``data/<name>/``) and ``bench data show`` (a built dataset's stats)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.commands import (RawDescriptionDefaultsHelpFormatter, check_format, data_option, deprecated_alias,
                            format_option, positive_int)

# data show prints nested stats (per split, per label, the audit), not one flat table
SHOW_UNAVAILABLE = dict.fromkeys(("md", "csv", "latex", "html"), "the stats are nested (splits, labels, audit); use json")

_BUILD_HELP = """\
Read a dataset spec (YAML), clean texts (Unicode NFC, whitespace), check labels, ids,
empty texts and duplicates, make the splits it asks for, audit train/test overlap (exact
and MinHash near-duplicates), and write DATA/<name>/: a datasets.DatasetDict
(save_to_disk), card.md and stats.json with a content fingerprint. An up-to-date build
(same spec, same source file sizes and times) is reused unless --force. Rows are read
and checked in batches of 50,000 (Parquet, CSV/TSV and JSON Lines are streamed), so
memory holds a few batches of texts and a slim record per row; past 100,000 rows the
batches are prepared by --workers processes. Every key of a spec is described in
docs/datasets.md; a minimal one:

  name: mytopics
  task: topic
  source: {files: {train: news.csv}}
  columns: {text: body, label: topic}
  splits: {test: {from: train, size: 0.2, seed: 13}}
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``data`` with its ``build`` and ``show`` sub-commands."""
    data = subparsers.add_parser("data", help="build and inspect datasets",
                                 description="Labeled news -> checked, split, fingerprinted datasets.")
    sub = data.add_subparsers(dest="data_command", metavar="COMMAND", parser_class=type(data))
    build = sub.add_parser("build", help="build a dataset from a spec", description=_BUILD_HELP,
                           formatter_class=RawDescriptionDefaultsHelpFormatter)
    build.add_argument("spec", type=Path, metavar="SPEC.yaml", help="the dataset spec")
    data_option(build, help="folder of built datasets; receives <name>/")
    deprecated_alias(build, "--out", "--data", dest="data", type=Path)
    build.add_argument("--force", action="store_true", help="rebuild even when the build is up to date")
    build.add_argument("--workers", type=positive_int, metavar="N",
                       help="processes that prepare the batches of a source past 100,000 rows; the dataset "
                            "is the same for any N (default: up to 2 CPUs)")
    build.set_defaults(handler=_build)
    show = sub.add_parser("show", help="rows and labels per split, text lengths, languages, overlap",
                          description="Print the stats of a built dataset (by name under --data, or a folder).")
    show.add_argument("dataset", metavar="NAME_OR_DIR", help="a dataset name (under --data) or its folder")
    data_option(show)
    format_option(show, SHOW_UNAVAILABLE)
    show.set_defaults(handler=_show)
    data.set_defaults(handler=lambda args: _usage(data))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _build(args: argparse.Namespace) -> int:
    from bench.corpus import build_dataset

    result = build_dataset(args.spec, args.data, force=args.force, workers=args.workers)
    stats = result.dataset.stats()
    rate = result.n_rows / result.seconds if result.seconds > 0 else float("inf")
    verb = "up to date" if result.reused else f"built in {result.seconds:.1f} s ({rate:,.0f} rows/s)"
    _print_tables(stats, title=f"{stats['name']}: {verb}")
    print(result.dataset.path)
    return 0


def _show(args: argparse.Namespace) -> int:
    from bench.corpus import open_dataset

    check_format(args.format, SHOW_UNAVAILABLE)
    stats = open_dataset(args.dataset, args.data).stats()
    if args.format == "json":
        print(json.dumps(stats, indent=2, ensure_ascii=False))
    else:
        _print_tables(stats, title=f"{stats['name']} ({stats['task']}, fingerprint {stats['fingerprint'][:12]})")
    return 0


def _print_tables(stats: dict[str, Any], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 140)
    table = Table(title=title, title_justify="left")
    labels = stats["labels"]
    for name in ("split", "rows", *labels, "chars", "language", "in train (exact/near)"):
        table.add_column(name, justify="left" if name in ("split", "language") else "right")
    overlap = stats["audit"].get("overlap", {})
    for split, s in stats["splits"].items():
        langs = s.get("languages", {})
        total = sum(langs.values()) or 1
        shown = ", ".join(k if v == total else f"{k} {v / total:.0%}"
                          for k, v in sorted(langs.items(), key=lambda kv: -kv[1])[:3]) or "-"
        found = overlap.get(split)
        table.add_row(split, f"{s['n_rows']:,}", *(f"{s['label_counts'][lab]:,}" for lab in labels),
                      f"{s['text'].get('chars_mean', 0):,.0f}", shown,
                      f"{found['exact']:,} / {found['near']:,}" if found else "-")
    console.print(table)
    audit = stats["audit"]
    notes = []
    for key, what in (("empty", "empty texts"), ("unknown_labels", "unknown labels"),
                      ("duplicates", "duplicates within a split"), ("dropped", "dropped by policy")):
        if audit.get(key):
            notes.append(f"{what}: " + ", ".join(f"{k} {v:,}" for k, v in audit[key].items()))
    if audit.get("filtered_out"):
        notes.append(f"removed by where: {audit['filtered_out']:,}")
    for split, made in audit.get("splits_made", {}).items():
        notes.append(f"{split}: {made['method']} from {made['from']}")
    for note in notes:
        console.print(f"  {note}")
