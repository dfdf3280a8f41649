"""From the runs of one hypothesis to what the verdict needs (pure): which run counts, replicates, the lock."""

import json

from hyp.trackers.base import RunRecord
from hyp.trackers.observations import Results, results_from_runs


def run(run_id, start, kind="record", status="FINISHED", parent=None, metrics=None, **tags):
    all_tags = {"hyp.id": "H003", "hyp.kind": kind, **{k.replace("_", ".", 1): v for k, v in tags.items()}}
    return RunRecord(run_id=run_id, name="H003", hypothesis_id="H003", kind=kind, status=status, start_time=start,
                     end_time=None, parent_run_id=parent, tags=all_tags, metrics=metrics or {})


def test_no_runs_no_results():
    res = results_from_runs([])
    assert (res.result_run_id, res.observations, res.lock_sha, res.running) == (None, {}, None, [])


def test_the_latest_finished_result_run_counts_alone():
    res = results_from_runs([
        run("a", 1, metrics={"score": 5.0, "points": 32}),
        run("b", 2, metrics={"score": 9.5}),
        run("c", 3, status="FAILED", metrics={"score": 1.0}),
        run("d", 4, status="KILLED", metrics={"score": 2.0}),
        run("e", 5, kind="trial", metrics={"score": 3.0}),
    ])
    assert res.result_run_id == "b"
    assert res.observations == {"score": [9.5]}  # nothing of 'a' leaks in
    assert res.runs == 5


def test_replicates_of_the_latest_run_are_the_observations():
    res = results_from_runs([
        run("old", 1, kind="run"),
        run("old-1", 2, kind="replicate", parent="old", metrics={"score": 1.0}),
        run("p", 3, kind="run", metrics={"score": 9.0}),
        run("p-1", 4, kind="replicate", parent="p", metrics={"score": 8.5}),
        run("p-2", 5, kind="replicate", parent="p", metrics={"score": 9.0}),
        run("p-3", 6, kind="replicate", parent="p", metrics={"score": 9.5}),
        run("p-4", 7, kind="replicate", parent="p", status="FAILED", metrics={"score": 0.0}),
    ])
    assert res.result_run_id == "p"
    assert res.child_run_ids == ["p-1", "p-2", "p-3"]
    assert sorted(res.observations["score"]) == [8.5, 9.0, 9.5]


def test_the_first_locking_run_holds_the_lock():
    res = results_from_runs([
        run("s", 1, kind="sweep", hyp_lock="aaa"),
        run("r", 2, hyp_lock="bbb", metrics={"score": 1.0}),
        run("child", 3, kind="replicate", parent="r", hyp_lock="ccc"),
    ])
    assert (res.lock_sha, res.lock_run_id) == ("aaa", "s")
    assert res.result_run_id == "r"  # a sweep locks but is not a result


def test_amendments_are_read_in_time_order_and_broken_ones_skipped():
    def amendment(t, reason):
        return json.dumps({"time": t, "reason": reason, "from_sha": "a", "to_sha": "b", "changes": []})

    res = results_from_runs([run("r", 1, hyp_lock="a", **{"hyp.amendment.2": amendment("2026-02-13", "second"),
                                                         "hyp.amendment.1": amendment("2026-02-12", "first"),
                                                         "hyp.amendment.3": "{not json"})])
    assert [a.reason for a in res.amendments] == ["first", "second"]


def test_running_runs_carry_their_owner():
    res = results_from_runs([run("r", 1, kind="run", status="RUNNING", hyp_pid="123", hyp_host="box",
                                 hyp_proc_start="42")])
    assert res.running == [{"run_id": "r", "hyp.pid": "123", "hyp.host": "box", "hyp.proc_start": "42"}]
    assert res.result_run_id is None


def test_results_survive_the_index_round_trip():
    res = results_from_runs([run("r", 1, hyp_lock="a", metrics={"score": 4.5},
                                 **{"hyp.amendment.1": json.dumps({"time": "t", "reason": "why", "from_sha": "a",
                                                                   "to_sha": "b", "changes": []})})])
    assert Results.from_json(json.loads(json.dumps(res.to_json()))) == res
