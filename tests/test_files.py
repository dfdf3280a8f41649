"""Atomic writes: a reader sees the old file or the new one, and a dead writer's leftovers go away."""

import os
import subprocess
import sys
import time

import pytest

from hyp.faults import InjectedFault
from hyp.files import STALE_AFTER_S, write_atomic


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
