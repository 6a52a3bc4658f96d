"""Hostile run configs through ``bench validate``: import paths above all, whose module code
would run on import, so their shape is checked first (docs/configs.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.cli import main, one_line
from bench.core.errors import BenchError
from bench.learn.features import _import
from bench.learn.feature_types import FeatureParamError
from bench.learn.import_path import split_import_path
from tests.hostile.harness import bench, check, files_of

MODEL = "  - {{name: m, estimator: {estimator}}}\n"
SIDE_EFFECT = "sidefx_{n}"  # a module whose import writes a marker file next to it


def _config(project: Path, estimator: str) -> Path:
    text = (project / "victim.yaml").read_text()
    start = text.index("models:\n") + len("models:\n")
    end = text.index("seeds:")
    config = project / "hostile.yaml"
    config.write_text(text[:start] + MODEL.format(estimator=estimator) + text[end:], encoding="utf-8")
    return config


BAD_SHAPES = [
    "'.svm.LinearSVC'", "'..sklearn.svm.LinearSVC'", "'sklearn..svm.LinearSVC'", "'sklearn.svm.LinearSVC.'",
    "\"os.system('touch x')\"", "'sklearn.svm.LinearSVC()'", "'a b.C'", "'import.X'", "'sklearn.svm.class'",
    "'1sklearn.svm.LinearSVC'", "'sklearn/svm.LinearSVC'", "'sklearn.svm:LinearSVC'", "'~sklearn.X'",
    "'sklearn.svm.LinearSVC;rm'", "'sklearn.svm.Linear-SVC'", "'sklearn.svm.LinearSVC\\n'",
]
VALID_SHAPE_BUT_WRONG = [
    "sklearn.svm.NoSuchClass", "no_such_package_xyz.Model", "builtins.print", "os.path", "sklearn.svm.__name__",
    "sklearn.preprocessing.StandardScaler", "collections.OrderedDict",
]


@pytest.mark.parametrize("estimator", BAD_SHAPES + VALID_SHAPE_BUT_WRONG)
def test_a_hostile_estimator(project: Path, estimator: str) -> None:
    config = _config(project, estimator)
    before = files_of(project)
    outcome = bench(["validate", config, "--data", "data"], cwd=project)
    check(outcome, before, project, codes=(2,))
    assert "models[0].estimator" in outcome.err


@pytest.mark.parametrize("shape", [".{m}.Model", "{m}..Model", "{m}.Model()", "{m}.Model.", "{m}:Model", "{m}"])
def test_a_badly_shaped_path_is_refused_before_its_module_runs(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                                shape: str) -> None:
    name = SIDE_EFFECT.format(n=abs(hash(shape)) % 10_000)
    marker = project / f"{name}.ran"
    (project / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.syspath_prepend(str(project))
    outcome = bench(["validate", _config(project, repr(shape.format(m=name))), "--data", "data"], cwd=project)
    assert outcome.code == 2 and "models[0].estimator" in outcome.err
    assert not marker.exists() and name not in sys.modules


def test_a_well_shaped_path_runs_its_module_as_documented(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = project / "sidefx_ok.ran"
    (project / "sidefx_ok.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Model: pass\n")
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.delitem(sys.modules, "sidefx_ok", raising=False)
    outcome = bench(["validate", _config(project, "sidefx_ok.Model"), "--data", "data"], cwd=project)
    assert outcome.code == 2 and "is not a scikit-learn classifier" in outcome.err
    assert marker.exists()  # docs/configs.md: an import path runs that module's code


@pytest.mark.parametrize("path", ["", ".x.Y", "x..Y", "x.Y()", "x", 7, None, "a.b c"])
def test_an_import_path_shape(path: object) -> None:
    with pytest.raises(ValueError, match="import path|empty part|identifier|names no module"):
        split_import_path(path)


def test_good_import_paths_split_into_module_and_name() -> None:
    assert split_import_path("sklearn.svm.LinearSVC") == ("sklearn.svm", "LinearSVC")
    assert split_import_path("bench.learn.embeddings.SentenceEmbedder") == ("bench.learn.embeddings", "SentenceEmbedder")


@pytest.mark.parametrize("path", [".feature.X", "sklearn.feature_extraction.text.NoSuch", "no_such_pkg_xyz.V"])
def test_a_feature_kind_path_is_checked_the_same_way(path: str) -> None:
    with pytest.raises(FeatureParamError, match="cannot be used"):
        _import(path)


OTHER_CONFIGS = {
    "a folder as the config": lambda p: (p / "cfg.yaml").mkdir() or p / "cfg.yaml",
    "an empty config": lambda p: (p / "cfg.yaml").write_text("") and p / "cfg.yaml" or p / "cfg.yaml",
    "binary garbage": lambda p: (p / "cfg.yaml").write_bytes(bytes(range(256))) and p / "cfg.yaml",
    "a missing config": lambda p: p / "missing.yaml",
    "datasets a folder": lambda p: _replace(p, "datasets: [src/tiny_topic.yaml]", "datasets: [src]"),
    "datasets a FIFO": lambda p: (__import__("os").mkfifo(p / "fifo.yaml"),
                                  _replace(p, "datasets: [src/tiny_topic.yaml]", "datasets: [fifo.yaml]"))[1],
    "seeds a string": lambda p: _replace(p, "seeds: [0]", "seeds: zero"),
    "seeds huge numbers": lambda p: _replace(p, "seeds: [0]", "seeds: [99999999999999999999999]"),
    "bootstrap samples negative": lambda p: _replace(p, "samples: 50", "samples: -5"),
}


def _replace(project: Path, old: str, new: str) -> Path:
    text = (project / "victim.yaml").read_text()
    assert old in text, (old, text)
    config = project / "cfg.yaml"
    config.write_text(text.replace(old, new), encoding="utf-8")
    return config


@pytest.mark.parametrize("case", list(OTHER_CONFIGS))
def test_a_hostile_config(project: Path, case: str) -> None:
    config = OTHER_CONFIGS[case](project)
    before = files_of(project)
    check(bench(["validate", config, "--data", "data"], cwd=project), before, project)


class _Multiline(BenchError):
    pass


def test_the_cli_forces_every_error_onto_one_line(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import bench.commands.runs as runs

    def broken(args: object) -> int:
        raise _Multiline("results: first line\n\n   second line\r\nthird\n")

    monkeypatch.setattr(runs, "ls_command", broken)
    assert main(["ls"]) == 2
    err = capsys.readouterr().err
    assert err == "bench: error: results: first line second line third\n"
    assert one_line("a\nb") == "a b" and one_line("one") == "one"


def test_a_filesystem_failure_is_one_line_and_another_oserror_is_a_bug(monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import errno

    import bench.commands.runs as runs

    def full(args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", "results/x.json")

    monkeypatch.setattr(runs, "ls_command", full)
    assert main(["ls"]) == 2
    assert capsys.readouterr().err == ("bench: error: results/x.json: No space left on device; free space or point "
                                       "--data/--results at another disk\n")

    def bug(args: object) -> int:
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(runs, "ls_command", bug)
    with pytest.raises(OSError, match="Bad file descriptor"):
        main(["ls"])
