"""Run integrity: a number newsbench writes is never silently wrong (docs/reliability.md, "Run integrity").

Each test here sets up a way a run could finish with numbers that do not match the config or
data it records (an edited snapshot before ``--resume``, swapped feature cache files) and
checks that newsbench now refuses it in one line or says so loudly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.cli import main
from bench.core.errors import DataError
from bench.results.store import RunDir
from tests.tiny_news import write_topic

CONFIG = """\
name: integrity
datasets: [{topic}]
features:
  - {{name: word, kind: tfidf, params: {{ngram_range: [1, 2]}}}}
  - {{name: char, kind: tfidf, params: {{analyzer: char_wb, ngram_range: [2, 4]}}}}
models:
  - {{name: majority, estimator: majority}}
  - {{name: logreg, estimator: logistic_regression, params: {{C: 5.0}}}}
seeds: [0]
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 50}}
"""


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    topic = write_topic(tmp_path / "src" / "topic")
    config = tmp_path / "integrity.yaml"
    config.write_text(CONFIG.format(topic=topic))
    return {"root": tmp_path, "config": config, "topic": topic, "data": tmp_path / "data",
            "results": tmp_path / "results"}


def run_ok(project: dict[str, Path], capsys: pytest.CaptureFixture[str], *args: str) -> tuple[Path, str]:
    """``bench run`` that must succeed: the run folder and stderr."""
    code = main(["run", str(project["config"]), "--data", str(project["data"]), "--results",
                 str(project["results"]), "--quiet", *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return Path(captured.out.strip().splitlines()[-1]), captured.err


def as_interrupted(run_dir: Path, drop: int = 1) -> Path:
    """The run folder as a run killed before its last ``drop`` jobs: ``.partial``, jobs missing."""
    partial = run_dir.with_name(f".{run_dir.name}.partial")
    run_dir.rename(partial)
    run = RunDir(partial)
    for job_id in run.job_ids()[-drop:]:
        run.job_path(job_id).unlink()
        run.predictions_path(job_id).unlink()
    (partial / "metrics.json").unlink()
    (partial / "metrics.csv").unlink()
    run.update_manifest(status="interrupted")
    return partial


def resume(project: dict[str, Path], partial: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["run", "--resume", str(partial), "--data", str(project["data"]), "--quiet"])
    return code, capsys.readouterr().err


def fresh_process() -> None:
    """Forget what this process keeps between runs (as a new ``bench`` process would)."""
    from bench.run import units

    units.feature_cache.cache_clear()
    units._split_frame.cache_clear()


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bench: error: "), err
    return lines[0]


# --- 1. resume verifies the snapshot, the datasets and the jobs ----------------------------------


def test_resume_refuses_an_edited_model_setting_in_the_snapshot(project: dict[str, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, _ = run_ok(project, capsys)
    partial = as_interrupted(run_dir)
    snapshot = partial / "config.yaml"
    snapshot.write_text(snapshot.read_text().replace("C: 5.0", "C: 50.0"))
    code, err = resume(project, partial, capsys)
    line = one_error_line(err)
    assert code == 2 and f"{snapshot}: config_hash:" in line
    assert "a feature or model setting changed" in line and "start a new run" in line
    assert RunDir(partial).finished_jobs() == set(RunDir(partial).job_ids()[:-1])  # nothing more was run


def test_resume_names_the_edited_evaluation_key(project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, _ = run_ok(project, capsys)
    partial = as_interrupted(run_dir)
    snapshot = partial / "config.yaml"
    snapshot.write_text(snapshot.read_text().replace("samples: 50", "samples: 60"))
    code, err = resume(project, partial, capsys)
    assert code == 2 and "evaluation.bootstrap.samples changed" in one_error_line(err)


def test_resume_refuses_a_job_file_that_is_not_a_job_of_the_run(project: dict[str, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, _ = run_ok(project, capsys)
    partial = as_interrupted(run_dir)
    first = RunDir(partial).job_ids()[0]
    shutil.copy(partial / "jobs" / f"{first}.json", partial / "jobs" / "other__word__svm__s0.json")
    code, err = resume(project, partial, capsys)
    line = one_error_line(err)
    assert code == 2 and "other__word__svm__s0" in line and "not a job of this run" in line


def test_resume_of_an_untouched_run_gives_the_uninterrupted_metrics(project: dict[str, Path],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, _ = run_ok(project, capsys)
    expected = (run_dir / "metrics.json").read_bytes()
    partial = as_interrupted(run_dir, drop=2)
    code, err = resume(project, partial, capsys)
    assert code == 0, err
    assert (run_dir / "metrics.json").read_bytes() == expected


# --- 3. feature cache entries carry their key ------------------------------------------------------


def test_swapped_feature_cache_entries_are_refitted_with_one_warning_each(project: dict[str, Path],
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    clean, _ = run_ok(project, capsys)
    cache = project["results"] / ".cache" / "features"
    first, second = sorted(cache.glob("*.npz"))
    swap = first.with_suffix(".swap")
    first.rename(swap)
    second.rename(first)
    swap.rename(second)
    fresh_process()
    again, err = run_ok(project, capsys, "--set", "name=integrity2")
    warnings = [line for line in err.splitlines() if "feature cache entry" in line]
    assert sorted(warnings) == sorted(
        f"bench: warning: feature cache entry {path} is not the entry its name says (its key differs in block); "
        "fitting the block again" for path in (first, second)), err
    rows = json.loads((again / "metrics.json").read_text())["rows"]
    assert rows == json.loads((clean / "metrics.json").read_text())["rows"]
    # the entries were rewritten under their own key: a third run warns no more
    fresh_process()
    _, err = run_ok(project, capsys, "--set", "name=integrity3")
    assert "feature cache entry" not in err


# --- 2. a dataset's split files are checked against its fingerprint ------------------------------


def build(spec: Path, data: Path) -> Path:
    from bench.corpus import build_dataset

    return build_dataset(spec, data).dataset.path


def flip_first_label(arrow: Path, *, keep_time: bool) -> None:
    """Rewrite a split file with its first row's label changed (same size), as an edit after the build."""
    import os

    import pyarrow as pa

    before = arrow.stat()
    table = pa.ipc.open_stream(pa.BufferReader(arrow.read_bytes())).read_all()
    labels = table.column("label").to_pylist()
    labels[0] = (labels[0] + 1) % 3
    i = table.schema.get_field_index("label")
    table = table.set_column(i, table.schema.field(i), pa.array(labels, type=table.schema.field(i).type))
    edited = arrow.with_suffix(".edited")
    with pa.OSFile(str(edited), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(edited, arrow)  # a new file: memory maps of the old one stay valid
    assert arrow.stat().st_size == before.st_size
    if keep_time:
        os.utime(arrow, ns=(before.st_atime_ns, before.st_mtime_ns))


def name_config(project: dict[str, Path]) -> Path:
    """The test config naming the built dataset instead of its spec."""
    config = project["root"] / "by_name.yaml"
    config.write_text(project["config"].read_text().replace(f"[{project['topic']}]", "[tiny_topic]"))
    return config


def test_a_run_refuses_a_dataset_whose_split_file_changed(project: dict[str, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = build(project["topic"], project["data"])
    arrow = folder / "train" / "data-00000-of-00001.arrow"
    flip_first_label(arrow, keep_time=False)
    code = main(["run", str(name_config(project)), "--data", str(project["data"]), "--results",
                 str(project["results"]), "--quiet"])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2 and line.startswith(f"bench: error: {arrow}: fingerprint: dataset 'tiny_topic'")
    assert "rebuild with `bench data build" in line and "--force`" in line
    assert not project["results"].exists() or not any(project["results"].iterdir())  # no run recorded


def test_verify_finds_a_change_that_kept_size_and_time(project: dict[str, Path],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    folder = build(project["topic"], project["data"])
    arrow = folder / "test" / "data-00000-of-00001.arrow"
    flip_first_label(arrow, keep_time=True)
    code = main(["run", str(name_config(project)), "--data", str(project["data"]), "--results",
                 str(project["results"]), "--quiet", "--verify"])
    line = one_error_line(capsys.readouterr().err)
    assert code == 2 and line.startswith(f"bench: error: {arrow}: fingerprint:")


def test_a_spec_whose_built_files_changed_is_rebuilt_with_a_warning(project: dict[str, Path],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    clean, _ = run_ok(project, capsys)
    recorded = RunDir.open(clean).manifest["datasets"]["tiny_topic"]["fingerprint"]
    flip_first_label(project["data"] / "tiny_topic" / "train" / "data-00000-of-00001.arrow", keep_time=False)
    fresh_process()
    again, err = run_ok(project, capsys, "--set", "name=rebuilt")
    assert len([line for line in err.splitlines() if "rebuilding it" in line]) == 1
    assert RunDir.open(again).manifest["datasets"]["tiny_topic"]["fingerprint"] == recorded
    rows = json.loads((again / "metrics.json").read_text())["rows"]
    assert rows == json.loads((clean / "metrics.json").read_text())["rows"]


def test_a_dataset_built_before_verification_is_hashed_once_then_stamped(project: dict[str, Path]) -> None:
    from bench.corpus import open_dataset

    folder = build(project["topic"], project["data"])
    stats_path = folder / "stats.json"
    stats = json.loads(stats_path.read_text())
    built = stats.pop("verification")
    stats_path.write_text(json.dumps(stats))
    assert open_dataset(folder).fingerprint == stats["fingerprint"]
    assert json.loads(stats_path.read_text())["verification"] == built  # verified, then stamped
    stats_path.write_text(json.dumps(stats))
    flip_first_label(folder / "train" / "data-00000-of-00001.arrow", keep_time=False)
    with pytest.raises(DataError, match=r"no longer hold the content of fingerprint"):
        open_dataset(folder)


def test_a_copied_dataset_is_verified_and_opens(project: dict[str, Path], tmp_path: Path) -> None:
    from bench.corpus import open_dataset

    folder = build(project["topic"], project["data"])
    copy = shutil.copytree(folder, tmp_path / "copy" / "tiny_topic", copy_function=shutil.copy)  # new times
    assert open_dataset(copy).fingerprint == open_dataset(folder).fingerprint
    stamps = json.loads((copy / "stats.json").read_text())["verification"]["files"]
    assert stamps["train"][0]["mtime_ns"] == (copy / "train" / "data-00000-of-00001.arrow").stat().st_mtime_ns


@pytest.mark.parametrize("writer", ["write_topic", "write_stance", "write_multilabel"])
def test_the_content_hash_on_disk_is_the_build_fingerprint(writer: str, tmp_path: Path) -> None:
    import tests.tiny_news as tiny
    from bench.corpus.verify import content_hashes_on_disk

    folder = build(getattr(tiny, writer)(tmp_path / "src"), tmp_path / "data")
    stats = json.loads((folder / "stats.json").read_text())
    assert content_hashes_on_disk(folder, stats) == (stats["fingerprint"], stats["verification"]["splits"])


def test_the_demo_datasets_hash_to_their_fingerprint(tmp_path: Path) -> None:
    from bench.corpus import open_dataset
    from tests.conftest import REPO

    for spec in ("demo-topic", "demo-stance", "demo-topics"):
        folder = build(REPO / "configs" / "datasets" / f"{spec}.yaml", tmp_path)
        assert open_dataset(folder, verify=True).fingerprint == json.loads((folder / "stats.json").read_text())[
            "fingerprint"]


# --- 5. degenerate data is said loudly, recorded, and refused on request -------------------------


def write_skewed(folder: Path, name: str, train_labels: list[str], test_labels: list[str],
                 labels: str = "[business, sport, tech]") -> Path:
    """A topic dataset whose train and test rows have the given labels, in turn."""
    from tests.tiny_news import TOPIC_WORDS, write_csv_dataset

    def rows(chosen: list[str], n: int, start: int) -> list[dict[str, str]]:
        return [{"id": f"r{start + i}", "text": f"{TOPIC_WORDS[chosen[i % len(chosen)]]} item {start + i}",
                 "label": chosen[i % len(chosen)]} for i in range(n)]

    return write_csv_dataset(folder, name, {"train": rows(train_labels, 24, 0), "test": rows(test_labels, 12, 100)},
                             f"task: topic\nlanguage: en\ncolumns: {{id: id, text: text, label: label}}\n"
                             f"labels: {labels}\n")


def skewed_config(project: dict[str, Path], spec: Path, extra: str = "", model: str = "logistic_regression") -> Path:
    config = project["root"] / f"{spec.stem}.yaml"
    config.write_text(f"""\
name: {spec.stem}
datasets: [{spec}]
features: [{{name: word, kind: tfidf}}]
models: [{{name: model, estimator: {model}}}]
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 50}}
{extra}""")
    return config


def run_config(project: dict[str, Path], config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["run", str(config), "--data", str(project["data"]), "--results", str(project["results"]),
                 "--quiet"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_one_class_dataset_is_flagged_on_stderr_in_the_manifest_and_under_the_table(
        project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_skewed(project["root"] / "one", "one_class", ["business"], ["business"], labels="[business]")
    code, out, err = run_config(project, skewed_config(project, spec, model="majority"), capsys)
    assert code == 0, err
    expected = [
        "bench: warning: degenerate data: dataset 'one_class', split 'train': every training row has label "
        "'business' (one class): a constant prediction scores perfectly, the metrics say nothing",
        "bench: warning: degenerate data: dataset 'one_class', split 'test': every test row has label "
        "'business' (one class): a constant prediction scores perfectly, the metrics say nothing"]
    assert [line for line in err.splitlines() if "degenerate" in line] == expected
    run = RunDir.open(Path(out.strip().splitlines()[-1]))
    assert [(d["split"], d["label"], d["problem"]) for d in run.manifest["degenerate"]] == [
        ("train", "business", "single_class"), ("test", "business", "single_class")]
    notes = [line for line in out.splitlines() if line.startswith("note: degenerate data: ")]
    assert len(notes) == 2 and "split 'test'" in notes[1]
    assert main(["show", str(run.path), "--format", "md"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("- note: degenerate data: dataset 'one_class'") == 2


def test_a_one_class_dataset_with_a_model_that_needs_two_is_one_line(
        project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """scikit-learn's own ValueError would be a traceback; the user gets the cause and the fix."""
    spec = write_skewed(project["root"] / "one_lr", "one_class_lr", ["business"], ["business"], labels="[business]")
    code, _, err = run_config(project, skewed_config(project, spec, model="logistic_regression"), capsys)
    assert code == 2
    errors = [line for line in err.splitlines() if not line.startswith("bench: warning: ")]
    assert len(errors) == 1 and "Traceback" not in err
    assert errors[0].startswith("bench: error: ") and "every training row has one label" in errors[0]
    assert "use the majority model" in errors[0]


def test_a_label_without_training_or_test_rows_is_named(project: dict[str, Path],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_skewed(project["root"] / "gap", "gap", ["business", "sport"], ["business", "sport"])
    code, out, err = run_config(project, skewed_config(project, spec), capsys)
    assert code == 0, err
    assert [line for line in err.splitlines() if "degenerate" in line] == [
        "bench: warning: degenerate data: dataset 'gap', split 'train': label 'tech' has no training rows: "
        "no model can learn or predict it",
        "bench: warning: degenerate data: dataset 'gap', split 'test': label 'tech' has no test rows: "
        "class-averaged metrics (f1_macro) cannot measure it"]
    assert [d["problem"] for d in RunDir.open(Path(out.strip().splitlines()[-1])).manifest["degenerate"]] == [
        "no_train_rows", "no_test_rows"]


def test_on_degenerate_error_refuses_before_training(project: dict[str, Path],
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_skewed(project["root"] / "gap", "gap", ["business", "sport"], ["business", "sport", "tech"])
    config = skewed_config(project, spec, "  on_degenerate: error\n")
    code, _, err = run_config(project, config, capsys)
    line = one_error_line(err)
    assert code == 2 and line.startswith(f"bench: error: {config}:8: evaluation.on_degenerate: dataset 'gap', "
                                         "split 'train': label 'tech' has no training rows")
    assert "set evaluation.on_degenerate: warn to run anyway" in line
    assert not project["results"].exists() or not list(project["results"].glob("*gap*"))


def test_on_degenerate_takes_warn_or_error_only(project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config = skewed_config(project, project["topic"], "  on_degenerate: ignore\n")
    assert main(["validate", str(config), "--data", str(project["data"])]) == 2
    assert "evaluation.on_degenerate" in one_error_line(capsys.readouterr().err)


def test_a_healthy_dataset_has_no_degenerate_notes(project: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, err = run_ok(project, capsys)
    assert "degenerate" not in err and "degenerate" not in RunDir.open(run_dir).manifest


def test_a_multilabel_label_in_every_training_row_is_flagged(tmp_path: Path) -> None:
    from bench.config.spec import EvaluationSpec
    from bench.corpus import BuiltDataset
    from bench.run.degenerate import find_degenerate

    counts = {"train": {"n_rows": 10, "label_counts": {"a": 10, "b": 4, "c": 0}},
              "test": {"n_rows": 5, "label_counts": {"a": 5, "b": 2, "c": 1}}}
    (tmp_path / "stats.json").write_text(json.dumps({"schema_version": 1, "splits": counts}))
    ds = BuiltDataset(name="multi", path=tmp_path, task="topic", multilabel=True, labels=("a", "b", "c"),
                      fingerprint="0" * 64, splits=("train", "test"), language=None)
    found = find_degenerate(ds, EvaluationSpec(metrics=("f1_micro",)))
    assert [(d.split, d.label, d.problem) for d in found] == [("train", "a", "in_every_train_row"),
                                                              ("train", "c", "no_train_rows")]


# --- 3 (unit). what a cache entry says about itself ----------------------------------------------


def _block():
    from bench.config.spec import FeatureSpec

    return FeatureSpec(name="word", kind="tfidf")


def _frames():
    import pandas as pd

    train = pd.DataFrame({"id": ["a", "b", "c"], "text": ["red apple", "green pear", "red pear"],
                          "label": ["x", "y", "x"]})
    return train, train.iloc[:2].reset_index(drop=True)


def test_a_cache_entry_of_other_data_names_what_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.learn.cache import FeatureCache, feature_key, load_or_fit_features, split_hash

    train, test = _frames()
    block = _block()
    blocks = {"word": block}
    ids = split_hash(train["id"], test["id"])
    cache = FeatureCache(tmp_path, memory_items=0)
    for data in ("a" * 64, "b" * 64):
        load_or_fit_features(cache, block, blocks, train, test, stance=False, seed=0, fingerprint=data,
                             train_ids_hash=ids)
    entry_a = tmp_path / f"{feature_key('a' * 64, ids, block, blocks)}.npz"
    entry_b = tmp_path / f"{feature_key('b' * 64, ids, block, blocks)}.npz"
    shutil.copy(entry_b, entry_a)
    capsys.readouterr()
    load_or_fit_features(cache, block, blocks, train, test, stance=False, seed=0, fingerprint="a" * 64,
                         train_ids_hash=ids)
    assert capsys.readouterr().err == (f"bench: warning: feature cache entry {entry_a} is not the entry its name "
                                       "says (its key differs in data); fitting the block again\n")
    assert cache.misses == 3


def test_a_cache_entry_without_key_material_is_a_miss(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    from bench.learn.cache import FeatureCache, load_or_fit_features, split_hash

    train, test = _frames()
    cache = FeatureCache(tmp_path, memory_items=0)
    kwargs = dict(stance=False, seed=0, fingerprint="a" * 64, train_ids_hash=split_hash(train["id"], test["id"]))
    first = load_or_fit_features(cache, _block(), {"word": _block()}, train, test, **kwargs)
    (entry,) = tmp_path.glob("*.npz")
    with np.load(entry) as z:
        arrays = {k: z[k] for k in z.files if k != "key"}
    np.savez(entry, **arrays)  # as an entry written before entries carried their key
    again = load_or_fit_features(cache, _block(), {"word": _block()}, train, test, **kwargs)
    assert "it carries no key material" in capsys.readouterr().err and cache.misses == 2
    assert abs(first.X_train - again.X_train).max() == 0


def test_validate_refuses_degenerate_data_of_a_built_dataset(project: dict[str, Path],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_skewed(project["root"] / "gap", "gap", ["business", "sport"], ["business", "sport", "tech"])
    build(spec, project["data"])
    config = skewed_config(project, spec, "  on_degenerate: error\n")
    assert main(["validate", str(config), "--data", str(project["data"])]) == 2
    assert "label 'tech' has no training rows" in one_error_line(capsys.readouterr().err)

