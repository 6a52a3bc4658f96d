"""Hostile YAML: every YAML newsbench reads is refused in one line, fast, through the real CLI.

The catalogue is one table, ``CASES``. A case is a YAML text (or a special file such as a FIFO)
and the problem it must be refused with; it runs through each entry point in its ``via``:

* ``config``: ``bench validate FILE`` (a run config);
* ``spec``: ``bench data build FILE --out OUT`` (a dataset spec), which must write nothing;
* ``set``: ``bench validate CONFIG --set name=TEXT`` (a command-line value);
* ``front_matter``: ``bench data build`` of an articles folder whose article starts with
  ``---`` TEXT ``---``;
* ``snapshot``: ``bench compare RUN`` where the run folder's ``config.yaml`` is TEXT.

Each command is a subprocess with a timeout and an address-space limit, so that a regression
(a hang, an alias bomb, reading /dev/zero) fails the test instead of stalling the suite or the
machine. Each must exit 2 with exactly one stderr line, ``bench: error: <file>:<line>: ...``,
naming the file (and line) and matching the case's pattern, and no traceback.

To add a hostile input, add a ``Case``: ``line`` is the line of TEXT the message must name
(front matter adds one for the opening ``---``), ``None`` when the message names no line;
``at`` gives the line in the file for an entry point where it differs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from bench.core.errors import ConfigError, DataError
from bench.corpus.articles import parse_article
from bench.results.store import RunDir
from tests.run_factory import gold_labels, simulated_job, write_run

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 60  # seconds per command; each takes well under one
MEMORY = 4 << 30  # address-space limit of each command: a bomb must not take the machine down

FILES = ("config", "spec")
TEXT = ("config", "spec", "set", "front_matter")
EVERYWHERE = (*TEXT, "snapshot")


@dataclass(frozen=True)
class Case:
    """One hostile input: ``text`` (or ``make`` building the file) and the refusal expected."""

    name: str
    text: str | bytes | None
    error: str
    line: int | None = 1
    via: tuple[str, ...] = TEXT
    make: Callable[[Path], None] | None = None
    at: Mapping[str, int | None] = field(default_factory=dict)  # the file line, where an entry point differs


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + f"\nname: *a{levels - 1}\n"


def _fifo(path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(path)


def _link_to(target: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        if not os.path.exists(target):
            pytest.skip(f"{target} does not exist here")
        path.symlink_to(target)
    return make


def _loop(path: Path) -> None:
    path.symlink_to(path)


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere.yaml")


def _directory(path: Path) -> None:
    path.mkdir()


def _huge(path: Path) -> None:
    path.write_bytes(b"name: x\n" + b"#" * (2 << 20) + b"\n")


def _sparse(path: Path) -> None:
    with open(path, "wb") as handle:  # 64 GiB that take no disk space: refused by its size alone
        handle.truncate(64 << 30)


def _nothing(path: Path) -> None:
    pass


EMPTY = r"missing required key 'name'|the spec is empty"

CASES = [
    # aliases and anchors: refused while composing, before anything is expanded
    Case("alias_bomb", _bomb(), r"YAML anchor &a0 is not supported", via=EVERYWHERE),
    Case("alias_bomb_one_line", "name: [&a [x, x, x], &b [*a, *a, *a], &c [*b, *b, *b], *c]\n",
         r"name\[0\]: YAML anchor &a is not supported"),
    Case("recursive_alias", "a: &a [*a]\n", r"a: YAML anchor &a is not supported", via=EVERYWHERE),
    Case("recursive_mapping", "a: &a {b: *a}\n", r"YAML anchor &a is not supported"),
    Case("alias_without_anchor", "name: *ghost\n", r"name: YAML alias \*ghost is not supported"),
    Case("anchor_without_alias", "name: x\nseeds: &s [1]\n", r"seeds: YAML anchor &s is not supported", 2),
    Case("merge_key", "name: x\nm:\n  <<: {a: 1}\n", r"m: YAML merge keys \(<<\) are not supported", 3),
    # tags: only the standard scalar, seq and map ones on the matching kind of node
    Case("python_name", "name: !!python/name:os.system\n", r"name: tag !!python/name:os\.system is not allowed",
         via=EVERYWHERE),
    Case("python_object_apply", "name: !!python/object/apply:os.system [echo pwned]\n",
         r"tag !!python/object/apply:os\.system is not allowed"),
    Case("python_object_new", "name: x\nm: !!python/object/new:subprocess.Popen {args: [id]}\n",
         r"m: tag !!python/object/new:subprocess\.Popen is not allowed", 2),
    Case("python_module", "name: !!python/module:os\n", r"tag !!python/module:os is not allowed"),
    Case("custom_tag", "name: !env HOME\n", r"name: tag !env is not allowed"),
    Case("custom_tag_on_mapping", "name: x\ninc: !include {file: other.yaml}\n", r"inc: tag !include is not allowed", 2),
    Case("verbatim_tag", "name: !<tag:example.com,2026:x> y\n", r"tag tag:example\.com,2026:x is not allowed"),
    Case("tag_directive", "%TAG !e! tag:example.com,2026:\n---\nname: !e!x y\n",
         r"tag tag:example\.com,2026:x is not allowed", 3, via=("config", "spec", "set")),
    Case("binary_tag", "name: !!binary aGVsbG8=\n", r"tag !!binary is not allowed"),
    Case("set_tag", "name: !!set {a: null}\n", r"tag !!set is not allowed"),
    Case("omap_tag", "name: !!omap [a: 1]\n", r"tag !!omap is not allowed"),
    Case("seq_tag_on_scalar", "name: !!seq abc\n", r"tag !!seq is not allowed"),
    Case("str_tag_on_list", "name: !!str [a]\n", r"tag !!str is not allowed"),
    # scalars that cannot be built
    Case("explicit_int_not_a_number", "name: !!int abc\n", r"name: cannot read 'abc' as !!int"),
    Case("explicit_bool_not_a_bool", "name: !!bool maybe\n", r"cannot read 'maybe' as !!bool"),
    Case("impossible_date", "name: x\ndate: 2023-02-30\n", r"date: cannot read '2023-02-30' as !!timestamp", 2),
    Case("int_over_4300_digits", "name: " + "1" * 5000 + "\n", r"a number written with 5000 characters \(limit 100\)"),
    Case("long_base60_int", "name: 1" + ":59" * 2000 + "\n", r"a number written with 6001 characters"),
    # size and depth
    Case("deep_flow", "name: " + "[" * 10_000 + "]" * 10_000 + "\n", r"nested deeper than 32 levels",
         via=EVERYWHERE),
    Case("deep_flow_unclosed", "name: " + "{a: " * 20_000 + "\n", r"nested deeper than 32 levels"),
    Case("deep_block", "".join(" " * i + f"k{i}:\n" for i in range(40)) + " " * 40 + "x\n",
         r"k0\.k1\.k2: nested deeper than 32 levels", 33),
    Case("deep_block_list", "- " * 40 + "x\n", r"nested deeper than 32 levels"),
    Case("too_many_values", "name: x\nseeds:\n" + "- 1\n" * 20_000, r"seeds\[9995\]: more than 10000 values", 9998),
    Case("too_many_values_flow", "name: [" + "0, " * 20_000 + "0]\n", r"more than 10000 values"),
    Case("long_key", "k" * 2000 + ": x\n", r"invalid YAML: mapping values are not allowed here"),
    # characters and encodings
    Case("nul_byte", "name: a\x00b\n", r"invalid YAML: character U\+0000 is not allowed", via=FILES),
    Case("control_character", "name: x\nother: \x07\n", r"invalid YAML: character U\+0007 is not allowed", 2,
         via=FILES + ("set",)),
    Case("latin1", b"name: x\ndesc: caf\xe9\n", r"not valid UTF-8; save the file as UTF-8", 2, via=FILES),
    Case("utf16", "name: x\n".encode("utf-16"), r"not valid UTF-8", via=FILES),
    Case("bom_then_typo", "\ufeffnmae: x\n".encode(), r"unknown key 'nmae'; did you mean 'name'\?", via=FILES),
    Case("tab_indent", "name: x\n\tseeds: [1]\n", r"invalid YAML: found character '\\t'", 2),
    # structure
    Case("duplicate_key", "name: a\nname: b\n", r"name: duplicate key 'name' \(first on line \d\)", 2),
    Case("duplicate_nested_key", "name: x\nm:\n  a: 1\n  a: 2\n", r"m\.a: duplicate key 'a'", 4),
    Case("two_documents", "name: a\n---\nname: b\n", r"invalid YAML: but found another document", 2,
         via=("config", "spec", "set")),
    Case("key_with_line_break", '"a\\nb": !!python/name:x\n', r"\['a\\nb'\]: tag !!python/name:x is not allowed"),
    Case("duplicate_key_with_line_break", '"a\\nb": 1\n"a\\nb": 2\n', r"\['a\\nb'\]: duplicate key", 2),
    Case("complex_key", "? [a, b]\n: 1\n", r"a mapping key must be a plain scalar"),
    Case("unclosed_quote", 'name: "abc\n', r"invalid YAML: found unexpected end of stream", 2,
         at={"front_matter": 2}),  # a front matter block ends without a line break
    Case("scalar_document", "just some text\n", r"expected a mapping|expected 'key: value' lines",
         via=("config", "spec", "front_matter")),
    Case("list_document", "- a\n- b\n", r"expected a (mapping|string)|expected 'key: value' lines",
         at={"set": None}),
    Case("empty_file", "", EMPTY, None, via=FILES),
    Case("only_a_comment", "# nothing here\n", EMPTY, None, via=FILES),
    Case("only_document_markers", "---\n...\n", EMPTY, 2, via=FILES),  # the null document is on line 2
    # files that are not small regular files
    Case("huge_file", None, r"is over the 1048576-byte \(1 MiB\) limit", None, ("config", "spec", "snapshot"), _huge),
    Case("sparse_64_gib_file", None, r"is over the 1048576-byte \(1 MiB\) limit", None, FILES, _sparse),
    Case("fifo", None, r"is a named pipe \(FIFO\), not a regular YAML file", None,
         ("config", "spec", "snapshot"), _fifo),
    Case("symlink_to_dev_zero", None, r"is a character device \(it links to /dev/zero\)", None,
         ("config", "spec", "snapshot"), _link_to("/dev/zero")),
    Case("symlink_to_dev_urandom", None, r"is a character device", None, FILES, _link_to("/dev/urandom")),
    Case("directory", None, r"is a directory, not a regular YAML file", None, ("config", "spec", "snapshot"),
         _directory),
    Case("symlink_loop", None, r"cannot be opened \(Too many levels of symbolic links\)", None, FILES, _loop),
    Case("dangling_symlink", None, r"file not found; check the path", None, FILES, _dangling),
    Case("missing_file", None, r"file not found; check the path", None, FILES, _nothing),
]

PARAMS = [pytest.param(case, via, id=f"{case.name}-{via}") for case in CASES for via in case.via]


def test_the_catalogue_is_large_and_every_entry_point_is_used() -> None:
    assert len(CASES) >= 25 and len({c.name for c in CASES}) == len(CASES)
    assert {via for c in CASES for via in c.via} == set(EVERYWHERE)
    assert len(PARAMS) >= 100


def _limit_memory() -> None:  # runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _bench(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "bench", *args], check=False, cwd=cwd, env=env, capture_output=True,
                          encoding="utf-8", errors="replace", timeout=TIMEOUT,
                          preexec_fn=_limit_memory if sys.platform.startswith("linux") else None)


def _write(path: Path, case: Case) -> None:
    if case.make is not None:
        case.make(path)
    elif isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text or "", encoding="utf-8")


ARTICLES_SPEC = """\
name: hostile
task: topic
source:
  articles: {path: arts}
