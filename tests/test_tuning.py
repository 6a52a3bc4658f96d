"""Tuning by nested cross-validation: no outer test row reaches the search, groups hold, the choice reproduces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.core.errors import ConfigError
from bench.run.tuning import candidates, inner_folds
from bench.run.validate import count_fits, load_config
from tests import tuning_spies
from tests.tiny_news import write_topic

SPY = "tests.tuning_spies.SpyLogistic"


def _config(folder: Path, model: str, *, cv: bool = False, name: str = "tuned") -> Path:
    spec = folder / "src" / "tiny_topic.yaml"
    if not spec.exists():
        spec = write_topic(folder / "src", n_train=48, n_test=24)
    evaluation = "cv: {folds: 3, by: label, seed: 0}" if cv else "test: test"
    path = folder / f"{name}.yaml"
    path.write_text(f"""name: {name}
datasets: [{spec}]
features:
  - {{name: word, kind: tfidf}}
models:
  - {model}
seeds: [0]
evaluation:
  {evaluation}
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 50}}
""", encoding="utf-8")
    return path


def _run(folder: Path, config: Path, results: str = "results") -> Path:
    out = folder / results
    assert main(["run", str(config), "--data", str(folder / "data"), "--results", str(out), "--quiet"]) == 0
    (run,) = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return run


def _job(run: Path) -> dict:
    (path,) = (run / "jobs").glob("*.json")
    return json.loads(path.read_text(encoding="utf-8"))


TUNED = f"{{name: lr, estimator: {SPY}, tune: {{params: {{C: [0.1, 1.0, 10.0]}}, folds: 3, metric: f1_macro}}}}"


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, frozenset[str]]]:
    from bench.learn import cache

    tuning_spies.FITS.clear()
    monkeypatch.setattr(cache, "fit_features", tuning_spies.spy_fit_features(cache.fit_features))
    return tuning_spies.FITS


def test_holdout_search_never_sees_a_test_row(tmp_path: Path, spied: list, capsys: pytest.CaptureFixture) -> None:
    run = _run(tmp_path, _config(tmp_path, TUNED))
    test_ids = {f"d{1000 + i}" for i in range(24)}
    train_ids = {f"d{i}" for i in range(48)}
    models = [ids for kind, ids in spied if kind == "model"]
    features = [ids for kind, ids in spied if kind == "features"]
    assert len(models) == 3 * 3 + 1  # inner folds x candidates + the refit
    assert len(features) == 3 + 1  # one vectorizer fit per inner fold (cached for every candidate) + the outer one
    for ids in models + features:
        assert not ids & test_ids
        assert ids <= train_ids
    assert max(len(ids) for ids in models) == 48  # the refit saw every training row

    def group(item: str) -> int:
        return int(item[1:]) // 3  # tiny_news: row d<i> is in group g<i // 3>

    for ids in models[:-1]:  # inner fits: no group on both sides of an inner fold
        assert len(ids) < 48
        assert not {group(i) for i in ids} & {group(i) for i in train_ids - ids}
    job = _job(run)
    assert job["params"] == [job["tuning"][0]["params"]]
    assert [c["params"]["C"] for c in job["tuning"][0]["candidates"]] == [0.1, 1.0, 10.0]
    chosen = job["params"][0]["C"]
    capsys.readouterr()
    assert main(["show", str(run)]) == 0
    assert f"note: tuned: tiny_topic/word/lr: C={chosen:.4g} (seed 0) [3-fold inner CV on f1_macro, 3 candidates]" \
        in capsys.readouterr().out
    assert main(["compare", str(run), "--format", "md"]) == 0
    assert f"- tuned: tuned: tiny_topic/word/lr: C={chosen:.4g} (seed 0)" in capsys.readouterr().out


def test_cv_search_stays_inside_each_outer_training_fold(tmp_path: Path, spied: list) -> None:
    run = _run(tmp_path, _config(tmp_path, TUNED, cv=True))
    (pred_file,) = (run / "predictions").glob("*.parquet")
    pred = pd.read_parquet(pred_file)
    outer_test = {int(f): set(g["id"].astype(str)) for f, g in pred.groupby("fold")}
    everything = set().union(*outer_test.values())
    assert len(outer_test) == 3 and len(everything) == 48
    fits = [ids for kind, ids in spied]
    assert len([1 for kind, _ in spied if kind == "model"]) == 3 * (3 * 3 + 1)
    for ids in fits:
        # each fit belongs to one outer fold's training rows: it never touches that fold's test rows
        assert any(not ids & test for test in outer_test.values()), sorted(ids)
    job = _job(run)
    assert [t["fold"] for t in job["tuning"]] == [0, 1, 2]
    assert len(job["params"]) == 3


def test_inner_folds_keep_each_group_on_one_side() -> None:
    rng = np.random.default_rng(3)
    n = 60
    frame = pd.DataFrame({"id": [f"d{i}" for i in range(n)], "label": rng.choice(["a", "b"], size=n),
                          "group": [f"g{i // 4}" for i in range(n)]})
    folds = inner_folds(frame, 3, seed=0, multilabel=False)
    assert sorted(np.concatenate(folds).tolist()) == list(range(n))
    for test_idx in folds:
        test_groups = set(frame["group"].iloc[test_idx])
        train_groups = set(frame["group"].drop(index=test_idx))
        assert not test_groups & train_groups


def test_recorded_choice_reproduces_and_runs_are_deterministic(tmp_path: Path) -> None:
    model = "{name: svm, estimator: linear_svc, tune: {params: {C: [0.01, 1.0]}, folds: 3}}"
    first = _run(tmp_path, _config(tmp_path, model), "r1")
    again = _run(tmp_path, _config(tmp_path, model), "r2")
    chosen = _job(first)["params"][0]
    assert _job(again)["params"][0] == chosen
    assert _job(again)["tuning"] == _job(first)["tuning"]
    fixed = _run(tmp_path, _config(tmp_path, f"{{name: svm, estimator: linear_svc, params: {{C: {chosen['C']}}}}}",
                                   name="fixed"), "r3")

    def values(run: Path) -> list:
        rows = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        rows = rows["rows"] if isinstance(rows, dict) else rows
        return sorted((r["metric"], r["value"], r.get("ci_low"), r.get("ci_high")) for r in rows)

    assert values(first) == values(again) == values(fixed)


def test_random_search_draws_from_the_seed_and_the_ranges() -> None:
    from bench.config.spec import TuneSpec

    tune = TuneSpec(params={"C": {"log_uniform": [0.01, 10]}, "penalty": ["l1", "l2"]}, n_iter=5)
    drawn = candidates(tune, seed=4)
    assert drawn == candidates(tune, seed=4) and drawn != candidates(tune, seed=5)
    assert all(0.01 <= c["C"] <= 10 and c["penalty"] in ("l1", "l2") for c in drawn) and len(drawn) == 5
    assert candidates(TuneSpec(params=tune.params, n_iter=5, seed=9), seed=4) == \
        candidates(TuneSpec(params=tune.params, n_iter=5, seed=9), seed=5)


@pytest.mark.parametrize(("tune", "key", "match"), [
    ("{params: {c: [1, 2]}}", r"models\[0\]\.tune\.params\.c", "unknown parameter 'c' of LinearSVC; did you mean 'C'"),
    ("{params: {C: []}}", r"models\[0\]\.tune\.params\.C", "non-empty list"),
    ("{params: {}}", r"models\[0\]\.tune\.params", "empty search space"),
    ("{params: {C: [1]}, folds: 1}", r"models\[0\]\.tune\.folds", "at least 2 inner folds"),
    ("{params: {C: [1]}, metric: f1_macr}", r"models\[0\]\.tune\.metric", "f1_macro"),
    ("{params: {C: {log_uniform: [0.1, 1]}}}", r"models\[0\]\.tune\.params\.C", "needs random search"),
    ("{params: {C: [-1]}}", r"models\[0\]\.tune\.params\.C", "C"),
])
def test_bad_tune_is_one_config_error_line(tmp_path: Path, tune: str, key: str, match: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"""name: bad
datasets: [x.yaml]
features: [{{name: word, kind: tfidf}}]
models:
  - name: svm
    estimator: linear_svc
    tune: {tune}
