"""gateway.cli.output: output files are written whole, through a temporary beside them, or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.cli.errors import UsageError
from gateway.cli.output import replacing, write_text


def test_write_text_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "record.json"
    target.write_text("old")
    write_text(str(target), "new\n")
    assert target.read_text() == "new\n"
    assert [path.name for path in tmp_path.iterdir()] == ["record.json"]


def test_the_file_gets_the_usual_permissions_not_a_private_temporary_mode(tmp_path: Path) -> None:
    plain, written = tmp_path / "plain", tmp_path / "written"
    plain.write_text("")
    write_text(str(written), "")
    assert written.stat().st_mode == plain.stat().st_mode


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, ValueError])
def test_an_interrupted_write_leaves_the_old_file_whole_and_no_temporary(
    tmp_path: Path, interruption: type[BaseException]
) -> None:
    target = tmp_path / "chart.png"
    target.write_bytes(b"the old chart")
    with pytest.raises(interruption), replacing(str(target)) as temporary:
        assert temporary.parent == tmp_path and temporary.suffix == ".png"
        temporary.write_bytes(b"half a ch")
        raise interruption
    assert target.read_bytes() == b"the old chart"
    assert [path.name for path in tmp_path.iterdir()] == ["chart.png"]


def test_a_directory_that_went_away_is_one_line(tmp_path: Path) -> None:
    gone = tmp_path / "gone" / "record.json"
    with pytest.raises(UsageError) as error:
        write_text(str(gone), "{}")
    assert str(error.value) == f"gw467: error: cannot write {gone}: No such file or directory"


def test_a_link_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_text("old")
    link.symlink_to(real)
    write_text(str(link), "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_a_pipe_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_text(str(fifo), "through the pipe\n")
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [path.name for path in tmp_path.iterdir()] == ["fifo"]


def test_a_device_is_written_in_place_and_its_error_is_one_line() -> None:
    with pytest.raises(UsageError) as error:
        write_text("/dev/full", "{}")
    assert str(error.value) == "gw467: error: cannot write /dev/full: No space left on device"
    assert stat.S_ISCHR(Path("/dev/full").stat().st_mode)
