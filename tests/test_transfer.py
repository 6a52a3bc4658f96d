"""Transfer evaluation (``evaluation.transfer``) on the demo corpus split by language.

The demo articles (``seeds/``) come in English and French with the same six topics, so two
dataset specs that keep one language each are a real, offline cross-lingual pair; a third
spec keeps three English topics only, so that French test labels need a ``label_map``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.corpus import load_split, open_dataset
from bench.results.store import RunDir
from tests.conftest import REPO
from tests.test_kills import _partial, killpoints

TOPICS = ["defence", "diplomacy", "economy", "energy_climate", "health", "technology"]
SPEC = """name: {name}
task: topic
source:
  articles: {{path: {seeds}, labels: {seeds}/labels.csv, include: ["*.txt"]}}
where: {where}
columns: {{id: file, text: [title, text], label: topic, language: language}}
labels: {labels}
splits:
  test: {{from: train, size: 0.3, by: label, seed: 13}}
"""
BASE = """name: {name}
datasets: [{specs}]
features:
  - {{name: word, kind: tfidf, params: {{sublinear_tf: true}}}}
models:
  - {{name: majority, estimator: majority}}
  - {{name: logreg, estimator: logistic_regression, params: {{C: 10.0}}}}
seeds: [0, 1]
evaluation:
  metrics: [f1_macro, accuracy]
  bootstrap: {{samples: 200}}
  transfer:
{transfer}
"""


def _specs(folder: Path) -> dict[str, Path]:
    seeds = REPO / "seeds"
    specs = {"demo_en": ({"language": "en"}, TOPICS), "demo_fr": ({"language": "fr"}, TOPICS),
             "demo_en3": ({"language": "en", "topic": TOPICS[:3]}, TOPICS[:3])}
    out = {}
    for name, (where, labels) in specs.items():
        out[name] = folder / f"{name}.yaml"
        out[name].write_text(SPEC.format(name=name, seeds=seeds, where=json.dumps(where), labels=json.dumps(labels)))
    return out


def write_config(folder: Path, name: str, transfer: str, specs: dict[str, Path]) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(BASE.format(name=name, specs=", ".join(str(p) for p in specs.values()), transfer=transfer))
    return path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("transfer")
    specs = _specs(folder)
    return {"folder": folder, "data": folder / "data", **specs}


def _run(setup: dict[str, Path], config: Path, results: Path) -> int:
    return main(["run", str(config), "--data", str(setup["data"]), "--results", str(results), "--quiet"])


@pytest.fixture(scope="module")
def lingual_run(setup: dict[str, Path]) -> Path:
    """en -> en, en -> fr, fr -> fr, fr -> en: one complete run for the module's read-only tests."""
    specs = {k: setup[k] for k in ("demo_en", "demo_fr")}
    config = write_config(setup["folder"], "lingual", "    - {train: [demo_en, demo_fr], test: [demo_en, demo_fr]}",
                          specs)
    results = setup["folder"] / "results"
    assert _run(setup, config, results) == 0
    (run,) = [p for p in results.iterdir() if not p.name.startswith(".")]
    return run


def test_every_row_carries_its_train_dataset_and_each_pair_is_its_own_job(lingual_run: Path) -> None:
    run = RunDir.open(lingual_run)
    rows = run.rows()
    pairs = {(r["train_dataset"], r["dataset"]) for r in rows}
    assert pairs == {("demo_en", "demo_en"), ("demo_en", "demo_fr"), ("demo_fr", "demo_fr"), ("demo_fr", "demo_en")}
    assert "demo_en_to_demo_fr__word__logreg__s0" in run.job_ids()
    summary = run.summary()  # the notebook API keeps the pairs apart too
    assert {"demo_en→demo_fr", "demo_fr→demo_en", "demo_en", "demo_fr"} == set(summary["dataset"])
    assert "train_dataset" in run.metrics.columns
    csv_rows = pd.read_csv(lingual_run / "metrics.csv")
    assert list(csv_rows.columns[:2]) == ["dataset", "train_dataset"]
    assert set(zip(csv_rows["train_dataset"], csv_rows["dataset"])) == pairs
    assert len(run.job_ids()) == 4 * 2 * 2


def test_rows_of_an_ordinary_run_have_no_train_dataset(tiny_benchmark_run: Path) -> None:
    rows = RunDir.open(tiny_benchmark_run).rows()
    assert rows and not any("train_dataset" in r for r in rows)


