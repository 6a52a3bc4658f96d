"""Robustness probes: each perturbation, its determinism, the paired delta, the rows, and a CLI run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.config.snapshot import config_to_dict
from bench.core.errors import ConfigError, UnknownNameError
from bench.corpus.perturb import (ProbeParamError, add_typos, entity_pool, find_entities, perturb_items,
                                  resolve_probe, strip_lead, truncate_words)
from bench.results.probe_rows import probe_rows
from bench.results.rows import RowKey
from bench.results.store import RunDir
from bench.run.validate import load_config
from tests.conftest import REPO, needs_dataset

KEY = RowKey(dataset="d", features="word", model="m", seed=0, split="test")


def _items(texts: list[str], targets: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"id": [f"i{k}" for k in range(len(texts))], "text": texts, "label": "x"})
    return frame.assign(target=targets) if targets is not None else frame


# --- each perturbation on hand-written texts ----------------------------------------------------

def test_typos_edit_letters_only_at_the_rate_asked(seed: int) -> None:
    text = "The 2024 budget, passed on 3 May, cuts 12% of spending. " * 20
    rng = np.random.default_rng(seed)
    assert add_typos(text, 0.0, rng) == text
    noisy = add_typos(text, 1.0, np.random.default_rng(seed))
    assert noisy != text
    assert [c for c in noisy if c.isdigit()] == [c for c in text if c.isdigit()]  # digits are never edited
    light = add_typos(text, 0.02, np.random.default_rng(seed))
    heavy = add_typos(text, 0.3, np.random.default_rng(seed))
    import difflib

    def changed(a: str) -> float:
        return 1 - difflib.SequenceMatcher(None, a, text, autojunk=False).ratio()

    assert 0 < changed(light) < changed(heavy)


def test_typos_are_keyed_by_item_id_not_by_order(seed: int) -> None:
    items = _items(["Markets rallied after the central bank held rates.", "Storm floods the coastal town.",
                    "The striker scored twice in the final."])
    probe = resolve_probe("typos", {"rate": 0.3, "seed": seed})
    once = perturb_items(items, probe, stance=False).items.set_index("id")["text"]
    reordered = perturb_items(items.iloc[::-1], probe, stance=False).items.set_index("id")["text"]
    alone = perturb_items(items.iloc[[1]], probe, stance=False).items.set_index("id")["text"]
    assert once.to_dict() == reordered.to_dict()
    assert alone["i1"] == once["i1"]
    other = perturb_items(items, resolve_probe("typos", {"rate": 0.3, "seed": seed + 1}), stance=False)
    assert other.items["text"].tolist() != once.tolist()


def test_lowercase_touches_text_and_target() -> None:
    out = perturb_items(_items(["NASA Launches A Probe", "already lower"], ["Space NEWS", "x"]),
                        resolve_probe("lowercase", {}), stance=True)
    assert out.items["text"].tolist() == ["nasa launches a probe", "already lower"]
    assert out.items["target"].tolist() == ["space news", "x"]
    assert out.changed.tolist() == [True, False]


@pytest.mark.parametrize(("text", "expected"), [
    ("LONDON (Reuters) - Shares fell.", "Shares fell."),
    ("(CNN) -- A member of the band", "A member of the band"),
    ("New York (CNN) -- When the reporter", "When the reporter"),
    ("By Isaac Abrak ABUJA, Nov 1 (Reuters) - A man claiming", "A man claiming"),
    ("KANSAS CITY, Mo. - Health officials said", "Health officials said"),
    ("MAIDUGURI, Nigeria — The leader of", "The leader of"),
    ("By John Smith\nThe council met.", "The council met."),
    # no lead: left alone
    ("BREAKING: Islamic State releases video", "BREAKING: Islamic State releases video"),
    ("LOL - I love this", "LOL - I love this"),
    ("By Mr Mossoff's reasoning, electricity", "By Mr Mossoff's reasoning, electricity"),
    ("Quarterly profits at US media giant TimeWarner jumped", "Quarterly profits at US media giant TimeWarner jumped"),
])
def test_strip_lead_removes_bylines_and_datelines_only(text: str, expected: str) -> None:
    assert strip_lead(text) == expected


def test_no_lead_counts_the_items_it_changed() -> None:
    out = perturb_items(_items(["LONDON (Reuters) - Shares fell.", "Shares fell."]), resolve_probe("no_lead", {}),
                        stance=False)
    assert out.items["text"].tolist() == ["Shares fell.", "Shares fell."]
    assert out.n_changed == 1


def test_headline_and_body_only_empty_one_side_of_a_pair() -> None:
    items = _items(["The body says the claim is false."], ["Claim: the moon is cheese"])
    head = perturb_items(items, resolve_probe("headline_only", {}), stance=True).items.iloc[0]
    body = perturb_items(items, resolve_probe("body_only", {}), stance=True).items.iloc[0]
    assert (head["text"], head["target"]) == ("", "Claim: the moon is cheese")
    assert (body["text"], body["target"]) == ("The body says the claim is false.", "")
    with pytest.raises(ValueError, match="headline/body pairs only"):
        perturb_items(_items(["single text"]), resolve_probe("headline_only", {}), stance=False)


def test_truncate_keeps_the_first_words() -> None:
    assert truncate_words("one two  three\nfour five", 3) == "one two  three"
    assert truncate_words("short text", 50) == "short text"
    out = perturb_items(_items(["a b c d e f", "a b"], ["head line words here", "t"]),
                        resolve_probe("truncate", {"words": 2}), stance=True)
    assert out.items["text"].tolist() == ["a b", "a b"]
    assert out.items["target"].tolist() == ["head line words here", "t"]  # the headline is kept
    assert out.changed.tolist() == [True, False]


def test_find_entities_by_capitalisation() -> None:
    text = "The Islamic State said Helena Varga met officials in New York. In Kansas City nothing happened."
    assert find_entities(text) == ["Islamic State", "Helena Varga", "New York", "Kansas City"]
    assert find_entities("obama met putin; NATO agreed.") == []  # lowercase, one-word and all-caps names are missed


def test_entity_swap_is_consistent_within_a_pair_and_draws_from_the_corpus(seed: int) -> None:
    texts = ["Helena Varga met Oskar Lind in Kansas City.", "Marta Ruiz spoke in New York.", "No names at all here."]
    items = _items(texts, ["Helena Varga resigns", "Marta Ruiz", "Nothing"])
    out = perturb_items(items, resolve_probe("entity_swap", {"seed": seed}), stance=True)
    pool = entity_pool(items)
    first = out.items.iloc[0]
    new_name = first["target"].removesuffix(" resigns")
    assert new_name != "Helena Varga" and new_name in pool[2]
    assert first["text"].startswith(f"{new_name} met ")  # the same name on both sides of the pair
    assert first["text"] != texts[0] and find_entities(first["text"])[0] == new_name
    assert out.items.iloc[2]["text"] == texts[2]
    assert out.changed.tolist() == [True, True, False]


def test_probe_names_and_parameters_are_checked_with_suggestions() -> None:
    with pytest.raises(UnknownNameError, match="typos"):
        resolve_probe("typo", {})
    with pytest.raises(ProbeParamError, match=r"params.rat: unknown parameter of probe 'typos'; did you mean 'rate'"):
        resolve_probe("typos", {"rat": 0.1})
    with pytest.raises(ProbeParamError, match=r"params.rate: 1.5 is outside \[0.0, 1.0\]"):
        resolve_probe("typos", {"rate": 1.5})
    with pytest.raises(ProbeParamError, match="params.words: expected int"):
        resolve_probe("truncate", {"words": "ten"})
    with pytest.raises(ProbeParamError, match="it takes no parameters"):
        resolve_probe("lowercase", {"rate": 0.1})
    assert resolve_probe("typos", {"rate": 0.1}).label == "typos(rate=0.1, seed=0)"


# --- config ----------------------------------------------------------------------------------

def _config(tmp_path: Path, probes: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text("name: c\ndatasets: [configs/datasets/demo-topic.yaml]\n"
                    "features: [{name: word, kind: tfidf}]\nmodels: [{name: m, estimator: majority}]\n"
                    f"evaluation:\n  probes: {probes}\n")
    return path


@pytest.mark.parametrize(("probes", "error"), [
    ("[typo]", r"c.yaml:6: evaluation.probes\[0\].name: .*did you mean 'typos'"),
    ("[{name: typos, params: {rat: 0.1}}]", r"evaluation.probes\[0\].params.rat: .*did you mean 'rate'"),
    ("[{name: truncate, parms: {words: 3}}]", r"unknown key 'parms'; did you mean 'params'"),
    ("[typos, {name: typos, params: {rate: 0.05}}]", r"listed twice"),
    ("[]", r"no probes"),
])
def test_bad_probe_configs_fail_in_one_line(tmp_path: Path, probes: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        load_config(_config(tmp_path, probes))


def test_configs_without_probes_keep_their_snapshot() -> None:
    config = load_config(REPO / "configs/demo.yaml").config
    assert "probes" not in config_to_dict(config)["evaluation"]


# --- the paired delta ----------------------------------------------------------------------------

def _preds(seed: int, n: int = 400, flips: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 3, n)
    clean = np.where(rng.random(n) < 0.8, gold, rng.integers(0, 3, n))
    probed = clean.copy()
    hit = rng.choice(n, flips, replace=False)
    probed[hit] = (gold[hit] + 1) % 3  # the probe breaks a few items
    return gold, clean, probed


def test_an_unchanged_probe_has_a_zero_delta_with_a_zero_interval(seed: int) -> None:
    gold, clean, _ = _preds(seed)
    rows = probe_rows(KEY, "lowercase", y_true=gold, clean=(clean, None), probed=(clean, None), labels=("a", "b", "c"),
                      metrics=["accuracy", "f1_macro"], bootstrap=_bootstrap(), n_changed=0)
    assert all(r["delta"] == 0 and r["delta_ci_low"] == 0 and r["delta_ci_high"] == 0 for r in rows)


def _bootstrap():
    from bench.config.spec import BootstrapSpec

    return BootstrapSpec(samples=2000, confidence=0.95)


def test_the_delta_interval_is_paired_over_the_same_items(seed: int) -> None:
    """The interval matches scipy's paired bootstrap of the accuracy difference, and is far narrower than unpaired."""
    from scipy import stats

    gold, clean, probed = _preds(seed)
    row = next(r for r in probe_rows(KEY, "typos", y_true=gold, clean=(clean, None), probed=(probed, None),
                                     labels=("a", "b", "c"), metrics=["accuracy"], bootstrap=_bootstrap(),
                                     n_changed=12))
    assert row["delta"] == pytest.approx(np.mean(probed == gold) - np.mean(clean == gold))
    assert row["value"] == pytest.approx(np.mean(probed == gold))
    ref = stats.bootstrap(((probed == gold).astype(float), (clean == gold).astype(float)),
                          lambda a, b, axis: np.mean(a, axis=axis) - np.mean(b, axis=axis), paired=True,
                          n_resamples=4000, method="percentile", random_state=seed).confidence_interval
    assert row["delta_ci_low"] == pytest.approx(ref.low, abs=0.006)
    assert row["delta_ci_high"] == pytest.approx(ref.high, abs=0.006)
    assert row["delta_ci_high"] - row["delta_ci_low"] < 0.5 * (row["ci_high"] - row["ci_low"])
    assert row["probe"] == "typos" and row["n_changed"] == 12


