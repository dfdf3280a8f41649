"""What `hyp list`, `show` and `verdict` read: never stale, orphaned runs reaped, replicates judged on intervals."""

import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import hypothesis_text, make_lab, mlflow_runs, run_hyp, store_uri
from hyp.hypotheses.lab import Lab
from hyp.results.index import INDEX_VERSION
from hyp.store.base import process_start

IDS = ("H003", "H010", "H011", "H012", "H013", "H014", "H015", "H016", "H017")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, blank_store):
    root = make_lab(tmp_path_factory.mktemp("index") / "lab", {hid: hypothesis_text(hid) for hid in IDS},
                    store=blank_store)
    assert run_hyp("record", "H003", "--scores", root / "scores.csv", lab=root).code == 0
    return root


@pytest.fixture(scope="module")
def client(lab):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store_uri(lab))


@pytest.fixture(scope="module")
def experiment_id(client):
    return client.get_experiment_by_name("registry-tests").experiment_id


def status_of(lab):
    r = run_hyp("list", "--json", lab=lab)
    assert r.code == 0, r
    return {row["id"]: row for row in r.json}


def tags_of_an_exited_process():
    """Owner tags as a hyp process writes them, from a process that has ended since."""
    code = "import json; from hyp.store.base import process_tags; print(json.dumps(process_tags()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def running_run(client, experiment_id, hid, owner):
    return client.create_run(experiment_id, tags={"hyp.id": hid, "hyp.kind": "run", **owner},
                             run_name=hid).info.run_id


def test_a_run_left_running_by_a_dead_process_is_marked_killed(lab, client, experiment_id):
    run_id = running_run(client, experiment_id, "H010", tags_of_an_exited_process())

    rows = status_of(lab)

    assert rows["H010"]["status"] == "PENDING"
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert "died" in run.data.tags["hyp.error"]


def test_a_running_run_shows_running_until_its_owner_dies(lab, client, experiment_id):
    owner = subprocess.Popen(["sleep", "60"])
    try:
        tags = {"hyp.pid": str(owner.pid), "hyp.host": socket.gethostname(),
                "hyp.proc_start": process_start(owner.pid)}
        run_id = running_run(client, experiment_id, "H011", tags)
        assert status_of(lab)["H011"]["status"] == "RUNNING"
        assert run_hyp("verdict", "H011", "--json", lab=lab).json["status"] == "RUNNING"
        assert client.get_run(run_id).info.status == "RUNNING"
    finally:
        owner.kill()
        owner.wait()
    # Nothing was written to the store since: the saved index is fresh, and must still notice.
    assert status_of(lab)["H011"]["status"] == "PENDING"
    assert client.get_run(run_id).info.status == "KILLED"


def test_a_recycled_pid_does_not_keep_a_dead_run_alive(lab, client, experiment_id):
    # Our own pid is alive, but it was not this process that started the run.
    tags = {"hyp.pid": str(os.getpid()), "hyp.host": socket.gethostname(), "hyp.proc_start": "1"}
    run_id = running_run(client, experiment_id, "H015", tags)
    assert status_of(lab)["H015"]["status"] == "PENDING"
    assert client.get_run(run_id).info.status == "KILLED"


def test_a_run_owned_by_another_machine_is_left_alone(lab, client, experiment_id):
    owner = {**tags_of_an_exited_process(), "hyp.host": "another-machine.invalid"}
    run_id = running_run(client, experiment_id, "H017", owner)
    try:
        assert status_of(lab)["H017"]["status"] == "RUNNING"
        assert client.get_run(run_id).info.status == "RUNNING"
    finally:
        client.set_terminated(run_id, "KILLED")


