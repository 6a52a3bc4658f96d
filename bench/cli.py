"""The ``bench`` command: parse arguments, dispatch to a sub-command, map errors to exit codes.

Exit codes: 0 success; 1 a regression gate failed; 2 a user error, printed as one line
``bench: error: <file>:<line>: <key>: <problem>; <fix>``. A message is forced onto one line
here whatever produced it (a library message with line breaks included). A filesystem
failure (no space left, a read-only or unwritable folder, a file where a folder should be)
is the user's to fix too: one line naming the path and the fix, exit 2. Any other exception
is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from bench.commands import DefaultsHelpFormatter
from bench.core.version import __version__
from bench.core.errors import BenchError

# The modules of bench.commands in pipeline order, which is the order of `bench --help`:
# build data, check and run a config, look at runs, compare and re-score them, bring in
# outside predictions, write the report, send runs to a tracker.
COMMAND_MODULES = ("data", "run", "runs", "compare", "report", "export")


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors in the project's one-line shape (exit 2) and defaults in --help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"bench: error: {one_line(f'{self.prog}: {message}')}; see `{self.prog} --help`\n")


# Filesystem failures a user fixes outside newsbench (errno -> the fix). Other OSErrors are bugs.
_OS_FIXES = {
    errno.ENOSPC: "free space or point --data/--results at another disk",
    errno.EDQUOT: "free space or point --data/--results at another disk",
    errno.EROFS: "point --data/--results at a writable folder",
    errno.EACCES: "make the folder writable for you or choose another with --data/--results",
    errno.EPERM: "make the folder writable for you or choose another with --data/--results",
    errno.ENOTDIR: "move the file away or choose another folder",
    errno.EEXIST: "move the file away or choose another folder",
    errno.EISDIR: "move the folder away",
    errno.ELOOP: "fix the link",
    errno.ENAMETOOLONG: "choose a shorter name or folder",
}


def one_line(message: str) -> str:
    """``message`` on one line: its lines joined by a space, blank lines dropped."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


def os_error_message(exc: OSError) -> str:
    """``<path>: <what the system said>; <fix>`` for a filesystem failure the user can fix."""
    said = exc.strerror or str(exc)
    fix = _OS_FIXES.get(exc.errno or 0, "check the path")
    return f"{exc.filename}: {said}; {fix}" if exc.filename is not None else f"{said}; {fix}"


def build_parser() -> argparse.ArgumentParser:
    """The full parser; every module of ``COMMAND_MODULES`` registers its sub-commands."""
    parser = _Parser(prog="bench", description="News stance and topic classification benchmarks.")
    parser.add_argument("--version", action="version", version=f"newsbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"bench.commands.{name}").register(sub)
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
        print(f"bench: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in _OS_FIXES:
            raise
        print(f"bench: error: {one_line(os_error_message(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
