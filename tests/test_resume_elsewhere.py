"""``bench run --resume`` from another folder reads relative dataset spec paths where the run started."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main
from tests.test_integrity import CONFIG, as_interrupted, run_ok
from tests.tiny_news import write_topic


def test_resume_from_another_folder_gives_the_uninterrupted_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    topic = write_topic(tmp_path / "src" / "topic")
    config = tmp_path / "integrity.yaml"
    config.write_text(CONFIG.format(topic=topic.relative_to(tmp_path)), encoding="utf-8")
    project = {"config": config, "data": tmp_path / "data", "results": tmp_path / "results"}
    monkeypatch.chdir(tmp_path)
    run_dir, _ = run_ok(project, capsys)
    expected = (run_dir / "metrics.json").read_bytes()
    partial = as_interrupted(run_dir, drop=2)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code = main(["run", "--resume", str(partial), "--data", str(project["data"]), "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert (run_dir / "metrics.json").read_bytes() == expected


def test_a_spec_missing_where_the_run_started_names_that_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    topic = write_topic(tmp_path / "src" / "topic")
    config = tmp_path / "integrity.yaml"
    config.write_text(CONFIG.format(topic=topic.relative_to(tmp_path)), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run_dir, _ = run_ok({"config": config, "data": tmp_path / "data", "results": tmp_path / "results"}, capsys)
    partial = as_interrupted(run_dir)
    topic.rename(topic.with_name("moved.yaml"))
    monkeypatch.chdir(tmp_path / "src")
    assert main(["run", "--resume", str(partial), "--data", str(tmp_path / "data"), "--quiet"]) == 2
    assert f"relative to the current folder or the folder the run started in, {tmp_path}" in capsys.readouterr().err
