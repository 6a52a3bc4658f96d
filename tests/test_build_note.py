"""A dataset built inside ``bench run`` says so on stderr, with what the build dropped or found."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main
from tests.tiny_news import write_topic


def test_a_build_inside_run_is_reported_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_topic(tmp_path / "src", n_train=30, n_test=15)
    train = next(spec.parent.rglob("train*.csv"))
    lines = train.read_text(encoding="utf-8").splitlines()
    copies = ["x" + line for line in lines[1:3]]  # new ids, same texts and labels: two exact copies
    train.write_text("\n".join([*lines, *copies]) + "\n", encoding="utf-8")
    config = tmp_path / "c.yaml"
    config.write_text(f"name: note\ndatasets: [{spec}]\nfeatures: [{{name: w, kind: tfidf}}]\n"
                      "models: [{name: m, estimator: majority}]\nevaluation: {bootstrap: {samples: 50}}\n",
                      encoding="utf-8")
    args = ["run", str(config), "--data", str(tmp_path / "data"), "--results", str(tmp_path / "results")]
    assert main(args) == 0
    err = capsys.readouterr().err
    note = [line for line in err.splitlines() if "built dataset tiny_topic" in line]
    assert len(note) == 1, err
    assert "47 rows" in note[0] and "dropped: none; found: duplicate 2" in note[0], note[0]
    assert main(args) == 0
    assert "built dataset" not in capsys.readouterr().err  # reused: nothing built, nothing said
