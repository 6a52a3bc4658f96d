"""Matplotlib plumbing shared by the report's figures: fonts, figure size and margins, PNG bytes.

Figures are made with ``matplotlib.figure.Figure`` and never through ``pyplot``, so no GUI
backend is touched and no global figure state leaks between reports. Text uses DejaVu Sans
(shipped with matplotlib: Latin with accents, Greek, Cyrillic, Hebrew, Arabic letters) and
falls back, glyph by glyph, to any installed Noto/CJK font for other scripts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100
FALLBACK_FONTS = ("Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans Arabic", "Noto Sans Devanagari",
                  "Droid Sans Fallback", "WenQuanYi Zen Hei")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, kw_only=True)
class Plot:
    """One figure: a file-safe name, a title, a caption that says how to read it, PNG bytes."""

    name: str
    title: str
    caption: str
    png: bytes


def safe_name(text: str) -> str:
    """A file-name part: unsafe characters become ``-``."""
    return _UNSAFE.sub("-", text).strip("-") or "x"


@contextmanager
def style() -> Iterator[None]:
    """Fonts and sizes for the report, without touching the caller's matplotlib settings."""
    import matplotlib
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    fonts = ["DejaVu Sans", *(f for f in FALLBACK_FONTS if f in installed)]
    with matplotlib.rc_context({"font.family": fonts, "font.size": 9, "axes.titlesize": 10,
                                "axes.spines.top": False, "axes.spines.right": False}):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure whose margins are set by hand (``_margins``): constrained layout doubles the drawing time."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI)


def text_inches(texts: Sequence[str], size: float = 9.0) -> float:
    """About how wide the longest text is (DejaVu Sans averages 0.56 em per character)."""
    return 0.56 * size / 72 * max((len(t) for t in texts), default=0)


def set_margins(fig: Figure, left: float, right: float, bottom: float, top: float) -> None:
    """Axes margins in inches: set by hand, since constrained layout measures every text twice."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)


def to_png(fig: Figure) -> bytes:
    """PNG bytes without timestamp or version metadata, so the same figure gives the same bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