def test_the_delta_interval_is_deterministic_per_seed_and_probe(seed: int) -> None:
    gold, clean, probed = _preds(seed)

    def ci(key: RowKey, probe: str) -> tuple[float, float]:
        row = probe_rows(key, probe, y_true=gold, clean=(clean, None), probed=(probed, None), labels=("a", "b", "c"),
                         metrics=["f1_macro"], bootstrap=_bootstrap(), n_changed=12)[0]
        return row["delta_ci_low"], row["delta_ci_high"]

    assert ci(KEY, "typos") == ci(KEY, "typos")
    from dataclasses import replace

    assert ci(replace(KEY, seed=KEY.seed + 1), "typos") != ci(KEY, "typos")


def test_probe_rows_from_saved_frames_refuse_other_items(seed: int) -> None:
    from bench.core.errors import ResultsError
    from bench.results.probe_rows import score_probe_frame

    gold, clean, probed = _preds(seed, n=60, flips=5)
    labels = ("a", "b", "c")
    frame = pd.DataFrame({"id": [f"i{k}" for k in range(60)], "gold": [labels[g] for g in gold],
                          "pred": [labels[p] for p in clean]})
    probes = frame.assign(pred=[labels[p] for p in probed], changed=probed != clean)
    probes.insert(0, "probe", "typos")
    shuffled = probes.sample(frac=1.0, random_state=seed)  # aligned by id, not by position
    rows = score_probe_frame(frame, shuffled, KEY, labels=labels, multilabel=False, metrics=["accuracy"],
                             bootstrap=None, where="p.parquet")
    assert rows[0]["delta"] == pytest.approx(np.mean(probed == gold) - np.mean(clean == gold))
    assert rows[0]["n_changed"] == int((probed != clean).sum()) and rows[0]["delta_ci_low"] is None
    with pytest.raises(ResultsError, match="p.parquet: probe 'typos' has other items than the clean predictions"):
        score_probe_frame(frame, probes.iloc[1:], KEY, labels=labels, multilabel=False, metrics=["accuracy"],
                          bootstrap=None, where="p.parquet")


