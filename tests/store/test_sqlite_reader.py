"""SqliteReader gives exactly what MLflow's own client gives, read from the same real SQLite store.

If an MLflow upgrade changes its run tables, these comparisons fail (or `open` declines the store
and the tracker falls back to MLflow), rather than hyp silently reading something else.
"""

import math
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hyp.store.base import DatasetRecord
from hyp.store.mlflow_store import MlflowTracker
from hyp.store.sqlite_reader import SqliteReader


@pytest.fixture(scope="module")
def store(tmp_path_factory, blank_store):
    """A store with what hyp and people put in one: parents and children, histories, NaN, a deleted run,
    a run of another experiment and one without hyp's tags."""
    root = tmp_path_factory.mktemp("reader")
    shutil.copyfile(blank_store, root / "mlflow.db")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    tracker = MlflowTracker(uri, "reads", artifact_root=root / "artifacts")
    client = tracker.client
    parent = tracker.start_run(hypothesis_id="H001", kind="run", name="H001", description="A statement.")
    tracker.log_params(parent, {"experiment.training.epochs": 3, "long": "x" * 7000})
    tracker.log_metrics(parent, {"score": 7.25, "nan_metric": math.nan, "inf_metric": math.inf})
    tracker.log_metrics(parent, {"score": 8.5}, step=2)
    (root / "locked.json").write_text('{"id": "H001"}')
    tracker.log_artifact(parent, root / "locked.json", "hyp")
    for i in range(3):
        child = tracker.start_run(hypothesis_id="H001", kind="replicate", name=f"seed {i}", parent_run_id=parent)
        tracker.log_metric_history(child, "train_loss", [(s, 3.0 - s / 7 - i) for s in range(9)])
        tracker.log_metric_history(child, "train_loss", [(4, math.nan)])
        tracker.log_dataset(child, DatasetRecord("mix", "ab" * 32, str(root / "locked.json"), 1))
        tracker.end_run(child, "FAILED" if i == 2 else "FINISHED")
    tracker.end_run(parent)
    running = tracker.start_run(hypothesis_id="H002", kind="record", name="H002")
    tracker.set_tags(running, {"hyp.verdict": "PENDING"})
    deleted = tracker.start_run(hypothesis_id="H002", kind="record", name="gone")
    client.delete_run(deleted)
    client.create_run(tracker.experiment_id, run_name="by hand")  # not hyp's: no hyp.id tag
    other = MlflowTracker(uri, "another experiment", artifact_root=root / "artifacts")
    other.end_run(other.start_run(hypothesis_id="H001", kind="record", name="elsewhere"))
    return uri, root, {"parent": parent, "running": running, "deleted": deleted}


