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


# Issue 17 (audit): a cache is only a shortcut, so whatever sits where it goes never stops a command.
DEEP_JSON = "[" * 1000 + "]" * 1000


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_fifo_or_directory_where_a_cache_goes_is_no_cache_and_is_left_alone(tmp_path, kind):
    cache = tmp_path / "index.json"
    if kind == "fifo":
        os.mkfifo(cache)
    else:
        (cache / "inside").mkdir(parents=True)
    assert read_cache(cache) == {}  # at once: a FIFO nobody writes to is never opened to wait on
    assert write_cache(cache, '{"version": 3}') is False
    assert (stat.S_ISFIFO if kind == "fifo" else stat.S_ISDIR)(os.lstat(cache).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.json"]  # no temporary left either


def test_a_cache_nested_1000_deep_is_no_cache(tmp_path):
    cache = tmp_path / "parsed.json"
    cache.write_text(DEEP_JSON)
    assert read_cache(cache) == {}


@pytest.mark.parametrize("depth", [101, 1000, 100_000])
def test_json_nested_too_deep_is_bad_input_naming_the_file(tmp_path, depth):
    from hyp.files import MAX_JSON_DEPTH, parse_json, read_json

    path = tmp_path / "answers.json"
    path.write_text("[" * depth + "]" * depth)
    with pytest.raises(BadInput, match=rf"answers.json: nested more than {MAX_JSON_DEPTH} levels deep"):
        read_json(path)
    with pytest.raises(BadInput, match="r.json: nested"):
        parse_json('{"a": ' * depth + "1" + "}" * depth, "r.json")
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, "r.json") is not None  # at the limit: fine


def test_a_failed_write_names_the_file_not_the_temporary(tmp_path, monkeypatch):
    """A full disk while writing: the error (mapped to one line, exit 2, by the CLI) names the target."""
    import errno

    target = tmp_path / "H004.md"

    def full(*args, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as e:
        write_atomic(target, "# report")
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


# --- issue 17: a replaced file keeps its mode; files a library writes private get the umask's -----------------


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o444], ids=oct)
def test_a_replaced_file_keeps_its_mode(tmp_path, mode):
    target = tmp_path / "r.md"
    write_atomic(target, "# report")
    target.chmod(mode)
    old = os.umask(0o022)
    try:
        write_atomic(target, "# again")
    finally:
        os.umask(old)
    assert target.read_text() == "# again" and stat.S_IMODE(target.stat().st_mode) == mode


def test_a_replaced_file_keeps_no_setuid_and_a_link_keeps_its_targets_mode(tmp_path):
    target = tmp_path / "r.md"
    write_atomic(target, "# report")
    target.chmod(0o4750)
    write_atomic(target, "# again")
    assert stat.S_IMODE(target.stat().st_mode) == 0o750
    link = tmp_path / "link.md"
    link.symlink_to(target)
    target.chmod(0o600)
    write_atomic(link, "# through the link")
    assert stat.S_IMODE(link.stat().st_mode) == 0o600


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o027, 0o640)], ids=["022", "077", "027"])
def test_adapter_files_safetensors_writes_0600_get_the_mode_the_umask_gives(tmp_path, mask, mode):
    """safetensors writes 0600 whatever the umask: the adapter in the checkpoints and, copied from there,
    in the store's artifacts was unreadable to the team sharing the lab."""
    from dataclasses import dataclass

    import torch
    from safetensors.torch import save_file

    from hyp.experiments.recipes.checkpoints import save_adapter, save_checkpoint

    class Model:
        def save_pretrained(self, directory):
            Path(directory).mkdir(parents=True, exist_ok=True)
            save_file({"w": torch.zeros(2)}, str(Path(directory) / "adapter_model.safetensors"))
            (Path(directory) / "adapter_config.json").write_text("{}")

    @dataclass
    class Config:
        epochs: int = 1

    weight = torch.nn.Parameter(torch.zeros(2))
    old = os.umask(mask)
    try:
        adapter = save_adapter(Model(), tmp_path / "adapter")
        save_checkpoint(tmp_path / "checkpoints", 1, Model(), torch.optim.SGD([weight], lr=0.1), Config(), "d", 1, 1,
                        [], [])
    finally:
        os.umask(old)
    epoch = tmp_path / "checkpoints" / "epoch-1"
    written = [adapter / "adapter_model.safetensors", epoch / "adapter_model.safetensors", epoch / "training_state.pt"]
    assert {p.relative_to(tmp_path).as_posix(): oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == \
           {p.relative_to(tmp_path).as_posix(): oct(mode) for p in written}


def test_a_report_replaced_keeps_the_mode_its_owner_gave_it(tmp_path, blank_store):
    from conftest import make_lab, run_hyp

    lab = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0
    out = tmp_path / "out" / "r.md"
    old = os.umask(0o022)
    try:
        for args in (("-o", out), ()):
            assert run_hyp("report", "H003", *args, lab=lab).code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644  # a new file: the umask's mode
        out.chmod(0o600)
        (lab / "reports" / "H003.md").chmod(0o640)
        for args in (("-o", out), ()):
            again = run_hyp("report", "H003", *args, lab=lab)
            assert again.code == 0, again
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE((lab / "reports" / "H003.md").stat().st_mode) == 0o640
