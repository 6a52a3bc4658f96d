"""Raw article files -> records: the seed format, residue removal, front matter, sidecars, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.corpus.articles import parse_article, read_article, read_articles
from bench.corpus.language import detect_languages
from bench.core.errors import DataError

DATA = Path(__file__).resolve().parents[1] / "data" / "articles"
FOLDER = DATA / "folder"


@pytest.fixture
def seeds_root() -> Path:
    """The shared seed articles, found next to ``NEWSBENCH_DATA`` (``<shared>/datasets`` -> ``<shared>/seeds``)."""
    value = os.environ.get("NEWSBENCH_DATA")
    if not value:
        pytest.skip("NEWSBENCH_DATA is not set: the seed articles sit next to the public datasets")
    root = Path(value).resolve().parent / "seeds"
    if not root.is_dir() or not any(root.glob("*.txt")):
        pytest.skip(f"no seed articles in {root}")
    return root


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- the shared seed article ---------------------------------------------------------------

def test_seed_article_parses_to_title_outlet_french_and_clean_body(seeds_root: Path) -> None:
    path = sorted(seeds_root.glob("*.txt"))[0]
    art = read_article(path, path.name)
    assert art.title.startswith("La Russie et la Chine renforcent")
    assert art.source == "Baonghean.vn"
    assert detect_languages([art.text]) == ["fr"]
    assert "![" not in art.text and "Photo : AP |" not in art.text and "|" not in art.text
    # the caption (a sentence of its own) is gone; the lead now starts the text
    assert "Sergueï Lavrov. Photo" not in art.text
    assert not any(line.startswith("Le ministre russe des Affaires étrangères, Sergueï Lavrov")
                   for line in art.text.split("\n"))
    assert art.text.startswith("Le 1er décembre, le ministre russe")
    assert "(Baonghean.vn)" not in art.text
    assert art.text == art.text.strip() and "\n\n" not in art.text


def test_seed_folder_reads_as_a_frame(seeds_root: Path) -> None:
    frame = read_articles(seeds_root)
    assert list(frame.columns[:6]) == ["file", "title", "source", "date", "language", "text"]
    assert frame["file"].is_unique and (frame["source"] == "Baonghean.vn").any()


# --- parse_article ------------------------------------------------------------------------

def test_lead_outlet_is_cut_from_the_text_and_becomes_source() -> None:
    art = parse_article("Un titre\n(La Gazette du Lac) - Premier paragraphe.\nDeuxième.", "a.txt")
    assert (art.title, art.source, art.text) == ("Un titre", "La Gazette du Lac", "Premier paragraphe.\nDeuxième.")
    assert (art.date, art.language, dict(art.labels)) == (None, None, {})


def test_text_without_lead_has_no_source() -> None:
    art = parse_article("A title\nFirst paragraph (with a bracket) - and a dash.", "a.txt")
    assert art.source is None and art.text == "First paragraph (with a bracket) - and a dash."


def test_picture_residue_and_credits_go_but_sentences_about_photos_stay() -> None:
    art = read_article(FOLDER / "fr_port.txt", "fr_port.txt")
    lines = art.text.split("\n")
    assert lines[0].startswith("Le quai nord du port")
    assert not any("remorqueur" in line for line in lines)          # caption after the image
    assert not any("Crédit photo" in line or "Agence Brume" in line for line in lines)
    assert any(line.startswith("Les photos publiées mardi") for line in lines)   # a real sentence
    assert "« Nous avons perdu une saison entière », regrette Maëlle Tanguy, qui dirige une petite " \
           "société de manutention." in lines                               # inline credit removed
    assert lines[-1] == "La mairie promet un bilan chiffré avant l'été."
    assert len(lines) == 4


def test_markdown_image_with_alt_text_and_its_caption_go() -> None:
    art = read_article(FOLDER / "en_bridge.md", "en_bridge.md")
    assert "![" not in art.text and "dusk" not in art.text
    assert "Councillors said the photo: a rusty handrail" in art.text


def test_lines_that_only_look_like_credits_stay() -> None:
    body = ("Crédit : 5 milliards d'euros pour les PME\nPhotos of the flood, shared on Monday, went viral.\n"
            "She said the photo: a fake, had fooled no one.")
    assert parse_article("Titre\n" + body, "a.txt").text == body


def test_credit_variants_are_removed() -> None:
    body = ("Corps.\n![](a.jpg)\nUne légende sans crédit |\nSuite (Crédit : Studio Nord).\n"
            "Une légende. Crédit : Studio Nord |\nPhoto credit Jean Martin\nIllustration : Agence Hiver\nFin.")
    assert parse_article("Titre\n" + body, "a.txt").text == "Corps.\nSuite.\nFin."


def test_a_bar_without_picture_is_dropped_but_the_words_stay() -> None:
    art = parse_article("Title\nA table cell that lost its table |\nNext.", "a.txt")
    assert art.text == "A table cell that lost its table\nNext."


def test_front_matter_gives_metadata_and_labels_and_the_repeated_title_goes() -> None:
    art = read_article(FOLDER / "en_bridge.md", "en_bridge.md")
    assert art.title == "Council delays vote on the Marlow footbridge"
    assert (art.source, art.date, art.language) == ("Thames Valley Ledger", "2025-03-14", "en")
    assert dict(art.labels) == {"topic": "economy", "topics": ["economy", "energy_climate"]}
    assert art.text.startswith("The borough council postponed")


def test_front_matter_title_without_title_line() -> None:
    art = parse_article("---\ntitle: Solar farm approved\nstance: favor\n---\nThe board said yes.\n", "a.md")
    assert (art.title, art.text, dict(art.labels)) == ("Solar farm approved", "The board said yes.",
                                                        {"stance": "favor"})


def test_front_matter_source_wins_over_the_lead() -> None:
    art = parse_article("---\nsource: Wire One\n---\nTitle\n(Other Outlet) - Body.", "a.txt")
    assert art.source == "Wire One" and art.text == "Body."


def test_nfc_whitespace_and_invisible_characters_are_normalised() -> None:
    decomposed = "Cafe\u0301 crème"  # e + combining acute
    art = parse_article(f"  {decomposed}\u00a0 du\tjour \n\n Une\u202fphrase\u200b  longue.  \n\n\nFin.", "a.txt")
    assert art.title == "Café crème du jour"
    assert art.text == "Une phrase longue.\nFin."


def test_crlf_bom_and_cr_files_read_like_lf(tmp_path: Path) -> None:
    body = "Titre accentué\n(Écho du Val) - Première ligne.\n![]() |\nLégende. Photo : AFP |\nFin."
    expected = parse_article(body, "x.txt")
    for name, raw in {"crlf.txt": "\ufeff" + body.replace("\n", "\r\n"), "cr.txt": body.replace("\n", "\r")}.items():
        art = read_article(write(tmp_path / name, raw), name)
        assert (art.title, art.source, art.text) == (expected.title, expected.source, expected.text)
    assert expected.text == "Première ligne.\nFin."


@pytest.mark.parametrize(("content", "match"), [
    ("", r"a\.txt:1: the file is empty"),
    ("  \n\n \t\n", r"a\.txt:1: the file is empty"),
    ("---\ntopic: x\n---\n\n", r"a\.txt:4: title: no title"),
    ("---\ntopic: x\n", r"a\.txt:1: front matter: opened with '---' but never closed"),
    ("---\ntopic: [x\n---\nT\nB", r"a\.txt:\d+: front matter: invalid YAML"),
    ("---\n- a\n- b\n---\nT\nB", r"a\.txt:2: front matter: expected 'key: value' lines"),
    ("---\ntopic: {a: 1}\n---\nT\nB", r"a\.txt:2: topic: expected text or a list of text"),
    ("---\ntext: hi\n---\nT\nB", r"a\.txt:2: text: 'text' is set by the parser"),
    ("# \nbody", r"a\.txt:1: title: the title line is empty"),
])
def test_bad_article_content_is_a_located_data_error(content: str, match: str) -> None:
    with pytest.raises(DataError, match=match):
        parse_article(content, "a.txt")


def test_undecodable_file_names_file_line_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.txt", "Titre\nLigne deux\nÉté chaud\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin\.txt:3: not valid UTF-8 \(byte 0xc9\); re-save the file as UTF-8"):
        read_article(path, "latin.txt")


# --- read_articles ------------------------------------------------------------------------

def test_folder_is_read_recursively_sorted_with_front_matter_labels() -> None:
    frame = read_articles(FOLDER)
    assert list(frame["file"]) == ["briefs/fr_brief.txt", "en_bridge.md", "fr_port.txt"]
    assert list(frame.columns) == ["file", "title", "source", "date", "language", "text", "topic", "topics"]
    brief = frame.iloc[0]
    assert (brief["source"], brief["language"], brief["topic"]) == ("Ouest Dépêches", None, None)
    assert frame.iloc[1]["topics"] == ["economy", "energy_climate"]


def test_csv_sidecar_adds_label_columns_and_agrees_with_front_matter() -> None:
    frame = read_articles(FOLDER, DATA / "labels.csv")
    assert list(frame.columns) == ["file", "title", "source", "date", "language", "text", "topic", "topics",
                                   "stance", "note"]
    assert list(frame["topic"]) == ["economy"] * 3
    assert list(frame["stance"]) == [None] * 3
    assert frame.set_index("file").loc["en_bridge.md", "note"] == "budget, delay"


def test_jsonl_sidecar_fills_language_and_keeps_lists() -> None:
    frame = read_articles(FOLDER, DATA / "labels.jsonl").set_index("file")
    assert list(frame["language"]) == ["fr", "en", "fr"]
    assert frame.loc["fr_port.txt", "topics"] == ["economy", "technology"]


def test_several_sidecars_are_read_as_one(tmp_path: Path) -> None:
    write(tmp_path / "a" / "one.txt", "One\nBody one.")
    write(tmp_path / "a" / "two.txt", "Two\nBody two.")
    first = write(tmp_path / "l1.csv", "file,topic\none.txt,health\n")
    second = write(tmp_path / "l2.csv", "file,topic\ntwo.txt,defence\n")
    frame = read_articles(tmp_path / "a", [first, second])
    assert list(frame["topic"]) == ["health", "defence"]


def test_hidden_and_other_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "A\nBody.")
    write(tmp_path / ".hidden.txt", "")
    write(tmp_path / "notes.csv", "x,y\n")
    write(tmp_path / ".git" / "b.txt", "")
    assert list(read_articles(tmp_path)["file"]) == ["a.txt"]


def test_bad_files_in_a_folder_name_the_path(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", "Good\nBody.")
    write(tmp_path / "empty.md", "\n")
    with pytest.raises(DataError, match=r"empty\.md:1: the file is empty"):
        read_articles(tmp_path)


@pytest.mark.parametrize(("sidecar", "match"), [
    ("file,topic\none.txt,health\nthree.txt,economy\n", r"labels\.csv:3: file: 'three\.txt' is not an article file"),
    ("file,topic\none.txt,health\none.txt,economy\ntwo.txt,x\n", r"labels\.csv:3: file: 'one\.txt' already has a row"),
    ("file,topic\none.txt,health\n", r"two\.txt: labels: no row in the labels file for 'two\.txt'"),
    ("name,topic\none.txt,health\n", r"labels\.csv:1: file: the labels file needs a 'file' column"),
    ("file,topic\none.txt,health,extra\n", r"labels\.csv:2: 3 fields, the header has 2"),
    ("file,topic\none.txx,health\ntwo.txt,x\n", r"'one\.txx' is not an article file .*did you mean 'one\.txt'\?"),
    ("file,topic\n,health\n", r"labels\.csv:2: file: empty file name"),
    ("file,text\none.txt,x\n", r"labels\.csv:1: text: 'text' comes from the article files"),
    ("file,title\none.txt,Other\ntwo.txt,\n", r"labels\.csv:2: title: one\.txt: the labels file says 'Other' "
                                               r"but the article says 'One'"),
])
def test_sidecar_that_does_not_match_the_files_is_a_data_error(tmp_path: Path, sidecar: str, match: str) -> None:
    write(tmp_path / "a" / "one.txt", "One\nBody one.")
    write(tmp_path / "a" / "two.txt", "Two\nBody two.")
    with pytest.raises(DataError, match=match):
        read_articles(tmp_path / "a", write(tmp_path / "labels.csv", sidecar))


def test_jsonl_sidecar_errors_name_the_line(tmp_path: Path) -> None:
    write(tmp_path / "a" / "one.txt", "One\nBody one.")
    with pytest.raises(DataError, match=r"labels\.jsonl:2: invalid JSON"):
        read_articles(tmp_path / "a", write(tmp_path / "labels.jsonl", '{"file": "one.txt"}\n{oops\n'))
    with pytest.raises(DataError, match=r"labels\.parquet: labels: unsupported labels file type"):
        read_articles(tmp_path / "a", write(tmp_path / "labels.parquet", b"PAR1"))
    with pytest.raises(DataError, match=r"missing\.csv: labels: labels file not found"):
        read_articles(tmp_path / "a", tmp_path / "missing.csv")


def test_missing_or_empty_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere: articles: not a folder"):
        read_articles(tmp_path / "nowhere")
    write(tmp_path / "only.csv", "x\n")
    with pytest.raises(DataError, match=r"articles: no \*\.txt or \*\.md files in the folder"):
        read_articles(tmp_path)


def test_include_patterns_choose_the_article_files(tmp_path: Path) -> None:
    write(tmp_path / "README.md", "About this folder\nNot an article.")
    write(tmp_path / "fr_001.txt", "Un\nCorps.")
    write(tmp_path / "en_001.txt", "One\nBody.")
    assert list(read_articles(tmp_path, include=["fr_*.txt", "en_*.txt"])["file"]) == ["en_001.txt", "fr_001.txt"]
    assert list(read_articles(tmp_path)["file"]) == ["README.md", "en_001.txt", "fr_001.txt"]
