"""The one atomic writer and the one folder swap (``bench.core.files``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.core.files import swap_folder, write_atomic, write_bytes, write_text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_replaces_whole_file_with_plain_permissions(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.txt"
    write_text(path, "first\n")
    write_bytes(path, "zweite Zeile ü\n".encode())
    assert path.read_bytes() == "zweite Zeile ü\n".encode()
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    write_bytes(path, b"old")

    def broken(handle: object) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomic(path, broken)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_swap_folder_replaces_a_previous_folder(tmp_path: Path) -> None:
    final = tmp_path / "plots"
    for content in (b"one", b"two"):
        tmp = tmp_path / ".plots.tmp"
        tmp.mkdir()
        write_bytes(tmp / "a.png", content)
        swap_folder(tmp, final)
    assert (final / "a.png").read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["plots"]


def test_failed_swap_puts_the_previous_folder_back(tmp_path: Path) -> None:
    final = tmp_path / "data"
    final.mkdir()
    write_bytes(final / "stats.json", b"{}")
    with pytest.raises(FileNotFoundError, match="missing"):
        swap_folder(tmp_path / "missing", final)
    assert (final / "stats.json").read_bytes() == b"{}"
    assert [p.name for p in tmp_path.iterdir()] == ["data"]