columns: {id: file, text: text, label: topic}
"""


def _expected_line(case: Case, via: str) -> int | None:
    if via in case.at:
        return case.at[via]
    if case.line is None:
        return None
    return case.line + 1 if via == "front_matter" else case.line  # after the opening ---


def _run_case(case: Case, via: str, tmp: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run the case through one entry point: the result and the file the message must name."""
    if via == "config":
        path = tmp / "config.yaml"
        _write(path, case)
        return _bench("validate", str(path), cwd=tmp), str(path)
    if via == "spec":
        path = tmp / "spec.yaml"
        _write(path, case)
        result = _bench("data", "build", str(path), "--data", str(tmp / "out"), cwd=tmp)
        out = tmp / "out"
        assert not out.exists() or not any(out.iterdir()), "a refused spec left files behind"
        return result, str(path)
    if via == "set":
        assert isinstance(case.text, str)
        (tmp / "config.yaml").write_text("name: demo\n", encoding="utf-8")
        return _bench("validate", "config.yaml", "--set", f"name={case.text}", cwd=tmp), "--set"
    if via == "front_matter":
        assert isinstance(case.text, str)
        (tmp / "spec.yaml").write_text(ARTICLES_SPEC, encoding="utf-8")
        (tmp / "arts").mkdir()
        article = tmp / "arts" / "a.txt"
        article.write_text(f"---\n{case.text}---\nA title\nA body.\n", encoding="utf-8")
        result = _bench("data", "build", "spec.yaml", "--data", str(tmp / "out"), cwd=tmp)
        return result, "arts/a.txt"
    if via == "snapshot":
        rng = np.random.default_rng(0)
        gold = gold_labels(rng, 20)
        run = write_run(tmp / "runs", "hostile", [simulated_job(rng, dataset="toy", model="logreg", seed=0,
                                                                gold=gold, accuracy=0.8)])
        path = run / "config.yaml"
        path.unlink()
        _write(path, case)
        return _bench("compare", str(run), "--samples", "10", cwd=tmp), str(path)
    raise AssertionError(f"unknown entry point {via!r}")