def test_results_written_behind_hyps_back_are_shown(lab, client, experiment_id):
    assert run_hyp("record", "H012", "--metric", "score=4", lab=lab).code == 0
    assert status_of(lab)["H012"]["score"] == 4.0

    (first,) = mlflow_runs(lab, "H012")
    run = client.create_run(experiment_id, tags={"hyp.id": "H012", "hyp.kind": "record",
                                                 "hyp.lock": first.data.tags["hyp.lock"]}, run_name="H012")
    client.log_metric(run.info.run_id, "score", 9.5)
    client.set_terminated(run.info.run_id, "FINISHED")

    row = status_of(lab)["H012"]
    assert (row["score"], row["status"]) == (6.75, "INCONCLUSIVE")  # pooled with the first, never replacing it
    verdict = run_hyp("verdict", "H012", "--json", lab=lab).json
    assert verdict["observations"]["score"]["n"] == 2


def test_a_write_in_the_same_timestamp_tick_is_not_missed(lab, client):
    assert run_hyp("record", "H016", "--metric", "score=4", lab=lab).code == 0
    assert status_of(lab)["H016"]["score"] == 4.0
    db = store_uri(lab).removeprefix("sqlite:///")
    before = os.stat(db)
    (run,) = mlflow_runs(lab, "H016")
    client.log_metric(run.info.run_id, "score", 9.5)
    after = os.stat(db)
    if after.st_size != before.st_size:
        raise RuntimeError("premise: this write was expected to keep the database's size")
    os.utime(db, ns=(after.st_atime_ns, before.st_mtime_ns))  # as if both writes fell in one clock tick
    assert status_of(lab)["H016"]["score"] == 9.5


def replicates(lab, hid, scores):
    """A `hyp run`-shaped result: a parent run with one finished child per replicate."""
    from hyp.results.ledger import result_run

    lab = Lab(lab)
    with result_run(lab, lab.load(hid), kind="run") as run:
        for i, score in enumerate(scores):
            child = run.tracker.start_run(hypothesis_id=hid, kind="replicate", name=f"{hid}-r{i}",
                                          parent_run_id=run.run_id)
            run.tracker.log_metrics(child, {"score": score})
            run.tracker.end_run(child)


def test_replicates_straddling_the_threshold_are_inconclusive(lab):
    replicates(lab, "H013", [8.5, 9.0, 9.5])
    r = run_hyp("verdict", "H013", "--json", lab=lab)
    assert r.code == 0
    assert r.json["verdict"] == "INCONCLUSIVE"
    score = r.json["observations"]["score"]
    assert score["n"] == 3
    assert score["estimate"] == pytest.approx(9.0)
    assert score["low"] < 9.0 < score["high"]
    assert r.json["criteria"][0]["outcome"] == "undecided"
    assert run_hyp("verdict", "H013", "--check", lab=lab).code == 1
    assert status_of(lab)["H013"]["status"] == "INCONCLUSIVE"


def test_replicates_wholly_above_the_threshold_confirm(lab):
    replicates(lab, "H014", [9.3, 9.4, 9.5, 9.6])
    r = run_hyp("verdict", "H014", "--json", lab=lab)
    assert r.json["verdict"] == "CONFIRMED"
    assert r.json["observations"]["score"]["n"] == 4
    assert 9.0 < r.json["observations"]["score"]["low"] < 9.3  # a t-interval over 4 replicates
    assert run_hyp("verdict", "H014", "--check", lab=lab).code == 0
    assert status_of(lab)["H014"]["status"] == "CONFIRMED"


def test_listing_a_lab_without_results_creates_no_store(tmp_path):
    root = make_lab(tmp_path / "lab")
    rows = status_of(root)
    assert rows["H003"]["status"] == "PENDING"
    assert not (root / ".hyp" / "mlflow.db").exists()