# --- a run through the CLI -----------------------------------------------------------------------

DEMO_PROBES = """\
name: demo-probes
datasets: [{topic}, {stance}]
features:
  - {{name: word, kind: tfidf, params: {{ngram_range: [1, 2], sublinear_tf: true}}}}
models:
  - {{name: logreg, estimator: logistic_regression, params: {{C: 10.0}}}}
seeds: [0]
evaluation:
  metrics: [accuracy, f1_macro]
  bootstrap: {{samples: 200}}
{probes}"""
PROBES = ("  probes: [{name: typos, params: {rate: 0.1}}, lowercase, no_lead, headline_only, "
          "{name: truncate, params: {words: 20}}, entity_swap]\n")


@pytest.fixture(scope="module")
def demo_probe_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo datasets with probes, run twice, and once without probes."""
    root = tmp_path_factory.mktemp("probes")
    out = {}
    text_in = DEMO_PROBES.replace("logistic_regression, params: {{C: 10.0}}",
                                  "tests.plugins.textmodels.PairTfidfSVC, input: text").replace("{topic}, ", "")
    for name, probes in (("probes", PROBES), ("again", PROBES), ("clean", ""), ("text", PROBES)):
        config = root / f"{name}.yaml"
        config.write_text((text_in if name == "text" else DEMO_PROBES).format(
            topic=REPO / "configs/datasets/demo-topic.yaml", stance=REPO / "configs/datasets/demo-stance.yaml",
            probes=probes))
        results = root / f"results-{name}"
        assert main(["run", str(config), "--data", str(root / "data"), "--results", str(results), "--quiet"]) == 0
        out[name] = next(p for p in results.iterdir() if not p.name.startswith("."))
    return out


def _metrics(run: Path) -> list[dict]:
    return json.loads((run / "metrics.json").read_text())["rows"]


@pytest.mark.slow
def test_a_probes_run_writes_probe_rows_beside_unchanged_clean_rows(demo_probe_runs: dict[str, Path]) -> None:
    run = RunDir.open(demo_probe_runs["probes"])
    rows = _metrics(run.path)
    probed = [r for r in rows if "probe" in r]
    assert {r["probe"] for r in probed} >= {"typos(rate=0.1, seed=0)", "lowercase", "no_lead", "truncate(words=20)",
                                            "entity_swap(seed=0)", "headline_only"}
    assert all(r["fold"] is None and r["target"] is None and {"delta", "delta_ci_low", "delta_ci_high", "n_changed"}
               <= set(r) for r in probed)
    assert not any(r["probe"] == "headline_only" and r["dataset"] == "demo-topic" for r in probed)
    # clean rows: no probe key, and exactly those of the same run without probes (the model is fitted once)
    assert [r for r in rows if "probe" not in r] == _metrics(demo_probe_runs["clean"])
    assert run.rows() == _metrics(demo_probe_runs["clean"])
    assert run.probe_rows() == probed
    job = run.job("demo-topic__word__logreg__s0")
    assert job["probes_skipped"] == {"headline_only": "needs headline/body pairs; this dataset has single texts"}
    assert job["probes"]["typos(rate=0.1, seed=0)"]["n_changed"] == job["n_test"]
    frame = run.probe_predictions("demo-stance__word__logreg__s0")
    assert frame is not None and set(frame["probe"]) == {r["probe"] for r in probed if r["dataset"] == "demo-stance"}
    assert "probe" in (run.path / "metrics.csv").read_text().splitlines()[0]
    assert "probe" not in (demo_probe_runs["clean"] / "metrics.csv").read_text().splitlines()[0]


@pytest.mark.slow
def test_a_probes_run_is_deterministic_and_rescored_bit_for_bit(demo_probe_runs: dict[str, Path],
                                                                 tmp_path: Path) -> None:
    assert _metrics(demo_probe_runs["probes"]) == _metrics(demo_probe_runs["again"])
    copy = tmp_path / demo_probe_runs["probes"].name
    shutil.copytree(demo_probe_runs["probes"], copy)
    assert main(["rescore", str(copy)]) == 0
    assert _metrics(copy) == _metrics(demo_probe_runs["probes"])


@pytest.mark.slow
def test_compare_reads_probe_runs_like_any_other(demo_probe_runs: dict[str, Path],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(demo_probe_runs["clean"]), str(demo_probe_runs["probes"]), "--format", "json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table  # the clean rows of both runs, paired as usual


@pytest.mark.slow
def test_a_text_in_model_reads_the_perturbed_pairs(demo_probe_runs: dict[str, Path]) -> None:
    run = RunDir.open(demo_probe_runs["text"])
    clean = run.predictions("demo-stance__text__logreg__s0")
    probes = run.probe_predictions("demo-stance__text__logreg__s0")
    assert probes is not None
    head = probes[probes["probe"] == "headline_only"]
    assert head["changed"].all() and (head["pred"].to_numpy() != clean["pred"].to_numpy()).any()
    lower = probes[probes["probe"] == "lowercase"]  # the model's tf-idf lowercases: nothing can change
    assert (lower["pred"].to_numpy() == clean["pred"].to_numpy()).all()


@pytest.mark.slow
def test_the_report_shows_a_probe_table_with_paired_intervals(demo_probe_runs: dict[str, Path],
                                                             tmp_path: Path) -> None:
    from bench.report.probe_table import probe_lines

    run = RunDir.open(demo_probe_runs["probes"])
    lines, warnings = probe_lines([run], ["r"], "accuracy", samples=500, confidence=0.95, seed=0)
    assert not warnings
    rows = {(r["dataset"], r["probe"]): r for r in run.probe_rows() if r["metric"] == "accuracy"}
    assert {(x.dataset, x.probe) for x in lines} == set(rows)
    for x in lines:  # one seed: the same numbers as the run's rows, the interval from another stream
        row = rows[x.dataset, x.probe]
        assert x.value == pytest.approx(row["value"]) and x.delta == pytest.approx(row["delta"])
        assert x.n_changed == row["n_changed"] and x.ci_low <= x.delta <= x.ci_high
    page = tmp_path / "report.html"
    assert main(["report", str(run.path), "-o", str(page), "--samples", "200"]) == 0
    html = page.read_text(encoding="utf-8")
    section = html[html.index('<section id="probes">'):html.index('<section id="items">')]
    assert "truncate(words=20)" in section and "entity_swap(seed=0)" in section and "Δ" in section
    unchanged = [x for x in lines if x.n_changed == 0]
    assert all(x.delta == 0 for x in unchanged)
    assert ("changed nothing" in section) == bool(unchanged)


# --- public data -------------------------------------------------------------------------------

@pytest.mark.integration
@pytest.mark.slow
def test_bbc_bodies_have_no_lead_and_fnc1_bodies_some(data_root: Path, tmp_path: Path) -> None:
    """The built BBC text starts with the story; FNC-1 bodies keep agency datelines the probe can remove."""
    from bench.corpus import build_dataset, load_split

    needs_dataset(data_root, "bbc_news")
    needs_dataset(data_root, "fnc1")
    probe = resolve_probe("no_lead", {})
    counts = {}
    for name in ("bbc", "fnc1"):
        ds = build_dataset(REPO / f"configs/datasets/{name}.yaml", tmp_path).dataset
        test = load_split(ds, "test")
        counts[name] = perturb_items(test, probe, stance=ds.task == "stance").n_changed
    assert counts["bbc"] == 0
    assert counts["fnc1"] > 100
