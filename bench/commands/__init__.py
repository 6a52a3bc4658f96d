"""One module per group of ``bench`` sub-commands, and the options they share.

Each module defines ``register(subparsers)`` that adds its parsers and sets
``handler=<function(args) -> int>``. Modules import only the standard library and light
``bench`` modules at top level: heavy libraries (scikit-learn, datasets) are imported
inside handlers so that ``bench --help`` and ``bench validate`` start fast.

The builders below give one option one name, one meaning and one help text in every
command that has it (``--data``, ``--results``, ``--format``, the statistics options), and
the help formatter shows every option's default.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.core.errors import BenchError

DEFAULT_DATA = Path("data")
DEFAULT_RESULTS = Path("results")
# One set of output formats for every command that prints a table; a command that cannot
# render one of them says why in its --help and in the error.
TABLE_FORMATS = ("table", "md", "csv", "json", "latex", "html")
TESTS = ("bootstrap", "mcnemar", "permutation")
CORRECTIONS = ("holm", "bh")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def non_negative(text: str) -> float:
    """argparse type: a number >= 0."""
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    """argparse type: a number strictly between 0 and 1 (a confidence level, alpha)."""
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def folder(text: str) -> Path:
    """argparse type: a folder path that may not exist yet, but is not an existing file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; name a folder (it is created if missing)")
    return path


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help unless the help already says its default.

    Flags (off unless given) and options without a default value say nothing here: their
    help text must say what happens when they are left out.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (not action.option_strings or "(default" in text or default is None or default is False
                or default == argparse.SUPPRESS or default == []):
            return text
        return f"{text} (default: %(default)s)"


class RawDescriptionDefaultsHelpFormatter(DefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """``DefaultsHelpFormatter`` that keeps the description's own line breaks (examples)."""


class _DeprecatedAlias(argparse.Action):
    """An old spelling of an option: sets the new option's value and warns on stderr."""

    def __init__(self, option_strings: list[str], dest: str, replacement: str = "", **kwargs: Any) -> None:
        self.replacement = replacement
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"bench: warning: {option_string} is deprecated; use {self.replacement}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def deprecated_alias(parser: argparse.ArgumentParser, old: str, new: str, dest: str, **kwargs: Any) -> None:
    """Keep ``old`` working (hidden from --help) so that existing scripts do not break."""
    parser.add_argument(old, dest=dest, action=_DeprecatedAlias, replacement=new, help=argparse.SUPPRESS,
                        default=argparse.SUPPRESS, **kwargs)


def data_option(parser: argparse.ArgumentParser | Any, help: str = "folder of built datasets") -> None:
    """``--data DIR``: the folder that holds built datasets (``data/<name>/``)."""
    parser.add_argument("--data", type=folder, default=DEFAULT_DATA, metavar="DIR", help=help)


def results_option(parser: argparse.ArgumentParser | Any, help: str = "where run ids are looked up") -> None:
    """``--results DIR``: the folder that holds run folders (``results/<run_id>/``)."""
    parser.add_argument("--results", type=folder, default=DEFAULT_RESULTS, metavar="DIR", help=help)


def tracking_uri_option(parser: argparse.ArgumentParser | Any) -> None:
    """``--tracking-uri URI``: where ``bench export --mlflow`` and ``bench run --mlflow`` log (docs/tracking.md)."""
    parser.add_argument("--tracking-uri", metavar="URI",
                        help="MLflow tracking URI: a server (http://HOST:5000), a folder (file:/PATH), or "
                             "sqlite:///FILE.db with the full mlflow package (default: $MLFLOW_TRACKING_URI, else "
                             "MLflow's own default, sqlite:///mlflow.db)")


def format_option(parser: argparse.ArgumentParser, unavailable: Mapping[str, str], note: str = "") -> None:
    """``--format`` with the shared choices; ``unavailable`` maps a format this command cannot render to why."""
    by_reason: dict[str, list[str]] = {}
    for fmt, reason in unavailable.items():
        by_reason.setdefault(reason, []).append(fmt)
    why = (f"; {note}" if note else "") + "".join(f"; {', '.join(fmts)}: {reason}" for reason, fmts in by_reason.items())
    parser.add_argument("--format", choices=TABLE_FORMATS, default="table",
                        help="table: for the terminal; md, csv, json, latex, html: for files and tools" + why)


def check_format(fmt: str, unavailable: Mapping[str, str]) -> None:
    """Raise the reason when this command cannot render ``fmt``."""
    if fmt in unavailable:
        usable = ", ".join(f for f in TABLE_FORMATS if f not in unavailable)
        raise BenchError(f"--format {fmt}: {unavailable[fmt]}; use one of {usable}")


def resampling_options(parser: argparse.ArgumentParser | Any, samples: int, what: str) -> None:
    """``--samples``, ``--confidence``, ``--seed``: the bootstrap behind every CI (``what``)."""
    parser.add_argument("--samples", type=positive_int, default=samples, metavar="N", help=f"bootstrap resamples of {what}")
    parser.add_argument("--confidence", type=fraction, default=0.95, metavar="LEVEL", help="level of every CI")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the resampling")


def statistics_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The options of the paired comparison with the baseline, shared by ``compare`` and ``report``.

    See docs/statistics.md for what each test and correction does.
    """
    group = parser.add_argument_group("statistics", "the paired tests against the baseline run "
                                      "(see docs/statistics.md)")
    group.add_argument("--test", choices=TESTS, default="bootstrap",
                       help="paired test: bootstrap (any metric), mcnemar (error rates), permutation "
                            "(approximate randomization)")
    group.add_argument("--correction", choices=CORRECTIONS, default="holm",
                       help="multiple-comparison correction over every delta of the table "
                            "(holm: family-wise; bh: Benjamini-Hochberg false discovery rate)")
    group.add_argument("--alpha", type=fraction, default=0.05, metavar="LEVEL",
                       help="significance level after correction")
    group.add_argument("--min-effect", type=non_negative, default=0.0, metavar="X",
                       help="smallest significant drop (metric units) that counts as a regression, and "
                            "fails bench compare --fail-on-regression (0: any significant drop)")
    resampling_options(group, 10_000, "the CIs and of the bootstrap and permutation tests")
    return group
