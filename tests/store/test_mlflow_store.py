"""The Tracker contract, run against real MLflow on a temporary SQLite store and on a tracking server
(`mlflow server` with a PostgreSQL backend store and proxied artifacts), the way Optuna runs its storage
tests over every storage."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import hypothesis_text, make_lab
from hyp.errors import BadInput
from hyp.store.base import DatasetRecord, process_tags, tracked_run
from hyp.store.mlflow_store import MAX_PARAM, MlflowTracker


@pytest.fixture(scope="module", params=["sqlite", "server"])
def store(request, tmp_path_factory, blank_store):
    root = tmp_path_factory.mktemp("store")
    if request.param == "server":
        return root, request.getfixturevalue("mlflow_server")
    shutil.copyfile(blank_store, root / "mlflow.db")
    return root, f"sqlite:///{root / 'mlflow.db'}"


def artifact_root(store):
    root, uri = store
    return None if uri.startswith("http") else root / "artifacts"  # a server keeps its own, as open_tracker says


@pytest.fixture(scope="module")
def tracker(store):
    return MlflowTracker(store[1], "contract", artifact_root=artifact_root(store))


def test_a_run_carries_hyp_tags_owner_and_description(tracker):
    run_id = tracker.start_run(hypothesis_id="H101", kind="record", name="H101", tags={"hyp.version": "v1"},
                               description="The statement.")
    run = tracker.client.get_run(run_id)
    assert run.info.run_name == "H101"
    assert run.info.status == "RUNNING"
    tags = run.data.tags
    assert (tags["hyp.id"], tags["hyp.kind"], tags["hyp.version"]) == ("H101", "record", "v1")
    assert tags["mlflow.note.content"] == "The statement."
    assert {k: tags[k] for k in ("hyp.pid", "hyp.host", "hyp.proc_start")} == process_tags()
    assert tags["mlflow.user"] == run.info.user_id != "unknown"
    tracker.end_run(run_id)
    assert tracker.client.get_run(run_id).info.status == "FINISHED"


def test_params_metrics_and_history_are_kept(tracker):
    run_id = tracker.start_run(hypothesis_id="H102", kind="run", name="H102")
    long = "x" * (MAX_PARAM + 500)
    tracker.log_params(run_id, {"training.epochs": 6, "training.learning_rate": 0.0002, "prompt": long})
    tracker.log_metrics(run_id, {"score": 4.5, "points": 29, "skipped": None})
    tracker.log_metric_history(run_id, "train_loss", [(0, 2.0), (1, 1.5), (2, 1.25)])
    tracker.end_run(run_id)

    (record,) = tracker.runs("H102")
    assert record.params["training.epochs"] == "6"
    assert record.params["training.learning_rate"] == "0.0002"
    assert len(record.params["prompt"]) <= MAX_PARAM
    assert "sha256:" in record.params["prompt"]  # shortened, but still tells values apart
    full = tracker.download_artifact(run_id, "params/prompt.txt", tracker_tmp(tracker))
    assert full.read_text() == long  # and kept in full as an artifact
    assert record.metrics["score"] == 4.5 and record.metrics["points"] == 29
    assert "skipped" not in record.metrics
    assert tracker.metric_history(run_id, "train_loss") == [(0, 2.0), (1, 1.5), (2, 1.25)]
    assert (record.hypothesis_id, record.kind, record.status, record.name) == ("H102", "run", "FINISHED", "H102")


def tracker_tmp(tracker):
    import tempfile

    return Path(tempfile.mkdtemp())


def test_child_runs_point_at_their_parent(tracker):
    parent = tracker.start_run(hypothesis_id="H103", kind="run", name="H103")
    child = tracker.start_run(hypothesis_id="H103", kind="replicate", name="H103-r1", parent_run_id=parent)
    tracker.end_run(child)
    tracker.end_run(parent)
    records = {r.run_id: r for r in tracker.runs("H103")}
    assert records[child].parent_run_id == parent
    assert records[parent].parent_run_id is None


def test_runs_are_filtered_by_hypothesis_and_ignore_foreign_runs(tracker):
    a = tracker.start_run(hypothesis_id="H104", kind="record", name="H104")
    b = tracker.start_run(hypothesis_id="H105", kind="record", name="H105")
    foreign = tracker.client.create_run(tracker.experiment_id, run_name="someone else's run").info.run_id
    assert [r.run_id for r in tracker.runs("H104")] == [a]
    every = {r.run_id for r in tracker.runs()}
    assert {a, b} <= every
    assert foreign not in every
    for run_id in (a, b, foreign):
        tracker.end_run(run_id)


def test_tracked_run_ends_finished_failed_or_killed(tracker):
    with tracked_run(tracker, hypothesis_id="H106", kind="run", name="ok") as ok:
        pass
    with pytest.raises(ValueError), tracked_run(tracker, hypothesis_id="H106", kind="run", name="boom") as boom:
        raise ValueError("out of memory, sort of")
    with pytest.raises(KeyboardInterrupt), tracked_run(tracker, hypothesis_id="H106", kind="run",
                                                       name="ctrl-c") as stopped:
        raise KeyboardInterrupt
    status = {r.run_id: r for r in tracker.runs("H106")}
    assert status[ok].status == "FINISHED"
    assert status[boom].status == "FAILED"
    assert status[boom].tags["hyp.error"] == "ValueError: out of memory, sort of"
    assert status[stopped].status == "KILLED"


def test_artifacts_go_in_and_come_back(tracker, tmp_path):
    run_id = tracker.start_run(hypothesis_id="H107", kind="record", name="H107")
    source = tmp_path / "H107.yaml"
    source.write_text("id: H107\n", encoding="utf-8")
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00\x01")
    tracker.log_artifact(run_id, source, "hyp")
    tracker.log_artifact(run_id, folder, "adapter")
    tracker.end_run(run_id)

    back = tracker.download_artifact(run_id, "hyp/H107.yaml", tmp_path / "back")
    assert back.read_text(encoding="utf-8") == "id: H107\n"
    assert tracker.download_artifact(run_id, "adapter/weights.bin", tmp_path / "back2").read_bytes() == b"\x00\x01"
    assert tracker.download_artifact(run_id, "hyp/missing.json", tmp_path / "back3") is None


def test_a_dataset_is_an_mlflow_input_with_its_digest(tracker):
    run_id = tracker.start_run(hypothesis_id="H108", kind="run", name="H108")
    digest = "ab" * 32
    tracker.log_dataset(run_id, DatasetRecord(name="mix", digest=digest, source="data/curated.json", rows=148))
    tracker.end_run(run_id)
    (dataset_input,) = tracker.client.get_run(run_id).inputs.dataset_inputs
    assert dataset_input.dataset.name == "mix"
    assert digest.startswith(dataset_input.dataset.digest)
    assert digest in dataset_input.dataset.profile
    assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == "training"


def test_a_mix_names_every_source_its_schema_and_a_held_out_set_is_an_evaluation_input(tracker):
    """Issue 19, item 7: what MLflow's dataset panel shows for a curated + synthetic mix and a held-out set."""
    import json

    run_id = tracker.start_run(hypothesis_id="H120", kind="run", name="H120")
    columns = {"conversations": "string", "source": "string", "index": "long"}
    tracker.log_dataset(run_id, DatasetRecord(
        name="H120-mix", digest="a" * 64, source="data/curated.json", rows=148, columns=columns,
        sources={"curated": "data/curated.json", "synthetic": "data/synthetic.json"},
        profile={"synthetic_ratio_asked": 0.44, "synthetic_ratio_achieved": 0.32}))
    tracker.log_dataset(run_id, DatasetRecord(name="H120-heldout", digest="b" * 64, source="data/heldout.json",
                                              rows=18, context="evaluation", columns=columns))
    tracker.end_run(run_id)

    inputs = {i.dataset.name: i for i in tracker.client.get_run(run_id).inputs.dataset_inputs}
    mix, heldout = inputs["H120-mix"], inputs["H120-heldout"]
    source = json.loads(mix.dataset.source)
    assert source["uri"].endswith("/data/curated.json")  # what MLflow's own readers take
    assert source["synthetic"].endswith("/data/synthetic.json")
    assert json.loads(mix.dataset.profile)["sources"] == {"curated": "curated.json", "synthetic": "synthetic.json"}
    assert json.loads(mix.dataset.profile)["synthetic_ratio_achieved"] == 0.32
    from mlflow.types import Schema

    schema = Schema.from_json(json.dumps(json.loads(mix.dataset.schema)["mlflow_colspec"]))
    assert schema.input_names() == ["conversations", "source", "index"]
    assert {t.key: t.value for t in heldout.tags}["mlflow.data.context"] == "evaluation"


