"""Hostile article folders: links out of the folder, special files, oversized and broken files.

A dataset must hold what its folder holds: nothing outside the folder is read (a link to
``/etc/passwd`` never reaches a dataset, and so never a report), and nothing blocks or fills
memory (a FIFO, ``/dev/zero``). Each case is refused with one line naming the file, or builds.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.corpus.folder import MAX_ARTICLE_BYTES
from tests.hostile.harness import bench, bench_process, check, files_of

ARTICLE = "Title of piece {n}\n(Wire) - A first paragraph about {topic}.\nA second paragraph.\n"
SPEC = """name: wire
task: topic
columns: {{id: file, text: [title, text], label: topic}}
{labels}source:
  articles: {{path: articles{sidecar}}}
"""


def _folder(root: Path, n: int = 8) -> Path:
    folder = root / "articles"
    folder.mkdir()
    for i in range(n):
        topic = "economy" if i % 2 else "sport"
        (folder / f"a{i}.txt").write_text(f"---\ntopic: {topic}\n---\n" + ARTICLE.format(n=i, topic=topic))
    return folder


def _spec(root: Path, sidecar: str = "") -> Path:
    spec = root / "wire.yaml"
    spec.write_text(SPEC.format(labels="", sidecar=f", labels: {sidecar}" if sidecar else ""), encoding="utf-8")
    return spec


def _add(make: Callable[[Path, Path], None]) -> Callable[[Path], Path]:
    """A case: the folder of 8 good articles, then ``make(folder, root)``."""
    def setup(root: Path) -> Path:
        make(_folder(root), root)
        return _spec(root)
    return setup


def _sidecar(make: Callable[[Path], None]) -> Callable[[Path], Path]:
    def setup(root: Path) -> Path:
        _folder(root)
        make(root / "labels.csv")
        return _spec(root, "labels.csv")
    return setup


def _outside(root: Path) -> Path:
    secret = root / "secret.txt"
    secret.write_text("Private title\nroot:x:0:0:a password file line\n")
    return secret


CASES: dict[str, Callable[[Path], Path]] = {
    "a symlink to a file outside the folder": _add(lambda f, r: (f / "leak.txt").symlink_to(_outside(r))),
    "a symlink to /etc/passwd": _add(lambda f, r: (f / "passwd.txt").symlink_to("/etc/passwd")),
    "a symlink to /dev/zero": _add(lambda f, r: (f / "zero.txt").symlink_to("/dev/zero")),
    "a symlink to /dev/null": _add(lambda f, r: (f / "null.txt").symlink_to("/dev/null")),
    "a relative symlink climbing out": _add(lambda f, r: (f / "up.txt").symlink_to(Path("..") / _outside(r).name)),
    "a FIFO": _add(lambda f, r: os.mkfifo(f / "pipe.txt")),
    "a FIFO in a sub-folder": _add(lambda f, r: ((f / "sub").mkdir(), os.mkfifo(f / "sub" / "pipe.md"))),
    "a symlink loop": _add(lambda f, r: (f / "loop.txt").symlink_to("loop.txt")),
    "a broken symlink": _add(lambda f, r: (f / "gone.txt").symlink_to("missing.txt")),
    "a folder named like an article": _add(lambda f, r: (f / "folder.txt").mkdir()),
    "a sub-folder linked from outside": _add(lambda f, r: ((r / "elsewhere").mkdir(),
                                                           (r / "elsewhere" / "x.txt").write_text(ARTICLE),
                                                           (f / "linked").symlink_to(r / "elsewhere"))),
    "a symlink to the folder itself": _add(lambda f, r: (f / "self").symlink_to(f)),
    "a file over the size limit (sparse)": _add(lambda f, r: ((f / "huge.txt").touch(),
                                                              os.truncate(f / "huge.txt", MAX_ARTICLE_BYTES + 1))),
    "an empty article": _add(lambda f, r: (f / "empty.txt").write_text("")),
    "an article of NUL bytes": _add(lambda f, r: (f / "nul.txt").write_bytes(b"\0" * 1000)),
    "latin-1 bytes": _add(lambda f, r: (f / "latin.txt").write_bytes("Caf\xe9 news\nBody\n".encode("latin-1"))),
    "front matter never closed": _add(lambda f, r: (f / "open.txt").write_text("---\ntopic: x\nTitle\n")),
    "front matter a list": _add(lambda f, r: (f / "list.txt").write_text("---\n- 1\n- 2\n---\nTitle\nBody\n")),
    "front matter alias bomb": _add(lambda f, r: (f / "bomb.txt").write_text(
        "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n---\nTitle\nBody\n")),
    "front matter recursive alias": _add(lambda f, r: (f / "rec.txt").write_text("---\na: &a [*a]\n---\nTitle\nBody\n")),
    "front matter python tag": _add(lambda f, r: (f / "tag.txt").write_text(
        "---\ntopic: !!python/name:os.system\n---\nTitle\nBody\n")),
    "a symlink inside the folder (read)": _add(lambda f, r: (f / "again.txt").symlink_to(f / "a0.txt")),
    "sidecar a FIFO": _sidecar(lambda p: os.mkfifo(p)),
    "sidecar a folder": _sidecar(lambda p: p.mkdir()),
    "sidecar a symlink to /dev/zero": _sidecar(lambda p: p.symlink_to("/dev/zero")),
    "sidecar binary garbage": _sidecar(lambda p: p.write_bytes(bytes(range(256)))),
    "sidecar without a file column": _sidecar(lambda p: p.write_text("name,topic\na0.txt,sport\n")),
    "articles path is a file": lambda root: ((root / "articles").write_text("x"), _spec(root))[1],
    "articles path is a FIFO": lambda root: (os.mkfifo(root / "articles"), _spec(root))[1],
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_article_folder(tmp_path: Path, case: str) -> None:
    spec = CASES[case](tmp_path)
    before = files_of(tmp_path)
    outcome = bench(["data", "build", spec, "--data", tmp_path / "data"])
    check(outcome, before, tmp_path)
    built = tmp_path / "data" / "wire"
    if outcome.code == 0:  # nothing from outside the folder is in the dataset
        data = b"".join(p.read_bytes() for p in built.rglob("*.arrow"))
        assert b"password" not in data and b"root:x:0" not in data


@pytest.mark.parametrize("target", ["leak", "passwd", "zero"])
def test_a_link_out_of_the_folder_is_refused_naming_it(tmp_path: Path, target: str) -> None:
    spec = CASES[{"leak": "a symlink to a file outside the folder", "passwd": "a symlink to /etc/passwd",
                  "zero": "a symlink to /dev/zero"}[target]](tmp_path)
    outcome = bench(["data", "build", spec, "--data", tmp_path / "data"])
    assert outcome.code == 2 and f"{target}.txt" in outcome.err and "outside the articles folder" in outcome.err
    assert not (tmp_path / "data" / "wire").exists()


def test_a_fifo_is_refused_without_blocking_in_a_fresh_process(tmp_path: Path) -> None:
    spec = CASES["a FIFO"](tmp_path)
    outcome = bench_process(["data", "build", spec, "--data", tmp_path / "data"])
    assert outcome.code == 2 and "pipe.txt" in outcome.err and "not a regular file" in outcome.err
    assert len(outcome.err_lines) == 1


def test_links_inside_the_folder_are_read_and_linked_folders_are_not_followed(tmp_path: Path) -> None:
    CASES["a sub-folder linked from outside"](tmp_path)
    (tmp_path / "articles" / "again.txt").symlink_to(tmp_path / "articles" / "a0.txt")
    outcome = bench(["data", "build", tmp_path / "wire.yaml", "--data", tmp_path / "data"])
    assert outcome.code == 0, outcome.err
    from bench.corpus import load_split, open_dataset

    frame = load_split(open_dataset("wire", tmp_path / "data"), "train")
    assert sorted(frame["id"]) == sorted([f"a{i}.txt" for i in range(8)] + ["again.txt"])


@pytest.mark.parametrize("case", ["front matter alias bomb", "front matter recursive alias"])
def test_aliases_in_front_matter_are_refused(tmp_path: Path, case: str) -> None:
    outcome = bench(["data", "build", CASES[case](tmp_path), "--data", tmp_path / "data"])
    assert outcome.code == 2 and "anchors and aliases are refused" in outcome.err
