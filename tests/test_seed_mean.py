"""The run table's bracket is an interval for the seed mean it stands beside (``bench show``, ``bench run``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.results.store import RunDir
from tests.run_factory import gold_labels
from tests.test_compare_inference import _recipe_seeds


def _bracket(text: str, model: str) -> tuple[float, float]:
    line = next(line for line in text.splitlines() if f"| {model} |" in line)
    low, high = re.search(r"\[([0-9.]+), ([0-9.]+)\]", line).groups()
    return float(low), float(high)


def test_show_brackets_the_seed_mean_over_items_and_seeds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = gold_labels(np.random.default_rng(3), 800)
    # seeds of one recipe 6 accuracy points apart: the seed mean is uncertain well beyond the items
    run = _recipe_seeds(gold, [0.03, -0.03, 0.0], "spread", tmp_path, shared=0.8)
    assert main(["show", str(run), "--format", "md"]) == 0
    text = capsys.readouterr().out
    low, high = _bracket(text, "sgd")
    rows = RunDir.open(run).metrics
    acc = rows[rows.metric == "accuracy"]
    per_seed_low, per_seed_high = acc["ci_low"].mean(), acc["ci_high"].mean()
    mean, sd = acc["value"].mean(), acc["value"].std(ddof=1)
    assert low < mean < high
    # the mean of the seeds' bounds is narrower than the seed mean's uncertainty (sd / sqrt(3) * t_2)
    assert high - low > (per_seed_high - per_seed_low) + 0.02
    assert high - low > 2 * 1.96 * sd / np.sqrt(3)
    assert "- [ ]: the 95% CI of the seed mean over test items and seeds (percentile, 200 resamples" in text


def test_one_seed_keeps_the_stored_item_interval(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gold = gold_labels(np.random.default_rng(4), 300)
    run = _recipe_seeds(gold, [0.0], "single", tmp_path)
    assert main(["show", str(run), "--format", "md"]) == 0
    text = capsys.readouterr().out
    rows = RunDir.open(run).metrics
    acc = rows[rows.metric == "accuracy"].iloc[0]
    assert _bracket(text, "sgd") == (round(acc["ci_low"], 4), round(acc["ci_high"], 4))
    assert "[ ]: 95% bootstrap CI over test items" in text
