"""Robustness probes: perturbed copies of test items that a trained model is scored on again.

A probe is a kind from ``PROBES`` with checked parameters. ``perturb_items`` applies it to a
frame of test items (``id``, ``text`` and, for stance pairs, ``target``) and says which items
it changed. Randomness (typos, entity swap) comes from a stream named by the probe's label,
its seed and the item id (``bench.stats.bootstrap.named_rng``), so an item's perturbed text
does not depend on the order of the items, on which other items are in the frame, or on
the job. The probe seed is the probe's own parameter, not the model seed, so that every
model and seed of a run is scored on the same perturbed texts (paired across models too).

Which field each probe touches (``text`` is the body or article, ``target`` the headline or
claim of a pair):

- ``typos``: both; each letter is hit with probability ``rate`` by one of: deleted,
  replaced by a random lowercase letter, doubled, swapped with the next character.
- ``lowercase``: both (``str.lower``).
- ``no_lead``: ``text``: a leading byline and dateline (``By Name``, ``LONDON (Reuters) -``,
  ``KANSAS CITY, Mo. -``, ``(CNN) --``), see ``strip_lead``.
- ``headline_only`` / ``body_only`` (pairs only): the body, resp. the headline, becomes empty.
- ``truncate``: ``text``: its first ``words`` whitespace-separated words.
- ``entity_swap``: names that ``find_entities`` finds in ``text`` are replaced, in ``text``
  and wherever they occur in ``target`` (one mapping per item, so a pair keeps its shared
  names shared), by other names of the same number of words from the same test items.
  Names are looked for in the body only: title-case headlines would make every word a name.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.core.registry import Registry

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Bump when a probe's output for the same input and parameters changes: it keys cached probe matrices.
PERTURB_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class ProbeParam:
    """One parameter of a probe kind: its type, default and allowed range (inclusive)."""

    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    example: str = ""


@dataclass(frozen=True, kw_only=True)
class ProbeKind:
    """A kind of perturbation.

    Attributes:
        name: the ``name`` in configs.
        description: one line for the docs.
        params: its parameters (all have defaults).
        pairs_only: applies to stance pairs only (headline and body).
        apply: ``(text, target, params, context) -> (text, target)``; ``target`` is ``None``
            for single-text items.
    """

    name: str
    description: str
    apply: Callable[..., tuple[str, str | None]]
    params: Mapping[str, ProbeParam] = field(default_factory=dict)
    pairs_only: bool = False


@dataclass(frozen=True)
class Probe:
    """A probe with every parameter resolved; ``label`` names it in rows and files."""

    name: str
    params: tuple[tuple[str, Any], ...]

    @property
    def label(self) -> str:
        """``typos(rate=0.05, seed=0)``, or the bare name for a probe without parameters."""
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.params)})"

    @property
    def kind(self) -> ProbeKind:
        return PROBES.get(self.name)

    def param(self, name: str) -> Any:
        return dict(self.params)[name]


class ProbeParamError(ValueError):
    """A probe parameter is wrong; ``str()`` is ``"<key>: <problem>; <fix>"``."""


def resolve_probe(name: str, params: Mapping[str, Any]) -> Probe:
    """The probe ``name`` with ``params`` checked and defaults filled in.

    Raises:
        UnknownNameError: ``name`` is not a probe (with suggestions).
        ProbeParamError: an unknown parameter, a wrong type or a value out of range.
    """
    kind = PROBES.get(name)
    resolved = []
    for key in params:
        if key not in kind.params:
            hint = difflib.get_close_matches(str(key), list(kind.params), n=1)
            known = f"expected one of {', '.join(kind.params)}" if kind.params else "it takes no parameters"
            raise ProbeParamError(f"params.{key}: unknown parameter of probe {name!r}; "
                                  + (f"did you mean {hint[0]!r}?" if hint else known))
    for key, spec in kind.params.items():
        value = params.get(key, spec.default)
        ok = isinstance(value, spec.kind) and not isinstance(value, bool)
        if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ProbeParamError(f"params.{key}: expected {spec.kind.__name__}, got {value!r}; e.g. {spec.example}")
        if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
            raise ProbeParamError(f"params.{key}: {value!r} is outside [{spec.low}, {spec.high}]; "
                                  f"e.g. {spec.example}")
        resolved.append((key, value))
    return Probe(name=name, params=tuple(resolved))


# --- the perturbations -----------------------------------------------------------------------

def _letters(codes: np.ndarray) -> np.ndarray:
    """Which code points are letters (``str.isalpha``), looked up once per distinct non-ASCII one."""
    import numpy as np

    low = codes | 32
    mask = (low >= 97) & (low <= 122)
    wide = codes > 127
    if wide.any():
        distinct = np.unique(codes[wide])
        alpha = distinct[[chr(int(c)).isalpha() for c in distinct]]
        mask |= wide & np.isin(codes, alpha)
    return mask


def add_typos(text: str, rate: float, rng: np.random.Generator) -> str:
    """Character noise: each letter is hit with probability ``rate`` by one of four edits.

    The edits, equally likely: delete it, replace it by a random lowercase ASCII letter,
    double it, or swap it with the next character (which is then not edited itself; a swap
    right after a swap is dropped). Vectorised over the code points of the text.
    """
    import numpy as np

    if not text or rate == 0:
        return text
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).copy()
    n = len(codes)
    hit = (rng.random(n) < rate) & _letters(codes)
    ops = rng.integers(0, 4, n)
    letters = rng.integers(0, 26, n).astype(np.uint32) + ord("a")
    swap = hit & (ops == 3)
    swap[-1] = False
    swap[1:] &= ~swap[:-1]
    partner = np.zeros(n, dtype=bool)
    partner[1:] = swap[:-1]
    edit = hit & ~swap & ~partner
    at = np.flatnonzero(swap)
    codes[at], codes[at + 1] = codes[at + 1], codes[at].copy()
    substitute = edit & (ops == 1)
    codes[substitute] = letters[substitute]
    repeats = np.ones(n, dtype=np.int64)
    repeats[edit & (ops == 0)] = 0
    repeats[edit & (ops == 2)] = 2
    return np.repeat(codes, repeats).tobytes().decode("utf-32-le")


_DASH = r"(?:-{1,2}|–|—)"
_OUTLET = r"\((?:[A-Za-z][A-Za-z .&'/-]{0,30})\)"
_PLACE_CAPS = r"[A-Z][A-Z.'-]+(?:\s+[A-Z][A-Z.'-]+){0,3}"  # LONDON, KANSAS CITY, ST. LOUIS
_REGION = r"(?:,\s*[A-Z][A-Za-z.]*(?:\s+[A-Z][A-Za-z.]*){0,2})?"  # , Mo. / , Nigeria
_DATE = r"(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"  # , Nov 1
_PLACE_ANY = r"[A-Z][A-Za-z.'-]+(?:\s+[A-Z][A-Za-z.'-]+){0,3}"  # New York (CNN) --
_BYLINE = r"By\s+[A-Z][a-zA-Z.'-]+(?:\s+[A-Z][a-zA-Z.'-]+){0,3}"
_LEAD = re.compile(
    rf"^\s*(?:{_BYLINE}\s+)?"
    rf"(?:(?:{_PLACE_ANY}{_REGION}{_DATE}\s*)?{_OUTLET}\s*{_DASH}"  # [place] (Outlet) -
    rf"(?:\s+[A-Z][a-z]+,\s*[A-Z][a-z]+\s+\d{{1,2}}\s*{_DASH})?"  # (ANSA) - Ancona, January 23 -
    # PLACE[, Region] -: one capitals word of 4+ characters or several ("LOL -", "US -" stay)
    rf"|(?=[A-Z][A-Z.'-]{{3}}|[A-Z][A-Z.'-]*\s+[A-Z]{{2}})(?:{_PLACE_CAPS}){_REGION}{_DATE}\s*{_DASH})\s+")
_BYLINE_LINE = re.compile(rf"^\s*{_BYLINE}\s*\n")


def strip_lead(text: str) -> str:
    """The text without a leading byline or dateline, or ``text`` itself when it has none.

    The rule (documented in docs/generalization.md): at the very start, an optional ``By``
    and one to four capitalised words, then an outlet in parentheses followed by a dash,
    optionally after a place, region and date (``ABUJA, Nov 1 (Reuters) -``, ``(CNN) --``,
    ``New York (CNN) --``), or a place written in capitals of at least four characters
    followed by a dash (``LONDON —``, ``KANSAS CITY, Mo. -``); or a first line that is only a
    byline. A lead that needs a colon (``BREAKING:``) is left alone: colons start too many
    ordinary sentences.
    """
    match = _LEAD.match(text)
    if match:
        return text[match.end():]
    match = _BYLINE_LINE.match(text)
    return text[match.end():] if match else text


def truncate_words(text: str, words: int) -> str:
    """The first ``words`` whitespace-separated words, original spacing kept inside them."""
    match = re.match(rf"\s*(?:\S+\s+){{{words - 1}}}\S+", text)
    return match.group(0) if match else text


# A name: two to four capitalised words (letters, inner apostrophes or hyphens), e.g. "Helena
# Varga", "Kansas City", "Boko Haram". Function words capitalised at a sentence start are cut off.
_NAME = re.compile(r"\b[A-Z][a-z]+(?:['’-][A-Za-z]+)?(?:\s[A-Z][a-z]+(?:['’-][A-Za-z]+)?){1,3}\b")
_FUNCTION_WORDS = frozenset(
    "A An And As At But By For From He Her His How If In Is It Its Mr Mrs Ms Dr No Not Of On Or She So "
    "That The Their There These They This Those To Was We What When Where Which While Who Why With You".split())


def find_entities(text: str) -> list[str]:
    """Names in ``text`` by a capitalisation rule (no model): distinct, in order of first use.

    Leading function words (``The``, ``In``...) are dropped; what remains must still be two
    or more words. Single-word names (``Obama``) and lowercase or all-caps names are missed,
    and capitalised phrases that are not names (``Prime Minister``) are caught.
    """
    found: dict[str, None] = {}
    for match in _NAME.finditer(text):
        words = match.group(0).split(" ")
        while words and words[0] in _FUNCTION_WORDS:
            words = words[1:]
        if len(words) >= 2:
            found[" ".join(words)] = None
    return list(found)


@dataclass(frozen=True)
class ProbeContext:
    """What a perturbation may need besides the item: its random stream, the entity pool, and caches.

    The caches (names per text, a pattern per set of names) only save work on texts that
    repeat (FNC-1 pairs one body with many headlines); they never change an output.
    """

    rng: np.random.Generator
    entity_pool: Mapping[int, Sequence[str]]
    cache: dict[Any, Any] = field(default_factory=dict)

    def entities(self, text: str) -> list[str]:
        if ("names", text) not in self.cache:
            self.cache["names", text] = find_entities(text)
        return self.cache["names", text]

    def pattern(self, names: tuple[str, ...]) -> re.Pattern[str]:
        if ("pattern", names) not in self.cache:
            self.cache["pattern", names] = re.compile("|".join(re.escape(n) for n in names))
        return self.cache["pattern", names]


def _swap_entities(texts: Sequence[str], ctx: ProbeContext) -> list[str]:
    """Every name of the item replaced by another of the same length (one mapping for the item)."""
    names = ctx.entities(texts[0])  # the body's names; a title-case headline would make every word a name
    mapping = {}
    for name in names:
        pool = ctx.entity_pool.get(len(name.split(" ")), ())
        if len(pool) < 2:
            continue
        j = int(ctx.rng.integers(len(pool) - 1))  # any other name of the pool, equally likely
        mapping[name] = pool[j + (j >= bisect.bisect_left(pool, name))]
    if not mapping:
        return list(texts)
    pattern = ctx.pattern(tuple(sorted(mapping, key=lambda n: (-len(n), n))))
    return [pattern.sub(lambda m: mapping[m.group(0)], t) for t in texts]


def _both(fn: Callable[[str], str], text: str, target: str | None) -> tuple[str, str | None]:
    return fn(text), None if target is None else fn(target)


def _typos(text: str, target: str | None, p: Mapping[str, Any], ctx: ProbeContext) -> tuple[str, str | None]:
    return _both(lambda t: add_typos(t, p["rate"], ctx.rng), text, target)


def _entity_swap(text: str, target: str | None, p: Mapping[str, Any], ctx: ProbeContext) -> tuple[str, str | None]:
    if target is None:
        return _swap_entities([text], ctx)[0], None
    new_text, new_target = _swap_entities([text, target], ctx)
    return new_text, new_target


_SEED = ProbeParam(kind=int, default=0, low=0, example="seed: 0")
PROBES: Registry[ProbeKind] = Registry("probe", {"typo": ["typos"], "noise": ["typos"], "lower": ["lowercase"],
                                                 "casefold": ["lowercase"], "truncation": ["truncate"],
                                                 "headline": ["headline_only"], "body": ["body_only"],
                                                 "lead": ["no_lead"], "entities": ["entity_swap"]})
for _kind in (
    ProbeKind(name="typos", description="character noise: each letter deleted, replaced, doubled or swapped "
              "with probability `rate`", apply=_typos,
              params={"rate": ProbeParam(kind=float, default=0.05, low=0.0, high=1.0, example="rate: 0.05"),
                      "seed": _SEED}),
    ProbeKind(name="lowercase", description="every character lowercased",
              apply=lambda text, target, p, ctx: _both(str.lower, text, target)),
    ProbeKind(name="no_lead", description="a leading byline/dateline removed from the body (`LONDON (Reuters) -`)",
              apply=lambda text, target, p, ctx: (strip_lead(text), target)),
    ProbeKind(name="headline_only", description="pairs: the body emptied, the headline (target) kept",
              apply=lambda text, target, p, ctx: ("", target), pairs_only=True),
    ProbeKind(name="body_only", description="pairs: the headline (target) emptied, the body kept",
              apply=lambda text, target, p, ctx: (text, ""), pairs_only=True),
    ProbeKind(name="truncate", description="the body cut to its first `words` words",
              apply=lambda text, target, p, ctx: (truncate_words(text, p["words"]), target),
              params={"words": ProbeParam(kind=int, default=50, low=1, example="words: 50")}),
    ProbeKind(name="entity_swap", description="multi-word capitalised names swapped for other names of the test items",
              apply=_entity_swap, params={"seed": _SEED}),
):
    PROBES.add(_kind.name, _kind)


def entity_pool(items: pd.DataFrame) -> dict[int, list[str]]:
    """Names of the items' texts by number of words, sorted, so that item order never matters."""
    pool: dict[int, set[str]] = {}
    for text in items["text"].astype(str).drop_duplicates():
        for name in find_entities(text):
            pool.setdefault(len(name.split(" ")), set()).add(name)
    return {k: sorted(v) for k, v in pool.items()}


