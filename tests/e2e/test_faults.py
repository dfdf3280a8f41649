"""Fault injection (issue 6): `hyp run` killed with SIGKILL in each phase, an exception inside
training, and two runs of one hypothesis at once. Afterwards no run is RUNNING once any hyp command
has run, no file in the lab is half-written, the hypothesis file and its lock are intact, and
`hyp run --resume` finishes. Real training of builtin:tiny, real MLflow; HYP_FAULT (hyp/faults.py)
only chooses the moment the process dies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

SMALL = ["--set", "dataset.curated.select_top=12", "--set", "eval.max_new_tokens=8", "--set", "training.epochs=2"]


def hyp(lab: Path, *args: str, fault: str | None = None, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    env.pop("HYP_FAULT", None)
    if fault:
        env["HYP_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "hyp", *args], cwd=lab, capture_output=True, text=True, env=env,
                          **kw)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, builtin_cache) -> Path:
    root = tmp_path_factory.mktemp("faults") / "lab"
    subprocess.run([sys.executable, "-m", "hyp", "init", str(root), "--example", "persona"], check=True,
                   capture_output=True)
    return root


def runs(lab: Path, hid: str):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{lab}/.hyp/mlflow.db")
    exp = client.get_experiment_by_name("persona")
    return client.search_runs([exp.experiment_id], f"tags.`hyp.id` = '{hid}'") if exp else []


def lab_files(lab: Path) -> dict[str, bytes]:
    return {p.relative_to(lab).as_posix(): p.read_bytes() for p in lab.rglob("*")
            if p.is_file() and ".hyp/artifacts" not in p.as_posix() and not p.name.endswith(".db")
            and ".hyp/checkpoints" not in p.as_posix() and "builtin-tiny" not in p.as_posix()}


def assert_nothing_half_written(lab: Path) -> None:
    """Every JSON file parses and every report is whole. A write cut short leaves only its hidden
    temporary file (.name.XXXX.tmp) beside an untouched target."""
    for rel, content in lab_files(lab).items():
        if rel.endswith(".tmp"):
            assert Path(rel).name.startswith("."), rel
            continue
        if rel.endswith(".json"):
            json.loads(content)  # a torn JSON file would not parse
        if rel.startswith("reports/") and rel.endswith(".md"):
            assert b"## Provenance" in content, f"{rel} is cut short"


PHASES = ["data", "training", "evaluation", "logging", "report", "write"]


def test_sigkill_in_each_phase_loses_nothing_and_resume_finishes(lab):
    """One run killed in each phase in turn, every run with --resume: each kill must leave a lab the
    next run can go on from, and after the last one `hyp run --resume` finishes."""
    hid = "H004"
    hypothesis = (lab / "hypotheses" / f"{hid}.yaml").read_bytes()
    for phase in PHASES:
        killed = hyp(lab, "run", hid, *SMALL, "--resume", fault=phase)
        assert killed.returncode == -signal.SIGKILL, (phase, killed.stderr)
        assert hyp(lab, "list").returncode == 0  # any command reaps what the dead process left RUNNING
        assert not [r for r in runs(lab, hid) if r.info.status == "RUNNING"], phase
        assert_nothing_half_written(lab)
        assert (lab / "hypotheses" / f"{hid}.yaml").read_bytes() == hypothesis, phase

    done = hyp(lab, "run", hid, *SMALL, "--resume")
    assert done.returncode == 0, done.stderr
    verdict = json.loads(hyp(lab, "verdict", hid, "--json").stdout)
    assert verdict["lock"]["status"] == "intact"
    parents = [r for r in runs(lab, hid) if r.data.tags["hyp.kind"] == "run"]  # newest first
    assert parents[0].info.status == "FINISHED"
    # Killed in training, evaluation or logging: KILLED. Killed at the report: the run had FINISHED.
    # Killed at data or at the first file write (the status index, before any run exists): no run.
    assert {r.info.status for r in parents[1:]} <= {"KILLED", "FINISHED"}
    assert [r.info.status for r in parents[1:]].count("KILLED") >= 3
    assert_nothing_half_written(lab)
    assert (lab / "reports" / f"{hid}.md").exists()


def test_an_exception_in_training_ends_failed_with_the_error(lab):
    failed = hyp(lab, "run", "H002", *SMALL, fault="training:raise")
    assert failed.returncode == 1
    assert len([line for line in failed.stderr.splitlines() if line.strip()]) == 1
    found = runs(lab, "H002")
    assert found and {r.info.status for r in found} == {"FAILED"}
    assert all("fault injected at training" in r.data.tags["hyp.error"] for r in found)

    # Issue 17, item 3: a run that failed before any result locks nothing: fixing the experiment
    # afterwards is no amendment, and no lock is pinned in the lab.
    assert not (lab / "hypotheses" / ".locks" / "H002.sha256").exists()
    path = lab / "hypotheses" / "H002.yaml"
    original = path.read_text()
    path.write_text(original.replace("learning_rate: 5.0e-3", "learning_rate: 4.0e-3"))
    try:
        assert path.read_text() != original
        verdict = hyp(lab, "verdict", "H002", "--json")
        assert verdict.returncode == 0, verdict.stderr
        assert json.loads(verdict.stdout)["lock"]["status"] == "unlocked"
    finally:
        path.write_text(original)


def test_two_runs_of_one_hypothesis_at_once_the_second_stops_clearly(lab):
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    env.pop("HYP_FAULT", None)
    first = subprocess.Popen([sys.executable, "-m", "hyp", "run", "H001", *SMALL, "--set", "training.epochs=30"],
                             cwd=lab, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (lab / ".hyp" / "checkpoints" / "H001").exists():
            assert first.poll() is None and time.time() < deadline, first.stderr.read()
            time.sleep(0.2)
        files = lab_files(lab)
        second = hyp(lab, "run", "H001", *SMALL)
        assert second.returncode == 2
        assert "already running" in second.stderr and f"pid {first.pid}" in second.stderr
        # Issue 17, item 14: a record meanwhile is refused too, so the run's verdict tag and report,
        # written when it ends, count every result (pooled evidence): recorded after it, they will.
        record = hyp(lab, "record", "H001", "--metric", "score=9.5")
        assert record.returncode == 2 and f"pid {first.pid}" in record.stderr, record.stderr
        assert len([line for line in record.stderr.splitlines() if line.strip()]) == 1
        assert len(runs(lab, "H001")) == 2  # the first's parent and replicate; the others made none
        assert {k: v for k, v in lab_files(lab).items() if not k.startswith(".hyp/")} == \
               {k: v for k, v in files.items() if not k.startswith(".hyp/")}
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(timeout=60)
    # The lock went with the process: the next run is free to start (and Ctrl-C left KILLED, not RUNNING).
    assert {r.info.status for r in runs(lab, "H001")} == {"KILLED"}
    assert hyp(lab, "run", "H001", *SMALL).returncode == 0



# --- issue 17 (audit): a lab that cannot be written, and odd things where hyp keeps its state -------------
# Root writes through file modes; `setpriv` takes from the hyp process the capabilities that let it, so a
# read-only lab refuses root's writes as it does anyone's (SQLite's included, which no Python patch reaches).
READER = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"] if os.geteuid() == 0 else []


def read_only_hyp(lab: Path, *args: str) -> subprocess.CompletedProcess:
    if READER and not shutil.which("setpriv"):
        pytest.skip("root needs setpriv (util-linux) to be refused a write")
    env = {k: v for k, v in os.environ.items() if k not in ("HYP_FAULT", "HYP_DEBUG")}
    return subprocess.run([*READER, sys.executable, "-m", "hyp", "--lab", str(lab), *args], capture_output=True,
                          text=True, env={**env, "HYP_NO_PROGRESS": "1"}, timeout=300)


@pytest.fixture
def recorded(tmp_path, blank_store) -> Path:
    """A lab with hand scores recorded for H003 (REJECTED), left writable again after the test."""
    from conftest import make_lab, run_hyp

    root = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--scores", root / "scores.csv", lab=root).code == 0
    yield root
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)


def make_read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)


def test_a_read_only_lab_with_an_orphaned_run_is_listed_quietly(recorded):
    """`hyp list` tries to mark a run whose process died KILLED; in a read-only lab that write fails, and MLflow
    printed SQLAlchemy's 86-line traceback over the table. The run is shown as it is, and nothing else."""
    from mlflow import MlflowClient

    owner = json.loads(subprocess.run([sys.executable, "-c", "import json; from hyp.store.base import process_tags; "
                                       "print(json.dumps(process_tags()))"], capture_output=True, text=True,
                                      check=True).stdout)  # a process that has exited since
    client = MlflowClient(tracking_uri=f"sqlite:///{recorded}/.hyp/mlflow.db")
    experiment = client.get_experiment_by_name("registry-tests").experiment_id
    orphan = client.create_run(experiment, tags={"hyp.id": "H003", "hyp.kind": "run", **owner}).info.run_id
    (recorded / ".hyp" / "index.json").unlink(missing_ok=True)  # so that listing reads the store
    make_read_only(recorded)

    listed = read_only_hyp(recorded, "list", "--json")

    assert listed.returncode == 0 and listed.stderr == "", listed.stderr[:3000]
    assert [row["id"] for row in json.loads(listed.stdout)] == ["H003"]
    assert client.get_run(orphan).info.status == "RUNNING"  # marked by the next command that can write


