"""Atomic writes: a reader sees the old file or the new one, and a dead writer's leftovers go away."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hyp.errors import BadInput
from hyp.faults import InjectedFault
from hyp.files import STALE_AFTER_S, output_problem, read_cache, read_input, write_atomic, write_cache


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "index.json"
    write_atomic(target, '{"old": true}')
    monkeypatch.setenv("HYP_FAULT", "write:raise")
    with pytest.raises(InjectedFault):
        write_atomic(target, '{"new": true}')
    assert target.read_text() == '{"old": true}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]


def test_a_killed_writer_leaves_only_its_temporary_which_a_later_write_removes(tmp_path):
    target = tmp_path / "H004.md"
    write_atomic(target, "# old report")
    code = f"from hyp.files import write_atomic; write_atomic({str(target)!r}, '# new report')"
    killed = subprocess.run([sys.executable, "-c", code], env={**os.environ, "HYP_FAULT": "write"})
    assert killed.returncode == -9
    [left] = tmp_path.glob(".H004.md.*.tmp")
    assert target.read_text() == "# old report" and left.read_text() == "# new report"

    other = tmp_path / ".other.md.abc.tmp"  # another file's temporary is never touched
    other.write_text("x")
    write_atomic(target, "# newer report")
    assert left.exists(), "a recent temporary may belong to a writer still at work"
    long_ago = time.time() - STALE_AFTER_S - 5
    for p in (left, other):
        os.utime(p, (long_ago, long_ago))
    write_atomic(target, "# newest report")
    assert not left.exists() and other.exists() and target.read_text() == "# newest report"


# --- issue 17: modes, where hyp may write, what it may read ------------------------------------------


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_written_files_get_the_mode_the_umask_gives_not_0600(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        write_atomic(tmp_path / "H004.md", "# report")
        write_atomic(tmp_path / "H004.md", "# again")  # a replaced file too
    finally:
        os.umask(old)
    assert (tmp_path / "H004.md").stat().st_mode & 0o777 == mode


def test_nothing_is_written_over_a_device_a_fifo_a_directory_or_a_system_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # Never written to, even to test: a regression would replace the machine's /dev/null.
    assert "system file" in output_problem(Path("/dev/null")) and "system file" in output_problem(Path("/dev/full"))
    for target, why in [(Path("/proc/version"), "system file"), (fifo, "named pipe"), (tmp_path, "directory")]:
        with pytest.raises(BadInput, match=why):
            write_atomic(target, "x")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    if os.geteuid() == 0:  # a device node of our own (only root can make one)
        device = tmp_path / "null"
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        with pytest.raises(BadInput, match="device"):
            write_atomic(device, "x")
        assert stat.S_ISCHR(device.stat().st_mode)
    link = tmp_path / "link.md"
    link.symlink_to(fifo)  # a symlink is judged by what it points to
    with pytest.raises(BadInput, match="named pipe"):
        write_atomic(link, "x")


def test_a_lab_protects_its_own_files_from_outputs(tmp_path):
    lab_dir = tmp_path / "lab"
    (lab_dir / "hypotheses").mkdir(parents=True)
    assert output_problem(tmp_path / "out.md", [lab_dir / "hypotheses"]) is None
    assert "lab's own" in output_problem(lab_dir / "hypotheses" / "H004.yaml", [lab_dir / "hypotheses"])
    assert "lab's own" in output_problem(lab_dir / "data.json", [lab_dir / "data.json"])


def test_inputs_are_regular_files_of_a_sane_size_and_a_fifo_never_hangs(tmp_path):
    fifo = tmp_path / "answers.json"
    os.mkfifo(fifo)  # nobody writes to it: a plain read would wait forever
    started = time.monotonic()
    with pytest.raises(BadInput, match="named pipe"):
        read_input(fifo)
    with pytest.raises(BadInput, match="device"):
        read_input(Path("/dev/zero"))  # endless: never read into memory
    with pytest.raises(BadInput, match="directory"):
        read_input(tmp_path)
    with pytest.raises(BadInput, match="no such file"):
        read_input(tmp_path / "missing.csv")
    assert time.monotonic() - started < 5
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(BadInput, match="MB"):
        read_input(big, limit=1000)
    assert read_input(big) == b"x" * 2000


@pytest.mark.parametrize("text", ["null", "[]", '"x"', "7", "{", ""])
def test_a_cache_of_the_wrong_shape_reads_as_absent(tmp_path, text):
    (tmp_path / "index.json").write_text(text)
    assert read_cache(tmp_path / "index.json") == {}


def test_a_cache_that_cannot_be_written_is_not_kept_and_says_so(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("hyp.files.tempfile.mkstemp", refuse)
    assert write_cache(tmp_path / "index.json", "{}") is False
    assert not (tmp_path / "index.json").exists()