@dataclass(frozen=True, kw_only=True, eq=False)
class Perturbed:
    """A probe's version of the test items: the same rows and ids, new ``text``/``target``."""

    probe: Probe
    items: pd.DataFrame
    changed: np.ndarray  # bool per row: whether the probe changed the row's text or target

    @property
    def n_changed(self) -> int:
        return int(self.changed.sum())


def perturb_items(items: pd.DataFrame, probe: Probe, *, stance: bool) -> Perturbed:
    """The probe applied to every row of ``items`` (``id``, ``text``, and ``target`` when ``stance``).

    Raises:
        ValueError: a pairs-only probe on single texts.
    """
    import numpy as np

    from bench.stats.bootstrap import named_rng

    kind = probe.kind
    if kind.pairs_only and not stance:
        raise ValueError(f"probe {probe.name!r} applies to headline/body pairs only")
    params = dict(probe.params)
    seed = int(params.get("seed", 0))
    pool = entity_pool(items) if probe.name == "entity_swap" else {}
    texts = items["text"].astype(str).tolist()
    targets = items["target"].astype(str).tolist() if stance else [None] * len(texts)
    new_texts, new_targets = [], []
    cache: dict[Any, Any] = {}
    for item_id, text, target in zip(items["id"].astype(str), texts, targets, strict=True):
        ctx = ProbeContext(rng=named_rng(seed, "probe", probe.label, PERTURB_VERSION, item_id), entity_pool=pool,
                           cache=cache)
        new_text, new_target = kind.apply(text, target, params, ctx)
        new_texts.append(new_text)
        new_targets.append(new_target)
    changed = np.array([a != b or c != d for a, b, c, d in zip(texts, new_texts, targets, new_targets)], dtype=bool)
    out = items.assign(text=new_texts)
    if stance:
        out = out.assign(target=new_targets)
    return Perturbed(probe=probe, items=out, changed=changed)