@pytest.mark.parametrize(("case", "via"), PARAMS)
def test_hostile_yaml_exits_2_with_one_line(case: Case, via: str, tmp_path: Path) -> None:
    result, file = _run_case(case, via, tmp_path)
    line = _expected_line(case, via)
    err = result.stderr
    assert "Traceback" not in err, err[-2000:]
    assert result.returncode == 2, (result.returncode, err[-2000:])
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err[-2000:]
    where = f"bench: error: {file}:{line}: " if line is not None else f"bench: error: {file}: "
    assert lines[0].startswith(where), f"{lines[0]!r} does not start with {where!r}"
    assert re.search(case.error, lines[0]), f"{lines[0]!r} does not match {case.error!r}"


# --- the same guarantees, in process (inputs small enough that a regression cannot hang) -----

def test_front_matter_is_data_not_a_config() -> None:
    """No ``${VAR}`` expansion in an article; duplicate keys and tags are errors at the article's line."""
    art = parse_article("---\ntopic: ${HOME}\n---\nTitle\nBody.\n", "a.txt")
    assert art.labels["topic"] == "${HOME}"
    with pytest.raises(DataError, match=r"^a\.txt:3: topic: duplicate key 'topic' \(first on line 2\)"):
        parse_article("---\ntopic: x\ntopic: y\n---\nTitle\nBody.\n", "a.txt")
    with pytest.raises(DataError, match=r"^a\.txt:2: topic: tag !!python/name:os\.system is not allowed"):
        parse_article("---\ntopic: !!python/name:os.system\n---\nTitle\nBody.\n", "a.txt")


def test_run_snapshot_is_read_with_the_strict_loader(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("name: demo\nmodels: &m [a]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.yaml:2: models: YAML anchor &m is not supported"):
        _ = RunDir(tmp_path).config
    (tmp_path / "config.yaml").write_text("name: demo\nnote: ${HOME}\n", encoding="utf-8")
    assert RunDir(tmp_path).config == {"name": "demo", "note": "${HOME}"}
