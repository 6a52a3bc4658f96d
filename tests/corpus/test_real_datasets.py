"""The real-data specs in configs/datasets/ build into the row and label counts of each README.

Integration tests: they need the public datasets under ``NEWSBENCH_DATA`` (the ``data_root``
fixture skips without them). Each spec is built once per module into a temporary data root;
the expected numbers are the ones printed in ``$NEWSBENCH_DATA/<dataset>/README.md``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import BuiltDataset, ensure_built, load_split

pytestmark = pytest.mark.integration

SPECS = Path(__file__).resolve().parents[2] / "configs" / "datasets"

FNC_LABELS = ("agree", "disagree", "discuss", "unrelated")
SIB_TRAIN = {"science/technology": 176, "travel": 138, "politics": 102, "sports": 85, "health": 77,
             "entertainment": 65, "geography": 58}
SIB_DEV = {"science/technology": 25, "travel": 20, "politics": 14, "sports": 12, "health": 11,
           "entertainment": 9, "geography": 8}
SIB_TEST = {"science/technology": 51, "travel": 40, "politics": 30, "sports": 25, "health": 22,
            "entertainment": 19, "geography": 17}

# Splits given by the source (or by a file of ids): exact label counts per split, from the READMEs.
EXACT: dict[str, dict[str, dict[str, int]]] = {
    "fnc1": {
        "train": {"unrelated": 29647, "discuss": 7109, "agree": 2916, "disagree": 678},
        "test": {"unrelated": 6898, "discuss": 1800, "agree": 762, "disagree": 162},
    },
    "arc": {
        "train": {"unrelated": 10670, "disagree": 1402, "agree": 1257, "discuss": 904},
        "test": {"unrelated": 2674, "disagree": 372, "agree": 334, "discuss": 179},
    },
    "masakhanews_fra": {
        "train": dict.fromkeys(["business", "health", "politics", "sports", "technology"], 50),
        "dev": {"business": 50, "health": 50, "politics": 50, "sports": 50, "technology": 11},
        "test": {"business": 100, "health": 100, "politics": 100, "sports": 100, "technology": 22},
    },
    "masakhanews_eng": {
        "train": dict.fromkeys(["business", "entertainment", "health", "politics", "sports", "technology"], 50),
        "dev": {"sports": 100, "politics": 82, "business": 80, "entertainment": 75, "health": 74,
                "technology": 61},
        "test": {"sports": 200, "politics": 165, "business": 160, "entertainment": 150, "health": 150,
                 "technology": 123},
    },
    "sib200_fra": {"train": SIB_TRAIN, "dev": SIB_DEV, "test": SIB_TEST},
    "sib200_eng": {"train": SIB_TRAIN, "dev": SIB_DEV, "test": SIB_TEST},
    "article_bias": {
        "train": {"left": 1000, "center": 1000, "right": 1000},
        "dev": {"left": 1640, "center": 618, "right": 98},
        "test": {"right": 599, "left": 402, "center": 299},
    },
}

# Splits made by the spec (train -> train + test): label counts over both, and the test share.
MADE: dict[str, tuple[dict[str, int], float]] = {
    "semeval2016": ({"AGAINST": 1342, "NONE": 741, "FAVOR": 731}, 0.2),
    # 2,225 articles minus the 133 that repeat another body (README "Known issue")
    "bbc": ({"sport": 494, "business": 500, "politics": 395, "tech": 337, "entertainment": 366}, 0.2),
    "ag_news": ({"World": 1900, "Sports": 1900, "Business": 1900, "Sci/Tech": 1900}, 0.2),
    "x_stance_fr": ({"FAVOR": 539, "AGAINST": 516}, 0.2),
}


@pytest.fixture(scope="module")
def built_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def cache() -> dict[str, BuiltDataset]:
    return {}


@pytest.fixture
def build(data_root: Path, built_root: Path, cache: dict[str, BuiltDataset]):
    """Build a spec once per module (``data_root`` makes sure NEWSBENCH_DATA is set)."""
    def _build(name: str) -> BuiltDataset:
        if name not in cache:
            cache[name] = ensure_built(SPECS / f"{name}.yaml", data_root=built_root)
        return cache[name]
    return _build


def stats(ds: BuiltDataset) -> dict[str, Any]:
    return json.loads((ds.path / "stats.json").read_text(encoding="utf-8"))


def label_counts(ds: BuiltDataset, split: str) -> dict[str, int]:
    counts = stats(ds)["splits"][split]["label_counts"]
    return {label: n for label, n in counts.items() if n}


def test_every_real_data_spec_is_covered() -> None:
    real = [p.stem for p in SPECS.glob("*.yaml") if "${NEWSBENCH_DATA}" in p.read_text(encoding="utf-8")]
    assert sorted(real) == sorted([*EXACT, *MADE])


@pytest.mark.parametrize("name", sorted(EXACT))
def test_predefined_splits_have_the_readme_counts(build, name: str) -> None:
    ds = build(name)
    expected = EXACT[name]
    assert sorted(ds.splits) == sorted(expected)
    for split, counts in expected.items():
        assert label_counts(ds, split) == counts, split
        assert stats(ds)["splits"][split]["n_rows"] == sum(counts.values())


@pytest.mark.parametrize("name", sorted(MADE))
def test_made_splits_keep_every_row_and_stratify(build, name: str) -> None:
    ds = build(name)
    totals, share = MADE[name]
    assert sorted(ds.splits) == ["test", "train"]
    train, test = label_counts(ds, "train"), label_counts(ds, "test")
    # rows dropped from test as near-duplicates of train rows (bbc) are counted, never lost
    dropped = stats(ds)["audit"]["dropped"].get("near_overlap", 0)
    assert sum(totals.values()) - sum(train.values()) - sum(test.values()) == dropped
    assert all(train.get(label, 0) + test.get(label, 0) <= n for label, n in totals.items())
    n_test, n_all = sum(test.values()) + dropped, sum(totals.values())
    if name == "x_stance_fr":  # grouped by question: the share is only approximate
        assert abs(n_test / n_all - share) < 0.05
    else:  # stratified: each class within one row of its share (before the near-duplicate drop)
        assert abs(n_test - share * n_all) <= len(totals)
        for label, n in totals.items():
            assert -1 - dropped <= test[label] - share * n <= 1, label


def test_fnc1_body_text_is_joined_and_no_body_straddles_the_split(build) -> None:
    ds = build("fnc1")
    assert ds.task == "stance" and ds.labels == FNC_LABELS
    train, test = load_split(ds, "train"), load_split(ds, "test")
    assert (len(train), len(test)) == (40350, 9622)
    assert set(train["group"]).isdisjoint(set(test["group"]))
    assert test["group"].nunique() == 337 and train["group"].nunique() == 1346
    assert train["text"].str.len().min() > 0 and train["target"].str.len().min() > 0
    # the body, not the headline, is the text (5 pairs of the data have a body equal to its headline)
    assert (train["text"] == train["target"]).sum() == 5
    audit = stats(ds)["audit"]
    # 402 exact duplicate rows in the file (README), 437 repeated (body, headline) after the join
    assert audit["duplicates"] == {"train": 437}
    # 5 hold-out bodies repeat the text of a train body under another Body ID: 112 test pairs
    assert audit["overlap"]["test"]["exact"] == 112


def test_semeval_targets_and_hashtag(build) -> None:
    ds = build("semeval2016")
    both = [load_split(ds, s) for s in ("train", "test")]
    targets = Counter(t for frame in both for t in frame["target"])
    assert targets == {"Atheism": 513, "Climate Change is a Real Concern": 395, "Feminist Movement": 664,
                       "Hillary Clinton": 639, "Legalization of Abortion": 603}
    texts = [t for frame in both for t in frame["text"]]
    assert sum("#SemST" in t for t in texts) == len(texts) == 2814


def test_bbc_duplicate_bodies_are_dropped_before_the_split(build) -> None:
    ds = build("bbc")
    train, test = load_split(ds, "train"), load_split(ds, "test")
    audit = stats(ds)["audit"]
    assert audit["dropped"] == {"duplicate": 133, "near_overlap": 6}
    assert len(train) + len(test) == 2225 - 133 - 6
    assert set(train["text"]).isdisjoint(set(test["text"]))
    assert audit["overlap"]["test"]["exact"] == 0


def test_x_stance_is_french_only_and_split_by_question(build) -> None:
    ds = build("x_stance_fr")
    train, test = load_split(ds, "train"), load_split(ds, "test")
    assert len(train) + len(test) == 1055
    assert set(train["group"]).isdisjoint(set(test["group"]))
    assert train["group"].nunique() + test["group"].nunique() == 150


def test_ag_news_labels_are_named_in_class_order(build) -> None:
    ds = build("ag_news")
    assert ds.labels == ("World", "Sports", "Business", "Sci/Tech")
    frame = load_split(ds, "test")
    assert frame["text"].str.contains("\n").all()  # title + description
    assert (frame["title"].str.len() > 0).all()


def test_sib200_languages_are_parallel(build) -> None:
    fra, eng = build("sib200_fra"), build("sib200_eng")
    for split in ("train", "dev", "test"):
        a, b = load_split(fra, split), load_split(eng, split)
        assert list(a["id"]) == list(b["id"]) and list(a["label"]) == list(b["label"])