def test_the_environment_can_point_at_another_store(tmp_path, monkeypatch):
    root = make_lab(tmp_path / "lab")
    elsewhere = tmp_path / "elsewhere.db"
    monkeypatch.setenv("HYP_TRACKING_URI", f"sqlite:///{elsewhere}")
    assert run_hyp("record", "H003", "--metric", "score=9.5", lab=root).code == 0
    assert elsewhere.exists()
    assert not (root / ".hyp" / "mlflow.db").exists()
    assert status_of(root)["H003"]["status"] == "CONFIRMED"
    monkeypatch.delenv("HYP_TRACKING_URI")
    assert status_of(root)["H003"]["status"] == "PENDING"  # the lab's own store has no results


def read_only(root, monkeypatch) -> None:
    """Make the lab read-only, as a colleague's checkout or a mounted share is. Root writes through file
    modes, so there the same refusal (EACCES) is given to every write hyp's Python code makes under it."""
    import builtins
    import errno
    import io

    for path in [root, *root.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if os.geteuid() != 0:
        return
    top = os.path.realpath(root)

    def guard(path):
        if isinstance(path, int):
            return
        real = os.path.realpath(os.fsdecode(path))
        if real == top or real.startswith(top + os.sep):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))

    real_open, real_mkdir, real_replace, real_file = os.open, os.mkdir, os.replace, builtins.open
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def os_open(path, flags, mode=0o777, *, dir_fd=None):
        if flags & writing:
            guard(path)
        return real_open(path, flags, mode, dir_fd=dir_fd)

    def mkdir(path, mode=0o777, *, dir_fd=None):
        if os.path.exists(path):
            raise FileExistsError(errno.EEXIST, "File exists", os.fsdecode(path))
        guard(path)
        return real_mkdir(path, mode, dir_fd=dir_fd)

    def replace(src, dst, **kw):
        guard(dst)
        return real_replace(src, dst, **kw)

    def file_open(file, mode="r", *args, **kw):
        if any(c in mode for c in "wax+"):
            guard(file)
        return real_file(file, mode, *args, **kw)

    for target, name, value in [(os, "open", os_open), (os, "mkdir", mkdir), (os, "replace", replace),
                                (builtins, "open", file_open), (io, "open", file_open)]:
        monkeypatch.setattr(target, name, value)


def test_a_read_only_lab_is_listed_shown_and_judged(tmp_path, blank_store, monkeypatch):
    """Issue 17, item 9: list, show and verdict read; they never need to write (the index and the parse
    cache are only kept where they can be)."""
    root = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--scores", root / "scores.csv", lab=root).code == 0
    for cache in ("index.json", "parsed.json"):
        (root / ".hyp" / cache).unlink(missing_ok=True)  # so that reading has to rebuild them
    try:
        read_only(root, monkeypatch)
        listed = run_hyp("list", "--json", lab=root)
        assert listed.code == 0, listed.err
        assert listed.json[0]["status"] == "REJECTED"
        shown = run_hyp("show", "H003", lab=root)
        assert shown.code == 0 and "REJECTED" in shown.out, shown.err
        judged = run_hyp("verdict", "H003", "--json", lab=root)
        assert judged.code == 0 and judged.json["verdict"] == "REJECTED", judged.err
        checked = run_hyp("verdict", "H003", "--check", lab=root)
        assert checked.code == 1 and "not CONFIRMED" in checked.err, checked.err  # an answer, not a crash
        assert not (root / ".hyp" / "index.json").exists()
    finally:
        monkeypatch.undo()
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.parametrize("text", ["null", "[]", '{"version": 2, "store": 5, "hypotheses": []}', '"x"'])
def test_an_index_or_parse_cache_of_the_wrong_shape_is_rebuilt(lab, text):
    """Issue 17, item 10: `null` or `[]` in .hyp/index.json or parsed.json failed every command until deleted."""
    for cache in ("index.json", "parsed.json"):
        (lab / ".hyp" / cache).write_text(text)
    assert status_of(lab)["H003"]["status"] == "REJECTED"
    assert json.loads((lab / ".hyp" / "index.json").read_text())["version"] == INDEX_VERSION  # written again, whole