def test_each_point_of_a_history_keeps_its_own_time_and_an_ended_run_drops_its_owner_tags(tracker):
    """Issue 19, items 3 and 8: MLflow's time axis spreads the points as they were measured; the owner
    tags, needed only while a run is RUNNING, do not follow it into every runs table."""
    run_id = tracker.start_run(hypothesis_id="H121", kind="replicate", name="H121-r0")
    assert set(process_tags()) <= set(tracker.client.get_run(run_id).data.tags)
    tracker.log_metric_history(run_id, "train_loss", [(1, 2.0), (2, 1.5), (3, 1.2)], [1_000, 2_000, 3_500])
    tracker.end_run(run_id)

    history = tracker.client.get_metric_history(run_id, "train_loss")
    assert [(m.step, m.timestamp) for m in history] == [(1, 1_000), (2, 2_000), (3, 3_500)]
    assert not set(process_tags()) & set(tracker.client.get_run(run_id).data.tags)


def test_a_second_tracker_on_the_same_store_shares_the_experiment(tracker, store):
    again = MlflowTracker(store[1], "contract", artifact_root=artifact_root(store))
    assert again.experiment_id == tracker.experiment_id
    assert {r.run_id for r in again.runs()} == {r.run_id for r in tracker.runs()}


def test_an_unusable_store_is_bad_input():
    with pytest.raises(BadInput, match="tracking store"):
        MlflowTracker("bogus://nowhere", "contract")


