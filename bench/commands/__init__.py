"""One module per ``bench`` sub-command.

Each module defines ``register(subparsers)`` that adds its parser and sets
``handler=<function(args) -> int>``. Modules import only the standard library and light
``bench`` modules at top level: heavy libraries (scikit-learn, datasets) are imported
inside handlers so that ``bench --help`` and ``bench validate`` start fast. The argument
types below are shared by the sub-commands.
"""

import argparse


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