def test_features_are_fitted_on_the_train_dataset_only(lingual_run: Path) -> None:
    """The vocabulary of en -> fr is English train rows' vocabulary: the same size as en -> en's."""
    run = RunDir.open(lingual_run)
    size = {job: run.job(job)["n_features"] for job in run.job_ids() if "__logreg__s0" in job}
    assert size["demo_en_to_demo_fr__word__logreg__s0"] == size["demo_en_to_demo_en__word__logreg__s0"]
    assert size["demo_fr_to_demo_en__word__logreg__s0"] == size["demo_fr_to_demo_fr__word__logreg__s0"]
    assert size["demo_en_to_demo_en__word__logreg__s0"] != size["demo_fr_to_demo_fr__word__logreg__s0"]
    en_to_fr = run.job("demo_en_to_demo_fr__word__logreg__s0")
    assert en_to_fr["n_train"] == run.job("demo_en_to_demo_en__word__logreg__s0")["n_train"]
    assert en_to_fr["n_test"] == run.job("demo_fr_to_demo_fr__word__logreg__s0")["n_test"]


def test_the_cache_key_of_a_pair_names_both_datasets_in_order(setup: dict[str, Path], lingual_run: Path) -> None:
    from bench.config.spec import TransferSpec
    from bench.run.transfer import Pair, pair_fingerprint

    del lingual_run  # the datasets are built by then
    en, fr = (open_dataset(setup["data"] / name) for name in ("demo_en", "demo_fr"))
    pair = Pair(train="demo_en", test="demo_fr")
    keys = {pair_fingerprint(en, fr, pair), pair_fingerprint(fr, en, pair), pair_fingerprint(en, en, pair),
            pair_fingerprint(en, fr, Pair(train="demo_en", test="demo_fr", label_map={"x": None})), en.fingerprint}
    assert len(keys) == 5
    assert TransferSpec(train=("a",), test=("b",)).label_map == {}


