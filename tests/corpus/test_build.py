"""Building datasets from specs: fields, cleaning, labels, splits, fingerprint, policies, reuse."""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path

import pytest

from bench.cli import main
from bench.corpus import build_dataset, ensure_built, load_split, open_dataset
from bench.core.errors import ConfigError, DataError

DATA = Path(__file__).parents[1] / "data" / "corpus"
ARTICLES = Path(__file__).parents[1] / "data" / "articles"

TOPICS = f"""\
name: topics
task: topic
source:
  files: {{train: {DATA}/topics.csv}}
columns: {{id: id, text: [title, body], title: title, date: date, label: topic}}
language: {{column: lang}}
labels: [politics, sports, economy]
splits:
  test: {{from: train, size: 6, seed: 3}}
"""

STANCES = f"""\
name: stances
task: stance
language: en
source:
  files: {{train: {DATA}/stances.csv}}
  join: {{file: {DATA}/bodies.csv, on: Body ID}}
columns: {{text: articleBody, target: Headline, label: Stance, group: Body ID}}
labels: [agree, disagree, discuss, unrelated]
splits:
  test: {{from: train, ids: {DATA}/hold_out_ids.txt, by: group}}
"""


def write_spec(folder: Path, text: str, name: str = "spec.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def build(folder: Path, text: str, **kwargs: object):
    return build_dataset(write_spec(folder, text), folder / "data", **kwargs)


def test_topic_build_writes_dataset_card_and_stats(tmp_path: Path) -> None:
    result = build(tmp_path, TOPICS)
    ds = result.dataset
    assert (ds.name, ds.task, ds.multilabel, ds.labels) == ("topics", "topic", False, ("politics", "sports", "economy"))
    assert ds.splits == ("train", "test") and ds.language is None  # fr and en rows
    stats = json.loads((ds.path / "stats.json").read_text())
    assert stats["schema_version"] == 1 and len(stats["fingerprint"]) == 64
    assert stats["splits"]["train"]["n_rows"] + stats["splits"]["test"]["n_rows"] == 18
    assert sum(stats["splits"]["test"]["label_counts"].values()) == stats["splits"]["test"]["n_rows"]
    assert stats["splits"]["test"]["label_counts"] == {"politics": 2, "sports": 2, "economy": 2}
    card = (ds.path / "card.md").read_text()
    assert "| test | 6 | 2 | 2 | 2 |" in card and "method: label" in card
    assert (ds.path / "dataset_dict.json").is_file()


def test_texts_are_cleaned_and_fields_kept(tmp_path: Path) -> None:
    ds = build(tmp_path, TOPICS).dataset
    rows = {r.id: r for split in ("train", "test") for r in load_split(ds, split).itertuples()}
    assert rows["n01"].text == ("Parliament passes budget\nThe parliament approved the annual budget\n"
                                "after a long night of debate.")
    assert unicodedata.is_normalized("NFC", rows["n03"].text) and "Élections" in rows["n03"].text
    assert rows["n03"].language == "fr" and rows["n03"].title == "Élections régionales"
    assert rows["n03"].date == "2023-06-18"
    assert isinstance(rows["n07"].label, str) and rows["n07"].label == "sports"


def test_same_spec_twice_gives_same_fingerprint_and_one_label_changes_it(tmp_path: Path) -> None:
    first = build(tmp_path, TOPICS, force=True).dataset.fingerprint
    again = build(tmp_path, TOPICS, force=True).dataset.fingerprint
    assert first == again
    changed = tmp_path / "changed.csv"
    text = (DATA / "topics.csv").read_text(encoding="utf-8")
    changed.write_text(text.replace("Retail sales dipped in February", "Retail sales dipped in February", 1)
                       .replace(",economy,2024-03-28,", ",politics,2024-03-28,"), encoding="utf-8")
    assert changed.read_text() != text
    other = build(tmp_path, TOPICS.replace(f"{DATA}/topics.csv", str(changed)), force=True).dataset.fingerprint
    assert other != first


def test_stance_join_and_ids_split_keep_groups_apart(tmp_path: Path) -> None:
    ds = build(tmp_path, STANCES).dataset
    train, test = load_split(ds, "train"), load_split(ds, "test")
    assert (len(train), len(test)) == (6, 6)
    assert set(test["group"]) == {"12", "13"} and not set(train["group"]) & set(test["group"])
    assert test["text"].str.contains("comet|painting", regex=True).all()
    assert set(train.columns) >= {"id", "text", "target", "label", "group", "language"}
    made = ds.stats()["audit"]["splits_made"]["test"]
    assert made["method"] == "ids by group" and made["ids_not_found"] == 0


def test_multilabel_from_json_lists_and_piped_gzip_csv(tmp_path: Path) -> None:
    for source, name in ((f"{DATA}/multilabel.jsonl", "ml_json"), (f"{DATA}/multilabel_pipe.csv.gz", "ml_csv")):
        spec = (f"name: {name}\ntask: topic\nmultilabel: true\nsource: {{files: {{train: {source}}}}}\n"
                "columns: {id: id, text: text, label: topics}\n")
        ds = build(tmp_path, spec).dataset
        frame = load_split(ds, "train").set_index("id")
        assert ds.multilabel and ds.labels == ("economy", "politics", "sports")
        assert frame.loc["m1", "label"] == ["politics", "economy"]
        assert frame.loc["m4", "label"] == ["economy"]
        assert ds.stats()["splits"]["train"]["label_counts"] == {"economy": 3, "politics": 3, "sports": 3}


def test_headerless_columns_by_position_with_label_map(tmp_path: Path) -> None:
    spec = (f"name: nohead\ntask: topic\nsource: {{files: {{train: {DATA}/noheader.csv}}, header: false}}\n"
            "columns: {text: [1, 2], title: 1, label: 0}\nlabels: [politics, sports, economy]\n"
            "label_map: {1: politics, 2: sports, 3: economy}\n")
    frame = load_split(build(tmp_path, spec).dataset, "train")
    assert frame["id"].iloc[0] == "train-1"
    assert frame["label"].value_counts().to_dict() == {"politics": 6, "sports": 6}
    assert frame["text"].iloc[0].startswith("Parliament passes budget\nThe parliament")


def test_latin1_tsv_without_quoting(tmp_path: Path) -> None:
    spec = (f"name: tweets\ntask: stance\nsource:\n  files: {{train: {DATA}/tweets_latin1.tsv}}\n"
            "  encoding: latin-1\n  quoting: none\ncolumns: {id: ID, text: Tweet, target: Target, label: Stance}\n")
    frame = load_split(build(tmp_path, spec).dataset, "train").set_index("id")
    assert frame.loc["102", "text"] == 'Another "crisis" invented to raise taxes #SemST'
    assert "café" in frame.loc["104", "text"]


def test_where_filter_and_temporal_split(tmp_path: Path) -> None:
    spec = TOPICS.replace("  test: {from: train, size: 6, seed: 3}", "  test: {from: train, after: 2024-01-01}")
    spec += "where: {lang: en}\n"
    ds = build(tmp_path, spec).dataset
    test = load_split(ds, "test")
    assert (test["date"] >= "2024-01-01").all() and (load_split(ds, "train")["date"] < "2024-01-01").all()
    assert set(test["language"]) == {"en"}
    assert ds.stats()["audit"]["filtered_out"] == 6


def test_policies_drop_and_count(tmp_path: Path) -> None:
    rows = ("id,text,topic\n1,Rates stay on hold,economy\n2,Rates stay on hold,economy\n3,  ,economy\n"
            "4,Striker signs,sports\n5,A new museum opens,culture\n6,Striker scores twice,sports\n"
            "7,Markets rally,economy\n")
    (tmp_path / "rows.csv").write_text(rows, encoding="utf-8")
    spec = (f"name: pol\ntask: topic\nsource: {{files: {{train: {tmp_path}/rows.csv}}}}\n"
            "columns: {id: id, text: text, label: topic}\nlabels: [economy, sports]\n"
            "on_empty: drop\non_unknown_label: drop\non_duplicate: drop\n")
    ds = build(tmp_path, spec).dataset
    audit = ds.stats()["audit"]
    assert audit["dropped"] == {"unknown_label": 1, "empty": 1, "duplicate": 1}
    assert audit["empty"] == {"train": 1} and audit["duplicates"] == {"train": 1}
    assert sorted(load_split(ds, "train")["id"]) == ["1", "4", "6", "7"]


def test_train_test_overlap_exact_and_near_are_counted_and_can_be_dropped(tmp_path: Path) -> None:
    story = ("The city council approved a new plan on Monday to build three bridges over the river, "
             "with work starting next spring and costs shared with the regional government, officials said.")
    train = f"id,text,topic\n1,\"{story}\",city\n2,A violinist won the national music prize this year,culture\n"
    edited = story.replace("officials said", "officials told reporters")
    test = (f"id,text,topic\n3,\"{story}\",city\n4,\"{edited}\",city\n"
            "5,Museums will stay open later during the summer festival,culture\n")
    (tmp_path / "train.csv").write_text(train, encoding="utf-8")
    (tmp_path / "test.csv").write_text(test, encoding="utf-8")
    spec = (f"name: leak\ntask: topic\nsource: {{files: {{train: {tmp_path}/train.csv, test: {tmp_path}/test.csv}}}}\n"
            "columns: {id: id, text: text, label: topic}\n")
    stats = build(tmp_path, spec).dataset.stats()
    assert stats["audit"]["overlap"]["test"] == {"exact": 1, "near": 1}
    dropped = build(tmp_path, spec + "on_overlap: drop\non_near_overlap: drop\n").dataset
    assert load_split(dropped, "test")["id"].tolist() == ["5"]
    assert dropped.stats()["audit"]["dropped"] == {"overlap": 1, "near_overlap": 1}


def test_up_to_date_build_is_reused_and_changes_rebuild(tmp_path: Path) -> None:
    data = tmp_path / "topics.csv"
    shutil.copy(DATA / "topics.csv", data)
    spec = write_spec(tmp_path, TOPICS.replace(f"{DATA}/topics.csv", str(data)))
    first = build_dataset(spec, tmp_path / "data")
    assert not first.reused
    assert build_dataset(spec, tmp_path / "data").reused
    assert ensure_built(spec, tmp_path / "data") == first.dataset
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert not build_dataset(spec, tmp_path / "data").reused
    spec.write_text(spec.read_text().replace("seed: 3", "seed: 4"))
    rebuilt = build_dataset(spec, tmp_path / "data")
    assert not rebuilt.reused and rebuilt.dataset.fingerprint != first.dataset.fingerprint


def test_failed_rebuild_keeps_the_previous_build(tmp_path: Path) -> None:
    data = tmp_path / "topics.csv"
    shutil.copy(DATA / "topics.csv", data)
    spec = write_spec(tmp_path, TOPICS.replace(f"{DATA}/topics.csv", str(data)))
    good = build_dataset(spec, tmp_path / "data").dataset
    data.write_text(data.read_text().replace(",sports,", ",sprots,", 1))
    with pytest.raises(DataError, match="label 'sprots' is not in labels"):
        build_dataset(spec, tmp_path / "data")
    assert open_dataset("topics", tmp_path / "data").fingerprint == good.fingerprint
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["topics"]


def test_disk_source_round_trip(tmp_path: Path) -> None:
    first = build(tmp_path, TOPICS).dataset
    spec = (f"name: again\ntask: topic\nsource: {{disk: {first.path}}}\n"
            "columns: {id: id, text: text, label: label, date: date, language: language}\n"
            "labels: [politics, sports, economy]\n")
    again = build_dataset(write_spec(tmp_path, spec, "again.yaml"), tmp_path / "data").dataset
    assert again.fingerprint == first.fingerprint


def test_articles_source_uses_file_names_as_ids(tmp_path: Path) -> None:
    spec = (f"name: arts\ntask: topic\nlanguage: detect\nsource: {{articles: {{path: {ARTICLES}/folder, "
            f"labels: {ARTICLES}/labels.csv}}}}\ncolumns: {{text: text, title: title, source: source, label: topic}}\n")
    frame = load_split(build(tmp_path, spec).dataset, "train")
    assert "fr_port.txt" in set(frame["id"])
    assert set(frame["language"]) <= {"fr", "en"} and len(set(frame["language"])) == 2


def test_open_dataset_errors_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no built dataset 'nope' here; build it with `bench data build"):
        open_dataset("nope", tmp_path)
    ds = build(tmp_path, TOPICS).dataset
    assert open_dataset(ds.path) == ds
    with pytest.raises(DataError, match=r"no split 'dev' in topics; splits are train, test"):
        load_split(ds, "dev")


def test_cli_build_prints_table_and_path_then_show_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(tmp_path, STANCES)
    assert main(["data", "build", str(spec), "--data", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == str(tmp_path / "data" / "stances")
    assert any("unrelated" in line for line in out) and any("test" in line for line in out)
    assert main(["data", "show", "stances", "--data", str(tmp_path / "data"), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["splits"]["test"]["n_rows"] == 6 and shown["task"] == "stance"
    assert main(["data", "show", str(tmp_path / "data" / "stances")]) == 0
    assert "disagree" in capsys.readouterr().out


def test_parquet_json_and_file_lists(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(DATA / "topics.csv", dtype=str)
    frame.iloc[:9].to_parquet(tmp_path / "a.parquet")
    frame.iloc[9:].to_json(tmp_path / "b.json", orient="records", force_ascii=False)
    frame.iloc[9:].to_csv(tmp_path / "c.csv", index=False)
    columns = "columns: {id: id, text: body, label: topic}\nlabels: [politics, sports, economy]\n"
    spec = (f"name: mixed\ntask: topic\nsource: {{files: {{train: {tmp_path}/a.parquet, test: {tmp_path}/b.json}}}}\n"
            + columns)
    ds = build(tmp_path, spec).dataset
    assert (len(load_split(ds, "train")), len(load_split(ds, "test"))) == (9, 9)
    listed = (f"name: listed\ntask: topic\nsource: {{files: {{train: [{tmp_path}/a.parquet, {tmp_path}/c.csv]}}}}\n"
              + columns)
    assert len(load_split(build(tmp_path, listed).dataset, "train")) == 18
    frame.iloc[9:, :3].to_csv(tmp_path / "d.csv", index=False)
    bad = listed.replace("c.csv", "d.csv")
    with pytest.raises(ConfigError, match=r"source\.files\.train: .*d\.csv has different columns from .*a\.parquet"):
        build(tmp_path, bad)