def test_a_write_the_lab_refuses_is_one_line_naming_the_file(recorded):
    """EACCES (and EROFS, ENOSPC...) writing a file was `internal error`, exit 1."""
    make_read_only(recorded)

    new = read_only_hyp(recorded, "new", "H020")

    lines = [line for line in new.stderr.splitlines() if line.strip()]
    assert new.returncode == 2 and len(lines) == 1, new.stderr[:3000]
    assert f"{recorded / 'hypotheses' / 'H020.yaml'}: cannot be written: Permission denied" in lines[0]
    assert not (recorded / "hypotheses" / "H020.yaml").exists()


def test_report_o_from_a_read_only_lab_writes_the_report(recorded, tmp_path):
    """The report goes where -o says; that the lab cannot keep what it read from the store (.hyp/reports/,
    written last) does not fail it. Logged once while the lab could be written, the report is not logged again."""
    from conftest import run_hyp

    assert run_hyp("report", "H003", lab=recorded).code == 0
    out = tmp_path / "out"
    out.mkdir()
    make_read_only(recorded)

    report = read_only_hyp(recorded, "report", "H003", "-o", str(out / "H003.md"))

    assert report.returncode == 0, report.stderr[:3000]
    assert (out / "H003.md").read_text() == (recorded / "reports" / "H003.md").read_text()
    assert report.stderr == "", report.stderr


