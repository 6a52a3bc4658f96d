"""The bundled demo corpus meets its documented requirements (counted from the files)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
TOPICS = {"defence", "diplomacy", "economy", "energy_climate", "health", "technology"}
TARGETS = {"nuclear_arms_control", "economic_sanctions", "ai_regulation"}


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return pd.read_csv(SEEDS / "labels.csv", dtype=str, keep_default_na=False)


def test_every_article_has_one_label_row(labels: pd.DataFrame) -> None:
    files = sorted(p.name for p in SEEDS.glob("*.txt"))
    assert sorted(labels.file) == files
    assert len(files) >= 240
    counts = labels.language.value_counts()
    assert counts["fr"] >= 100 and counts["en"] >= 100
    assert all(name.startswith(lang + "_") for name, lang in zip(labels.file, labels.language))


def test_articles_are_in_the_raw_format_with_body_length_in_range(labels: pd.DataFrame) -> None:
    residue = 0
    for name in labels.file:
        lines = [l for l in (SEEDS / name).read_text(encoding="utf-8").splitlines() if l.strip()]
        assert re.match(r"^\([^()]+\) - \S", lines[1]), name
        residue += any(l.startswith("![") for l in lines)
        body = [l for l in lines[1:] if not l.startswith("![") and not l.rstrip().endswith("|")]
        n_words = len(re.sub(r"^\([^()]+\) - ", "", " ".join(body)).split())
        assert 80 <= n_words <= 250, (name, n_words)
    assert 0.2 <= residue / len(labels) <= 0.3


def test_topic_labels(labels: pd.DataFrame) -> None:
    assert set(labels.topic) == TOPICS
    topics = labels.topics.str.split("|")
    assert all(1 <= len(t) <= 3 and set(t) <= TOPICS for t in topics)
    assert all(main in t for main, t in zip(labels.topic, topics))
    assert (topics.str.len() > 1).mean() >= 0.2


def test_stance_labels_cover_three_targets_with_balanced_labels(labels: pd.DataFrame) -> None:
    stance = labels[labels.target != ""]
    assert len(stance) >= 150 and set(stance.target) == TARGETS
    assert set(stance.stance) == {"favor", "against", "neutral"}
    shares = pd.crosstab(stance.target, stance.stance, normalize="index")
    assert (shares >= 0.2).all().all()
    assert (stance.device != "").mean() >= 0.15
    assert (labels[labels.target == ""].stance == "").all()


def test_second_pass_agreement_matches_readme(labels: pd.DataFrame) -> None:
    second = pd.read_csv(SEEDS / "annotation" / "stance_second_pass.csv", dtype=str)
    pairs = labels[labels.target != ""].merge(second, on=["file", "target"], suffixes=("", "_2"))
    assert len(pairs) == (labels.target != "").sum()
    kappa = cohen_kappa_score(pairs.stance, pairs.stance_2)
    documented = re.search(r"Cohen's kappa = ([0-9.]+)", (SEEDS / "README.md").read_text()).group(1)
    assert f"{kappa:.2f}" == documented