def _same(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def _mlflow_view(uri: str) -> MlflowTracker:
    tracker = MlflowTracker(uri, "reads")
    tracker.reader = None  # the same tracker, reading through MLflow's client instead
    return tracker


def _assert_equal(fast, slow):
    assert [r.run_id for r in fast] == [r.run_id for r in slow]
    for f, s in zip(fast, slow, strict=True):
        assert (f.name, f.hypothesis_id, f.kind, f.status, f.start_time, f.end_time, f.parent_run_id) == \
               (s.name, s.hypothesis_id, s.kind, s.status, s.start_time, s.end_time, s.parent_run_id)
        assert f.tags == s.tags and f.params == s.params
        assert f.metrics.keys() == s.metrics.keys()
        assert all(_same(f.metrics[k], s.metrics[k]) for k in f.metrics), (f.metrics, s.metrics)


def test_runs_match_mlflow_search_runs(store):
    uri, _, ids = store
    fast = MlflowTracker(uri, "reads")
    assert fast.reader is not None
    slow = _mlflow_view(uri)
    everything = fast.runs()
    _assert_equal(everything, slow.runs())
    assert len(everything) == 5 and ids["deleted"] not in {r.run_id for r in everything}
    for hid in ("H001", "H002", "H404"):
        _assert_equal(fast.runs(hid), slow.runs(hid))
    light = fast.runs(data=False)  # what the status index reads: hyp's tags and the parent, no params or metrics
    own = [{k: v for k, v in r.tags.items() if k.startswith("hyp.") or k == "mlflow.parentRunId"} for r in everything]
    assert [(r.run_id, r.tags, r.status, r.parent_run_id) for r in light] == \
           [(r.run_id, t, r.status, r.parent_run_id) for r, t in zip(everything, own, strict=True)]
    assert not any(r.params or r.metrics for r in light)
    run_ids = [r.run_id for r in everything]
    latest, mlflows = fast.latest_metrics(run_ids), slow.latest_metrics(run_ids)
    assert latest.keys() == mlflows.keys() == set(run_ids)
    assert all(_same(latest[i][k], mlflows[i][k]) for i in run_ids for k in latest[i] | mlflows[i])
    parent = next(r for r in everything if r.run_id == ids["parent"])
    assert parent.metrics["score"] == 8.5 and math.isnan(parent.metrics["nan_metric"])
    assert parent.metrics["inf_metric"] == sys.float_info.max  # MLflow keeps ±inf as the largest float


def test_metric_history_matches_mlflow(store):
    uri, _, _ = store
    fast, slow = MlflowTracker(uri, "reads"), _mlflow_view(uri)
    children = [r.run_id for r in fast.runs("H001") if r.kind == "replicate"]
    for child in children:
        a, b = fast.metric_history(child, "train_loss"), slow.metric_history(child, "train_loss")
        assert len(a) == 10 and all(sa == sb and _same(va, vb) for (sa, va), (sb, vb) in zip(a, b, strict=True))
    missing = "no such metric"
    assert fast.metric_history(children[0], missing) == slow.metric_history(children[0], missing) == []


def test_artifacts_are_read_from_the_local_artifact_store(store, tmp_path):
    uri, _, ids = store
    fast, slow = MlflowTracker(uri, "reads"), _mlflow_view(uri)
    got = fast.download_artifact(ids["parent"], "hyp/locked.json", tmp_path / "fast")
    assert got.read_text() == slow.download_artifact(ids["parent"], "hyp/locked.json", tmp_path / "slow").read_text()
    folder = fast.download_artifact(ids["parent"], "params", tmp_path / "dir")
    assert (folder / "long.txt").read_text() == "x" * 7000
    assert fast.download_artifact(ids["parent"], "nothing/here.json", tmp_path / "none") is None
    assert slow.download_artifact(ids["parent"], "nothing/here.json", tmp_path / "none2") is None


def test_reading_a_sqlite_store_does_not_import_mlflow(store):
    uri, _, _ = store
    code = ("import sys; from hyp.store.mlflow_store import MlflowTracker; "
            f"t = MlflowTracker({uri!r}, 'reads'); runs = t.runs('H001'); "
            "t.metric_history(runs[1].run_id, 'train_loss'); "
            "print(len(runs), 'mlflow' in sys.modules, 'sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["4", "False", "False"]


def test_the_first_write_opens_mlflow_and_reads_see_it(store):
    uri, _, _ = store
    tracker = MlflowTracker(uri, "reads")
    assert tracker._client is None
    run_id = tracker.start_run(hypothesis_id="H003", kind="record", name="H003")
    tracker.log_metrics(run_id, {"score": 6.0})
    tracker.end_run(run_id)
    [run] = tracker.runs("H003")
    assert (run.run_id, run.metrics, run.status) == (run_id, {"score": 6.0}, "FINISHED")


def test_a_store_it_cannot_read_as_mlflow_would_is_left_to_mlflow(store, tmp_path, monkeypatch):
    uri, root, _ = store
    assert SqliteReader.open(uri, "no such experiment") is None  # MLflow creates it on first use
    assert SqliteReader.open("postgresql://localhost/x", "reads") is None
    assert SqliteReader.open(f"sqlite:///{tmp_path / 'missing.db'}", "reads") is None
    changed = tmp_path / "changed.db"
    shutil.copyfile(root / "mlflow.db", changed)
    with sqlite3.connect(changed) as con:  # a future schema: a column renamed
        con.execute("ALTER TABLE latest_metrics RENAME COLUMN is_nan TO nan_flag")
    assert SqliteReader.open(f"sqlite:///{changed}", "reads") is None
    monkeypatch.setenv("MLFLOW_WORKSPACE", "team-b")  # experiment names are per workspace
    assert SqliteReader.open(uri, "reads") is None


def test_a_deleted_experiment_is_not_read(store, tmp_path):
    uri, root, _ = store
    copy = tmp_path / "copy.db"
    shutil.copyfile(root / "mlflow.db", copy)
    with sqlite3.connect(copy) as con:
        con.execute("UPDATE experiments SET lifecycle_stage = 'deleted' WHERE name = 'reads'")
    assert SqliteReader.open(f"sqlite:///{copy}", "reads") is None
    assert Path(copy).is_file()


def test_artifacts_logged_without_mlflow_are_where_mlflow_puts_them(store, tmp_path):
    uri, _, _ = store
    (tmp_path / "report.md").write_text("# Report")
    (tmp_path / "plots" / "deep").mkdir(parents=True)
    (tmp_path / "plots" / "loss.png").write_bytes(b"\x89PNG")
    (tmp_path / "plots" / "deep" / "q.png").write_bytes(b"\x89PNG2")
    listings = []
    for tracker in (MlflowTracker(uri, "reads"), _mlflow_view(uri)):
        run_id = tracker.start_run(hypothesis_id="H004", kind="record", name="H004")
        tracker.log_artifact(run_id, tmp_path / "report.md")
        tracker.log_artifact(run_id, tmp_path / "report.md", "reports")
        tracker.log_artifact(run_id, tmp_path / "plots", "plots")
        tracker.end_run(run_id)
        client = tracker.client

        def walk(path=None, client=client, run_id=run_id):
            for item in client.list_artifacts(run_id, path):
                yield from walk(item.path) if item.is_dir else [(item.path, item.file_size)]

        listings.append(sorted(walk()))
        assert (tracker.download_artifact(run_id, "plots/deep/q.png", tmp_path / run_id).read_bytes() == b"\x89PNG2")
    assert listings[0] == listings[1] == [("plots/deep/q.png", 5), ("plots/loss.png", 4), ("report.md", 8),
                                          ("reports/report.md", 8)]