def test_report_o_from_a_read_only_lab_never_reported_writes_the_report_and_says_it_is_not_logged(recorded, tmp_path):
    """A colleague's read-only checkout: the report was never logged with its run, and the store cannot take
    it now. The report still goes where -o says, with one line saying it was not logged, and exit 0."""
    out = tmp_path / "out"
    out.mkdir()
    make_read_only(recorded)

    report = read_only_hyp(recorded, "report", "H003", "-o", str(out / "H003.md"))

    assert report.returncode == 0, report.stderr[:3000]
    assert (out / "H003.md").read_text().startswith("# H003")
    lines = [line for line in report.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "not logged with run" in lines[0] and "Permission denied" in lines[0], lines
    assert not (recorded / "reports" / "H003.md").exists()


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_fifo_or_directory_where_the_index_goes_does_not_stop_list(recorded, kind):
    """Every `hyp list` failed (exit 2, "is a named pipe") while .hyp/index.json was a FIFO or a directory."""
    from conftest import run_hyp

    index = recorded / ".hyp" / "index.json"
    index.unlink()
    if kind == "fifo":
        os.mkfifo(index)
    else:
        index.mkdir()
    for _ in range(2):
        listed = subprocess.run([sys.executable, "-m", "hyp", "--lab", str(recorded), "list", "--json"],
                                capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout)[0]["status"] == "REJECTED"
    assert (stat.S_ISFIFO if kind == "fifo" else stat.S_ISDIR)(os.lstat(index).st_mode)
    assert run_hyp("show", "H003", lab=recorded).code == 0


@pytest.mark.parametrize("code,says", [("ENOSPC", "No space left on device"), ("EROFS", "Read-only file system")])
def test_a_full_disk_or_read_only_mount_is_one_line_naming_the_file(recorded, monkeypatch, code, says):
    """The kernel's refusal as the write lands (the disk filled meanwhile; a share mounted read-only)."""
    import errno

    from conftest import run_hyp

    def refuse(*args, **kw):
        raise OSError(getattr(errno, code), says)

    monkeypatch.setattr(os, "fsync", refuse)
    new = run_hyp("new", "H020", lab=recorded)
    assert new.code == 2 and len(new.err_lines) == 1, new.err
    assert f"{recorded / 'hypotheses' / 'H020.yaml'}: cannot be written: {says}" in new.err
    assert sorted(p.name for p in (recorded / "hypotheses").iterdir()) == [".locks", "H003.yaml"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_a_command_stopped_while_it_creates_the_store_leaves_a_lab_that_works(tmp_path, sig):
    """An audit: Ctrl-C or kill -9 of the first `hyp record` while MLflow migrated the new store left it half
    migrated, and every later command exited 2 ("duplicate column name: storage_location"). The store is
    now made beside its place and renamed in when complete: stopped on the way, there is no store yet."""
    from conftest import make_lab, run_hyp

    lab = make_lab(tmp_path / "lab")
    env = {k: v for k, v in os.environ.items() if k not in ("HYP_FAULT", "HYP_TRACKING_URI")}
    proc = subprocess.Popen([sys.executable, "-m", "hyp", "--lab", str(lab), "record", "H003", "--metric",
                             "score=8"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**env, "HYP_NO_PROGRESS": "1"})
    deadline = time.monotonic() + 120
    while not list((lab / ".hyp").glob(".mlflow.db.*.creating")) and proc.poll() is None:
        assert time.monotonic() < deadline, "the store was never being created"
        time.sleep(0.01)
    time.sleep(0.3)  # well inside the migrations, which take seconds
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0, "the command finished before it was stopped: nothing was tested"
    assert not (lab / ".hyp" / "mlflow.db").exists()

    assert run_hyp("list", lab=lab).code == 0
    again = run_hyp("record", "H003", "--metric", "score=8", lab=lab)
    assert again.code == 0, again
    assert not list((lab / ".hyp").glob(f".mlflow.db.{proc.pid}.creating*")) or sig == signal.SIGKILL


def test_a_first_run_killed_and_run_again_leaves_a_lock_every_later_result_finds(tmp_path, builtin_cache):
    """Issue 17: the first `hyp run` of a hypothesis killed mid-training, then run again at once (no other command
    between, which would have marked the dead run KILLED). The second saw the first still RUNNING, took its lock
    for held and logged no locked copy; once the first was marked KILLED, the lock was judged from the second,
    and every later result stopped at "the pre-registration lock is broken (the locked copy ... is missing)".
    And the adapter files get the mode the umask gives, in the checkpoints and in the store's copy alike:
    safetensors writes them 0600 whatever the umask."""
    from conftest import run_hyp

    root = tmp_path / "lab"
    subprocess.run([sys.executable, "-m", "hyp", "init", str(root), "--example", "persona"], check=True,
                   capture_output=True)
    killed = hyp(root, "run", "H004", *SMALL, fault="training")
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    again = hyp(root, "run", "H004", *SMALL, umask=0o027)

    assert again.returncode == 0, again.stderr
    assert {r.info.status for r in runs(root, "H004") if r.data.tags["hyp.kind"] == "run"} == {"KILLED", "FINISHED"}
    recorded = run_hyp("record", "H004", "--metric", "score=9", lab=root)
    assert recorded.code == 0, recorded.err
    verdict = run_hyp("verdict", "H004", "--json", lab=root)
    assert verdict.code == 0 and verdict.json["lock"]["status"] == "intact", verdict
    adapters = list((root / ".hyp").rglob("adapter_model.safetensors"))
    assert {"artifacts", "checkpoints"} <= {part for p in adapters for part in p.relative_to(root / ".hyp").parts}
    assert {p.relative_to(root).as_posix(): oct(p.stat().st_mode & 0o777) for p in adapters} == \
           {p.relative_to(root).as_posix(): "0o640" for p in adapters}
