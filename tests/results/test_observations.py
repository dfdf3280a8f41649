"""From the runs of one hypothesis to what the verdict needs (pure): which run counts, replicates, the lock."""

import json

from hyp.results.observations import Results, results_from_runs
from hyp.store.base import RunRecord


def run(run_id, start, kind="record", status="FINISHED", parent=None, metrics=None, **tags):
    all_tags = {"hyp.id": "H003", "hyp.kind": kind, **{k.replace("_", ".", 1): v for k, v in tags.items()}}
    return RunRecord(run_id=run_id, name="H003", hypothesis_id="H003", kind=kind, status=status, start_time=start,
                     end_time=None, parent_run_id=parent, tags=all_tags, metrics=metrics or {})


def test_no_runs_no_results():
    res = results_from_runs([])
    assert (res.result_run_id, res.evidence, res.lock_sha, res.running) == (None, [], None, [])


def scores(res):
    return [u["score"] for u in res.evidence if "score" in u]


def test_every_finished_result_is_pooled_never_the_latest_alone():
    res = results_from_runs([
        run("a", 1, metrics={"score": 5.0, "points": 32}, hyp_lock="x"),
        run("b", 2, metrics={"score": 9.5}, hyp_lock="x"),
        run("c", 3, status="FAILED", metrics={"score": 1.0}, hyp_lock="x"),
        run("d", 4, status="KILLED", metrics={"score": 2.0}, hyp_lock="x"),
        run("e", 5, kind="trial", metrics={"score": 3.0}),
    ])
    assert res.result_run_id == "b"
    assert scores(res) == [5.0, 9.5]  # failed, killed and trial runs are no evidence
    assert [a.run_id for a in res.attempts] == ["a", "b"]
    assert res.runs == 5


def test_an_unrelated_record_does_not_push_a_hypothesis_back_to_pending():
    res = results_from_runs([run("a", 1, metrics={"score": 9.4}, hyp_lock="x"),
                             run("b", 2, metrics={"tokens": 12.0}, hyp_lock="x")])
    assert scores(res) == [9.4]


def test_a_superseded_result_leaves_the_evidence_but_stays_listed():
    res = results_from_runs([
        run("a", 1, metrics={"score": 2.0}, hyp_lock="x"),
        run("b", 2, metrics={"score": 9.0}, hyp_lock="x", hyp_supersedes="a", hyp_supersede_reason="bad eval"),
        run("c", 3, status="FAILED", metrics={"score": 1.0}, hyp_lock="x", hyp_supersedes="b",
            hyp_supersede_reason="x"),
    ])
    assert scores(res) == [9.0]  # a failed run supersedes nothing
    first = res.attempts[0]
    assert (first.evidence, first.superseded_by, first.supersede_reason) == (False, "b", "bad eval")


def test_runs_with_set_deviations_are_listed_beside_the_evidence():
    deviation = json.dumps([{"key": "training.epochs", "registered": 6, "used": 2}])
    more = json.dumps([{"key": "replicates", "registered": 1, "used": 3}])
    res = results_from_runs([run("a", 1, metrics={"score": 9.0}, hyp_lock="x", hyp_deviations=deviation),
                             run("b", 2, metrics={"score": 5.0}, hyp_lock="x", hyp_deviations=more)])
    assert scores(res) == [5.0]  # more replicates are not a deviation
    assert res.attempts[0].evidence is False and res.attempts[0].deviations[0]["key"] == "training.epochs"


def test_deleted_or_unlocked_result_runs_are_tampering():
    assert results_from_runs([run("a", 1, metrics={"score": 1.0})]).tampering  # results without a lock
    gap = results_from_runs([run("b", 2, metrics={"score": 1.0}, hyp_lock="x", hyp_seq="2")])
    assert "deleted" in gap.tampering[0]
    whole = results_from_runs([run("a", 1, hyp_lock="x", hyp_seq="1"), run("b", 2, hyp_lock="x", hyp_seq="2")])
    assert whole.tampering == []


def test_replicates_of_every_run_are_the_evidence():
    res = results_from_runs([
        run("old", 1, kind="run", hyp_lock="x"),
        run("old-1", 2, kind="replicate", parent="old", metrics={"score": 1.0}),
        run("p", 3, kind="run", metrics={"score": 9.0}, hyp_lock="x"),
        run("p-1", 4, kind="replicate", parent="p", metrics={"score": 8.5}),
        run("p-2", 5, kind="replicate", parent="p", metrics={"score": 9.0}),
        run("p-3", 6, kind="replicate", parent="p", metrics={"score": 9.5}),
        run("p-4", 7, kind="replicate", parent="p", status="FAILED", metrics={"score": 0.0}),
    ])
    assert res.result_run_id == "p"
    assert res.child_run_ids == ["p-1", "p-2", "p-3"]
    assert sorted(scores(res)) == [1.0, 8.5, 9.0, 9.5]


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