def test_parallel_commands_on_a_fresh_store_all_succeed(tmp_path):
    """Issue 17, item 8: the first use of a store by four commands at once. MLflow's schema migrations
    raced ("duplicate column name: step", exit 2 for three of four); hyp creates the store one at a time."""
    ids = ["H003", "H004", "H005", "H006"]
    lab = make_lab(tmp_path / "lab", {hid: hypothesis_text(hid) for hid in ids})
    env = {**os.environ, "HYP_NO_PROGRESS": "1"}
    env.pop("HYP_FAULT", None)
    procs = [subprocess.Popen([sys.executable, "-m", "hyp", "record", hid, "--metric", "score=7.5"], cwd=lab,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for hid in ids]
    outcomes = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    assert [code for code, _ in outcomes] == [0] * 4, outcomes
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{lab}/.hyp/mlflow.db")
    found = client.search_runs([client.get_experiment_by_name("registry-tests").experiment_id])
    assert sorted(r.data.tags["hyp.id"] for r in found) == ids


# --- reading a server without MLflow ---------------------------------------------------------------


@pytest.fixture(scope="module")
def server_tracker(mlflow_server):
    return MlflowTracker(mlflow_server, "rest-reads")


def test_a_server_is_read_over_rest_exactly_as_mlflow_reads_it(server_tracker, tmp_path):
    """What `hyp list`, `show`, `compare` and an index rebuild read from a server (RestReader, plain HTTP)
    equals what MlflowClient gives for the same runs."""
    from hyp.store.mlflow_store import _record
    from hyp.store.rest_reader import RestReader

    t = server_tracker
    parent = t.start_run(hypothesis_id="H130", kind="run", name="H130")
    child = t.start_run(hypothesis_id="H130", kind="replicate", name="H130-r0", parent_run_id=parent)
    t.log_params(child, {"training.epochs": 3, "note": "it's"})
    t.log_metrics(child, {"score": 7.25, "nan_metric": float("nan"), "inf_metric": float("inf")})
    t.log_metric_history(child, "train_loss", [(i, 3.0 - i / 10) for i in range(30)])
    t.log_artifact(child, _file(tmp_path / "locked.json", '{"id": "H130"}'), "hyp")
    for run_id in (child, parent):
        t.end_run(run_id)
    other = t.start_run(hypothesis_id="H131", kind="record", name="H131")
    t.end_run(other)

    reader = RestReader.open(t.uri, "rest-reads")
    assert isinstance(t.reader, RestReader) or reader is not None
    from mlflow.entities import ViewType

    expected = [_record(r) for r in t.client.search_runs([t.experiment_id], "tags.`hyp.id` = 'H130'",
                                                         ViewType.ACTIVE_ONLY, order_by=["attributes.start_time ASC"])]
    got = reader.runs("H130")
    assert [r.run_id for r in got] == [r.run_id for r in expected] == [parent, child]
    for mine, theirs in zip(got, expected, strict=True):
        assert (mine.params, mine.tags, mine.status, mine.start_time, mine.end_time, mine.parent_run_id) == \
               (theirs.params, theirs.tags, theirs.status, theirs.start_time, theirs.end_time, theirs.parent_run_id)
        assert mine.metrics.keys() == theirs.metrics.keys()
        assert all(a == b or (a != a and b != b) for a, b in
                   ((mine.metrics[k], theirs.metrics[k]) for k in mine.metrics))  # NaN equals NaN here
    assert {r.run_id for r in reader.runs()} >= {parent, child, other}
    light = {r.run_id: r for r in reader.runs(data=False)}[child]
    assert light.params == {} and light.metrics == {} and all(
        k.startswith("hyp.") or k == "mlflow.parentRunId" for k in light.tags)  # as SqliteReader's data=False
    assert reader.latest_metrics([child])[child]["score"] == 7.25
    assert reader.metric_history(child, "train_loss") == [
        (m.step, m.value) for m in t.client.get_metric_history(child, "train_loss")]
    back = reader.download_artifact(child, "hyp/locked.json", tmp_path / "back")
    assert back.read_text() == '{"id": "H130"}'
    assert reader.download_artifact(child, "hyp/missing.json", tmp_path / "back") is None


def test_every_write_to_a_server_renews_its_change_token(server_tracker, tmp_path):
    """The status index's change check on a server: each kind of write gives the experiment a new token."""
    from hyp.store.rest_reader import server_fingerprint

    t = server_tracker
    seen = [server_fingerprint(t.uri, "rest-reads")]
    run_id = t.start_run(hypothesis_id="H132", kind="record", name="H132")
    writes = [lambda: t.log_params(run_id, {"a": 1}), lambda: t.log_metrics(run_id, {"score": 1.0}),
              lambda: t.log_metric_history(run_id, "loss", [(0, 1.0)]), lambda: t.set_tags(run_id, {"hyp.x": "1"}),
              lambda: t.log_artifact(run_id, _file(tmp_path / "a.txt", "a")), lambda: t.end_run(run_id)]
    seen.append(server_fingerprint(t.uri, "rest-reads"))
    for write in writes:
        write()
        seen.append(server_fingerprint(t.uri, "rest-reads"))
    assert None not in seen and len(set(seen)) == len(seen)
    assert server_fingerprint(t.uri, "no-such-experiment") == "-|no experiment"
    assert server_fingerprint("http://127.0.0.1:1", "rest-reads") is None  # nothing listens: no index shortcut


def _file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