seeds: [0]
""", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"bad\.yaml:7: {key}: .*{match}") as info:
        load_config(config)
    assert "\n" not in str(info.value)


def test_tuning_a_text_in_model_is_refused_in_one_line(tmp_path: Path) -> None:
    """The inner folds of a search fit feature blocks; a text-in model has none to fit."""
    config = tmp_path / "bad.yaml"
    config.write_text("""name: bad
datasets: [x.yaml]
features: []
models:
  - name: pipe
    estimator: sklearn.svm.LinearSVC
    input: text
    tune: {params: {C: [1, 2]}}
seeds: [0]
""", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.yaml:8: models\[0\]\.tune: model 'pipe' reads texts"):
        load_config(config)


def test_validate_counts_inner_fits_and_refits(tmp_path: Path) -> None:
    config = _config(tmp_path, TUNED, cv=True)
    assert count_fits(load_config(config).config) == 3 * (3 * 3 + 1)
    plain = _config(tmp_path, "{name: svm, estimator: linear_svc}", name="plain")
    assert count_fits(load_config(plain).config) == 1


def test_snapshot_keeps_tune_and_leaves_it_out_when_unset(tmp_path: Path) -> None:
    from bench.config.snapshot import config_to_dict, dump_config

    tuned = load_config(_config(tmp_path, TUNED)).config
    plain = load_config(_config(tmp_path, "{name: svm, estimator: linear_svc}", name="plain")).config
    assert "tune" not in config_to_dict(plain)["models"][0]  # configs without tuning keep their hash
    again = tmp_path / "again.yaml"
    again.write_text(dump_config(tuned), encoding="utf-8")
    assert load_config(again).config == tuned