@pytest.mark.slow
def test_show_compare_and_report_keep_pairs_that_differ_only_in_train_dataset_apart(
        lingual_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(lingual_run), "--format", "csv"]) == 0
    shown = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    assert {"demo_en", "demo_fr", "demo_en→demo_fr", "demo_fr→demo_en"} <= set(shown["dataset"])
    from bench.compare import compare_runs

    run = RunDir.open(lingual_run)
    comparison = compare_runs([run, run])
    datasets = {row.dataset for row in comparison.rows}
    assert datasets == {"demo_en", "demo_fr", "demo_en→demo_fr", "demo_fr→demo_en"}
    assert main(["compare", str(lingual_run), str(lingual_run), "--format", "md"]) == 0
    assert "demo_en→demo_fr" in capsys.readouterr().out
    out = tmp_path / "report.html"
    assert main(["report", str(lingual_run), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert 'id="fig-transfer-' in html and "Transfer: word/logreg" in html
    assert list((out.parent).rglob("transfer-*.png"))


def test_heatmap_cells_are_the_comparison_cells(lingual_run: Path) -> None:
    from bench.report.collect import ReportOptions, collect
    from bench.report.transfer_plot import transfer_grid

    run = RunDir.open(lingual_run)
    data = collect([run], ReportOptions())
    trains, tests, cells = transfer_grid(data, 0, "word", "logreg")
    assert trains == tests == ["demo_en", "demo_fr"]
    by_dataset = {row.dataset: row.cells[0] for row in data.comparison.rows if row.model == "logreg"}
    assert cells["demo_en", "demo_fr"].value == by_dataset["demo_en→demo_fr"].value
    assert cells["demo_fr", "demo_fr"].value == by_dataset["demo_fr"].value
    assert cells["demo_en", "demo_fr"].low <= cells["demo_en", "demo_fr"].value <= cells["demo_en", "demo_fr"].high


def test_an_unmapped_test_label_is_a_one_line_error_naming_pair_label_and_fix(
        setup: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(setup["folder"], "unmapped", "    - {train: demo_en3, test: [demo_fr]}",
                          {k: setup[k] for k in ("demo_fr", "demo_en3")})
    assert _run(setup, config, setup["folder"] / "r-unmapped") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unmapped.yaml:" in err and "evaluation.transfer[0].label_map" in err
    assert "pair demo_en3 -> demo_fr: test label 'energy_climate' has no mapping" in err
    assert "add label_map" in err


@pytest.fixture(scope="module")
def mapped_run(setup: dict[str, Path]) -> Path:
    """demo_en3 (three topics) -> demo_fr (six): one topic mapped, two left out."""
    label_map = "{energy_climate: economy, health: null, technology: null}"
    config = write_config(setup["folder"], "mapped", f"    - {{train: demo_en3, test: [demo_fr], label_map: {label_map}}}",
                          {k: setup[k] for k in ("demo_fr", "demo_en3")})
    results = setup["folder"] / "r-mapped"
    assert _run(setup, config, results) == 0
    (path,) = [p for p in results.iterdir() if not p.name.startswith(".")]
    return path


def test_a_label_map_puts_test_labels_in_the_train_space_and_null_leaves_rows_out(setup: dict[str, Path],
                                                                                  mapped_run: Path) -> None:
    run = RunDir.open(mapped_run)
    predictions = run.predictions("demo_en3_to_demo_fr__word__logreg__s0")
    test = load_split(open_dataset(setup["data"] / "demo_fr"), "test").set_index("id")
    kept = test[~test["label"].isin(["health", "technology"])]
    assert sorted(predictions["id"]) == sorted(kept.index)
    expected = kept["label"].replace({"energy_climate": "economy"})
    assert (predictions.set_index("id")["gold"] == expected.loc[predictions["id"]].to_numpy()).all()
    assert set(predictions["pred"]) <= set(TOPICS[:3])
    row = next(r for r in run.rows() if r["metric"] == "accuracy" and r["model"] == "logreg")
    assert row["n"] == len(kept) and row["train_dataset"] == "demo_en3"


@pytest.mark.parametrize(("transfer", "message"), [
    ("    - {train: demo_xx, test: [demo_fr]}", r"transfer\[0\]\.train: no dataset named 'demo_xx'"),
    ("    - {train: demo_en, test: [demo_fr], label_map: {helth: null}}", r"'helth' is not a label of demo_fr"),
    ("    - {train: demo_en, test: [demo_fr], label_map: {health: medicine}}", r"'medicine' is not a label of demo_en"),
    ("    - {train: demo_en, test: [demo_fr]}\n    - {train: demo_en, test: demo_fr}", r"also in transfer\[0\]"),
])
def test_bad_transfer_entries_are_config_errors(setup: dict[str, Path], transfer: str, message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(setup["folder"], "bad", transfer, {k: setup[k] for k in ("demo_en", "demo_fr")})
    assert _run(setup, config, setup["folder"] / "r-bad") == 2
    import re

    assert re.search(message, capsys.readouterr().err)


@pytest.mark.slow
def test_a_killed_transfer_run_resumes_to_identical_metrics(setup: dict[str, Path], lingual_run: Path,
                                                           tmp_path: Path) -> None:
    config = setup["folder"] / "lingual.yaml"
    def argv(results: Path) -> list[str]:
        return ["run", str(config), "--data", str(setup["data"]), "--results", str(results), "--quiet"]

    points = [{"pattern": "/jobs/", "kill_at": 3}, {"pattern": "/jobs/", "kill_at": 12}]
    outcomes = killpoints([{"argv": argv(tmp_path / f"k{i}"), **p} for i, p in enumerate(points)], tmp_path)
    assert [o["killed"] for o in outcomes] == [True, True]
    expected = (lingual_run / "metrics.json").read_bytes()
    for i in range(len(points)):
        partial = _partial(tmp_path / f"k{i}")
        assert partial is not None
        done_before = len(RunDir(partial).finished_jobs())
        assert 0 < done_before < 16
        assert main(["run", "--resume", str(partial), "--data", str(setup["data"]),
                     "--results", str(tmp_path / f"k{i}"), "--quiet"]) == 0
        (run,) = [p for p in (tmp_path / f"k{i}").iterdir() if p.is_dir() and not p.name.startswith(".")]
        assert (run / "metrics.json").read_bytes() == expected


def test_rescoring_a_transfer_run_keeps_train_dataset_and_reproduces_its_rows(setup: dict[str, Path],
                                                                              mapped_run: Path, tmp_path: Path) -> None:
    """A run with a label map (gold in the train space, rows left out) rescored gives back the same rows."""
    import shutil

    copy = shutil.copytree(mapped_run, tmp_path / mapped_run.name)
    before = (copy / "metrics.json").read_bytes()
    assert main(["rescore", str(copy), "--data", str(setup["data"])]) == 0
    assert (copy / "metrics.json").read_bytes() == before


@pytest.mark.integration
@pytest.mark.parametrize("config", ["transfer_stance.yaml", "transfer_crosslingual.yaml"])
def test_the_shipped_transfer_configs_validate(config: str, data_root: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    del data_root  # the specs read ${NEWSBENCH_DATA}
    monkeypatch.chdir(REPO)  # dataset spec paths in configs are relative to the repository
    assert main(["validate", str(REPO / "configs" / config), "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "_to_" in out and "transfer pairs" in out
