"""Golden bad dataset specs: each exits 2 with one documented line and writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.cli import main

BAD = sorted((Path(__file__).parents[1] / "configs" / "bad_datasets").glob("*.yaml"))


def test_there_are_at_least_20_bad_inputs() -> None:
    assert len(BAD) >= 20


@pytest.mark.parametrize("spec", BAD, ids=lambda p: p.stem)
def test_bad_spec_exits_2_with_one_line_and_no_folder(spec: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSBENCH_TEST_UNSET_VAR", raising=False)
    expected = spec.read_text(encoding="utf-8").splitlines()[0].removeprefix("# error: ")
    out = tmp_path / "data"
    code = main(["data", "build", str(spec), "--data", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("bench: error: ")
    assert re.search(expected, lines[0]), f"{lines[0]!r} does not match {expected!r}"
    assert not out.exists() or not any(out.iterdir()), "a failed build left files behind"
