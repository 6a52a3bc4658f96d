"""The ``bench`` command: parse arguments, dispatch to a sub-command, map errors to exit codes.

Exit codes: 0 success; 1 a regression gate failed; 2 a user error, printed as one line
``bench: error: <file>:<line>: <key>: <problem>; <fix>``. Any other exception is a bug and
keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import bench.commands
from bench.core.version import __version__
from bench.core.errors import BenchError


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors in the project's one-line shape (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"bench: error: {self.prog}: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    """The full parser; every module in ``bench.commands`` registers its sub-commands."""
    parser = _Parser(prog="bench", description="News stance and topic classification benchmarks.")
    parser.add_argument("--version", action="version", version=f"newsbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(bench.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bench.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bench`` command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
