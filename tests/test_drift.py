"""Temporal drift (``evaluation.drift``): train before a date, rows per later window, rescore, tables."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.config.snapshot import config_to_dict
from bench.config.spec import DriftSpec
from bench.core.errors import ConfigError
from bench.results.summary import summarize
from bench.results.windows import window_label, window_names
from bench.run.validate import load_config
from tests import generalization_spies

REPO = Path(__file__).resolve().parents[1]
SPY = "tests.generalization_spies.SpyLogistic"
JAN_2024 = dt.date(2024, 1, 1)


def _bench(argv: list[str], out: Path) -> int:
    """``bench`` from the repository root (config paths are relative to it), stdout to ``out``."""
    with out.open("w") as fh, contextlib.redirect_stdout(fh), contextlib.chdir(REPO):
        return main(argv)


def _run(tmp_path: Path, *sets: str) -> Path:
    out = tmp_path / "out.txt"
    argv = ["run", "configs/demo_generalization.yaml", "--data", str(tmp_path / "data"),
            "--results", str(tmp_path / "results"), "--quiet"]
    for item in sets:
        argv += ["--set", item]
    assert _bench(argv, out) == 0
    return Path(out.read_text().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def dates() -> pd.Series:
    labels = pd.read_csv(REPO / "seeds" / "labels.csv", dtype=str, keep_default_na=False)
    return pd.to_datetime(labels.set_index("file")["date"]).dt.date


@pytest.mark.parametrize(("window", "day", "label"), [
    ("month", dt.date(2024, 3, 31), "2024-03"), ("quarter", dt.date(2024, 3, 31), "2024-Q1"),
    ("quarter", dt.date(2024, 4, 1), "2024-Q2"), ("year", dt.date(2025, 12, 31), "2025"),
    (30, dt.date(2024, 1, 30), "2024-01-01"), (30, dt.date(2024, 1, 31), "2024-01-31")])
def test_window_labels(window: str | int, day: dt.date, label: str) -> None:
    assert window_label(day, DriftSpec(train_before=JAN_2024, window=window)) == label


def test_empty_windows_are_listed_and_unknown_ones_refused() -> None:
    spec = DriftSpec(train_before=dt.date(2024, 2, 15), window="month")
    # from the month that holds train_before to the last one present, the empty ones too
    assert window_names(spec, ["2024-05", "2024-02"]) == ("2024-02", "2024-03", "2024-04", "2024-05")
    with pytest.raises(ValueError, match="window '2024-Q1' is not a month window after 2024-02-15"):
        window_names(spec, ["2024-Q1"])


def test_the_model_trains_only_before_the_date(tmp_path: Path, dates: pd.Series) -> None:
    generalization_spies.FITS.clear()
    with pytest.MonkeyPatch.context() as mp:
        from bench.learn import cache

        mp.setattr(cache, "fit_features", generalization_spies.spy_fit_features(cache.fit_features))
        run = _run(tmp_path, "datasets=[configs/datasets/demo-stance.yaml]",
                   f"models=[{{name: spy, estimator: {SPY}}}]")
    (fit,) = generalization_spies.FITS
    pred = pd.read_parquet(next((run / "predictions").glob("*.parquet")))
    assert max(dates[sorted(fit)]) < JAN_2024 <= min(dates[pred["id"]])
    # the train split, partitioned in time (the config names it as train and test)
    assert len(fit) + len(pred) == 115 and not fit & set(pred["id"])
    assert list(pred["window"]) == [window_label(d, DriftSpec(train_before=JAN_2024)) for d in dates[pred["id"]]]


def test_rows_per_window_too_few_items_and_rescore(tmp_path: Path, dates: pd.Series,
                                                  capsys: pytest.CaptureFixture) -> None:
    run = _run(tmp_path, "datasets=[configs/datasets/demo-topic.yaml]", "evaluation.drift.window=month",
               "evaluation.drift.min_items=12")
    rows = [r for r in json.loads((run / "metrics.json").read_text())["rows"] if r["model"] == "logreg"]
    pred = pd.read_parquet(next((run / "predictions").glob("*logreg*.parquet")))
    months = pd.Series([d.strftime("%Y-%m") for d in dates[pred["id"]]]).value_counts()
    by_window = {r["window"]: r for r in rows if r["metric"] == "accuracy"}
    assert list(by_window) == [None, *[f"2024-{m:02d}" for m in range(1, 13)]]
    assert by_window[None]["n"] == int(months.sum())
    for month, row in by_window.items():
        if month is None:
            continue
        assert row["n"] == months[month]
        if months[month] < 12:  # reported as too few, not dropped
            assert row["value"] is None and row["ci_low"] is None
        else:
            assert row["ci_low"] <= row["value"] <= row["ci_high"]
    assert any(r["value"] is None for r in by_window.values()) and any(r["value"] for r in by_window.values())
    assert "window" in (run / "metrics.csv").read_text().splitlines()[0].split(",")
    before = (run / "metrics.json").read_bytes()
    assert _bench(["rescore", str(run), "--data", str(tmp_path / "data")], tmp_path / "o.txt") == 0
    assert (run / "metrics.json").read_bytes() == before
    # the table keeps one row per window: the pooled cell is the pooled value, not a mean over windows
    summary = summarize(json.loads(before)["rows"])
    cell = summary[(summary["model"] == "logreg") & (summary["metric"] == "accuracy")]
    assert list(cell["window"]) == ["", *[f"2024-{m:02d}" for m in range(1, 13)]]
    assert cell["mean"].iloc[0] == by_window[None]["value"]
    capsys.readouterr()
    assert main(["show", str(run), "--format", "csv"]) == 0
    shown = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(shown[(shown["model"] == "logreg") & (shown["metric"] == "accuracy")]) == 13


def test_bad_drift_settings_are_one_line_errors(tmp_path: Path) -> None:
    base = (REPO / "configs/demo_generalization.yaml").read_text()
    config = tmp_path / "c.yaml"
    config.write_text(base.replace("window: quarter", "window: fortnight"))
    with pytest.raises(ConfigError, match=r"evaluation\.drift\.window: expected month, quarter, year or a number"):
        load_config(config)
    config.write_text(base.replace("  test: train ", "  cv: {folds: 3} "))
    with pytest.raises(ConfigError, match=r"evaluation\.drift: drift trains once before a date; remove cv"):
        load_config(config)


def test_a_dataset_without_dates_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _bench(["run", "configs/demo_generalization.yaml", "--set", "datasets=[configs/datasets/demo-topics.yaml]",
                   "--set", "evaluation.metrics=[f1_macro]", "--data", str(tmp_path / "data"),
                   "--results", str(tmp_path / "r"), "--quiet"], tmp_path / "o.txt") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "evaluation.drift.column: dataset 'demo-topics' has no column 'date'" in err[-1]


def test_configs_without_drift_keep_their_hash() -> None:
    loaded = load_config(REPO / "configs/demo.yaml")
    assert "drift" not in config_to_dict(loaded.config)["evaluation"]


@pytest.mark.slow
def test_report_draws_the_drift_curve_and_compare_pairs_drift_runs(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture) -> None:
    from bench.report.collect import ReportOptions, collect
    from bench.report.drift_plot import drift_points
    from bench.results.store import RunDir

    runs = [_run(tmp_path, "datasets=[configs/datasets/demo-topic.yaml]"),
            _run(tmp_path, "datasets=[configs/datasets/demo-topic.yaml]", "models.2.params.C=0.01")]
    data = collect([RunDir.open(runs[0])], ReportOptions())
    (ds,) = data.datasets
    (svm,) = [s for s in ds.systems if s.key.model == "linear_svm"]
    points, pooled = drift_points(data, svm)
    rows = json.loads((runs[0] / "metrics.json").read_text())["rows"]
    stored = {r["window"]: r for r in rows if r["model"] == "linear_svm" and r["metric"] == data.metric}
    assert [p[0] for p in points] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert [(p[1], p[2], p[3], p[4]) for p in points] == [
        (stored[w]["value"], stored[w]["ci_low"], stored[w]["ci_high"], stored[w]["n"]) for w, *_ in points]
    assert pooled == stored[None]["value"]
    html = tmp_path / "report.html"
    assert main(["report", str(runs[0]), "-o", str(html)]) == 0
    assert (tmp_path / "report_plots" / "drift-demo-topic.png").is_file()
    capsys.readouterr()
    # compare pairs the pooled test items of two drift runs: one row per system and run, not per window
    assert main(["compare", *map(str, runs), "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert sorted(table["model"]) == sorted(["majority", "logreg", "linear_svm"] * 2)
    first = table[table["baseline"] & (table["model"] == "linear_svm")]
    assert first["value"].item() == stored[None]["value"]


def test_undated_rows_are_refused_or_skipped_as_asked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Train split rows dated 2023 or 2024, test split rows 2024, some rows with no date at all."""
    import numpy as np

    from tests.tiny_news import TOPIC_WORDS, _rows, write_csv_dataset

    rng = np.random.default_rng(3)
    splits = {"train": _rows(TOPIC_WORDS, 40, 0, rng), "test": _rows(TOPIC_WORDS, 30, 1000, rng)}
    for i, row in enumerate(splits["train"]):
        row["date"] = "" if i % 10 == 9 else f"{2023 + i % 2}-0{1 + i % 6}-15"
    for i, row in enumerate(splits["test"]):
        row["date"] = "" if i % 10 == 9 else f"2024-0{1 + i % 6}-15"
    spec = write_csv_dataset(tmp_path / "src", "dated", splits, "task: topic\ncolumns: {id: id, text: text, "
                             "label: label, date: date}\nlabels: [business, sport, tech]\n")
    config = tmp_path / "drift.yaml"
    config.write_text(f"""name: dated
datasets: [{spec}]
features: [{{name: word, kind: tfidf}}]
models: [{{name: lr, estimator: logistic_regression}}]
evaluation:
  metrics: [accuracy]
  bootstrap: {{samples: 50}}
  drift: {{train_before: 2024-01-01, window: quarter, min_items: 5}}
""")
    argv = ["run", str(config), "--data", str(tmp_path / "data"), "--results", str(tmp_path / "r"), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dataset 'dated': 4 of 40 rows have no readable 'date', e.g. id 'd9'" in err[0]
    assert "set undated: skip" in err[0]
    assert main([*argv, "--set", "evaluation.drift.undated=skip"]) == 0
    run = Path(capsys.readouterr().out.strip().splitlines()[-1])
    pred = pd.read_parquet(next((run / "predictions").glob("*.parquet")))
    # only the test split's dated rows are scored (train's 2024 rows are not test rows), in time order
    assert len(pred) == 27 and set(pred["id"]) == {r["id"] for r in splits["test"] if r["date"]}
    assert list(pred["window"]) == sorted(pred["window"]) and set(pred["window"]) == {"2024-Q1", "2024-Q2"}
    job = json.loads(next((run / "jobs").glob("*.json")).read_text())
    assert job["n_train"] == 20  # the train split's 2023 rows (its undated rows are odd ones, dated 2024)


def test_with_several_seeds_a_window_cell_has_no_interval(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The seed-mean interval is recomputed for the pooled cell only: a window is a slice, like a target."""
    run = _run(tmp_path, "datasets=[configs/datasets/demo-topic.yaml]", "seeds=[0, 1]",
               "models=[{name: sgd, estimator: sgd}]")
    capsys.readouterr()
    assert main(["show", str(run), "--format", "json"]) == 0
    cells = [c for c in json.loads(capsys.readouterr().out) if c["metric"] == "accuracy"]
    assert [c["window"] for c in cells] == ["", "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert all(c["n_seeds"] == 2 for c in cells)
    pooled, *windows = cells
    assert pooled["ci_low"] <= pooled["mean"] <= pooled["ci_high"]
    assert all(c["ci_low"] is None and c["ci_high"] is None for c in windows)
