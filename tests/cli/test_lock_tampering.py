"""A lock that holds (SPEC §3): what the verdict depends on outside the file is locked too, and a lock
removed or rewritten in the store, or result runs deleted, is `broken` (exit 3), never intact."""

from __future__ import annotations

import json

import pytest

from conftest import make_lab, mlflow_runs, run_hyp, store_uri


def csv_of(rows) -> str:
    return "question,agent,factual,personality,complete\n" + "".join(
        f"Q{i},{','.join(map(str, r))}\n" for i, r in enumerate(rows, start=1))


@pytest.fixture
def lab(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    r = run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab)
    assert r.code == 0, r
    return lab


def client(lab):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=store_uri(lab))


def verdict(lab, *args):
    return run_hyp("verdict", "H003", "--json", *args, lab=lab)


def test_the_first_results_pin_the_lock_in_the_lab(lab):
    pinned = (lab / "hypotheses" / ".locks" / "H003.sha256").read_text().split()[0]
    v = verdict(lab)
    assert v.code == 0 and v.json["lock"]["status"] == "intact"
    assert pinned == v.json["lock"]["sha256"]


def test_deleting_the_lock_tag_breaks_the_lock(lab):
    (run,) = mlflow_runs(lab, "H003")
    client(lab).delete_tag(run.info.run_id, "hyp.lock")
    for args in ((), ("--check",)):
        v = verdict(lab, *args)
        assert v.code == 3, v
        assert v.json["lock"]["status"] == "broken"
    assert "LOCK-BROKEN" in run_hyp("list", lab=lab).out


def test_rewriting_the_lock_tag_to_the_edited_file_breaks_the_lock(lab):
    path = lab / "hypotheses" / "H003.yaml"
    path.write_text(path.read_text().replace('op: ">=", value: 9.0}', 'op: ">=", value: 4.0}', 1))
    edited = verdict(lab)
    assert edited.code == 3 and edited.json["lock"]["status"] == "amended-after-results"
    (run,) = mlflow_runs(lab, "H003")
    client(lab).set_tag(run.info.run_id, "hyp.lock", edited.json["lock"]["current"])
    v = verdict(lab)
    assert v.code == 3, v
    assert v.json["lock"]["status"] == "broken"
    assert any("locked copy" in p for p in v.json["lock"]["problems"])


def test_deleting_a_result_run_breaks_the_lock(lab):
    assert run_hyp("record", "H003", "--metric", "score=5", lab=lab).code == 0
    runs = sorted(mlflow_runs(lab, "H003"), key=lambda r: r.info.start_time)
    client(lab).delete_run(runs[0].info.run_id)
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken"
    assert any("deleted" in p for p in v.json["lock"]["problems"])
    # No more results on a broken lock.
    assert run_hyp("record", "H003", "--metric", "score=9", lab=lab).code == 3


def test_deleting_the_newest_result_run_breaks_the_lock(lab):
    """The store's own sequence cannot see the newest run go: the lab's pin file lists every result."""
    assert run_hyp("record", "H003", "--metric", "score=2", lab=lab).code == 0
    newest = max(mlflow_runs(lab, "H003"), key=lambda r: r.info.start_time)
    client(lab).delete_run(newest.info.run_id)
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken", v
    assert any(newest.info.run_id in p for p in v.json["lock"]["problems"])


@pytest.mark.parametrize("how", ["failed", "moved"])
def test_taking_the_newest_result_out_of_the_store_another_way_breaks_the_lock(lab, how):
    assert run_hyp("record", "H003", "--metric", "score=2", lab=lab).code == 0
    newest = max(mlflow_runs(lab, "H003"), key=lambda r: r.info.start_time)
    if how == "failed":
        client(lab).set_terminated(newest.info.run_id, "FAILED")
    else:
        client(lab).set_tag(newest.info.run_id, "hyp.id", "H099")
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken", v


def test_deleting_every_result_run_breaks_the_lock_the_lab_pinned(lab):
    for run in mlflow_runs(lab, "H003"):
        client(lab).delete_run(run.info.run_id)
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken", v
    assert run_hyp("record", "H003", "--metric", "score=9", lab=lab).code == 3


def test_deviations_written_onto_a_record_break_the_lock(lab):
    (run,) = mlflow_runs(lab, "H003")
    client(lab).set_tag(run.info.run_id, "hyp.deviations", json.dumps([{"key": "training.epochs", "value": 1}]))
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken", v


def test_a_json_tag_nested_too_deep_is_tampering_not_a_crash(lab):
    """Python's JSON decoder recurses: a `hyp.deviations` tag of 3,000 `[` made every reading command exit 1
    with a RecursionError. It is an unreadable tag on a record, so the lock is broken, and every command answers."""
    (run,) = mlflow_runs(lab, "H003")
    client(lab).set_tag(run.info.run_id, "hyp.deviations", "[" * 3000 + "]" * 3000)
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken", v
    for command in (["list", "--json"], ["show", "H003"], ["report", "H003"]):
        r = run_hyp(*command, lab=lab)
        assert r.code in (0, 3) and "Recursion" not in r.err and "internal error" not in r.err, (command, r)


def test_a_broken_lock_is_judged_against_what_was_registered(tmp_path, blank_store):
    """Rewriting every lock tag to an edited file's hash breaks the lock, and the edit does not count."""
    lab = make_lab(tmp_path / "lab", store=blank_store)
    rows = [[2, 2, 2, 2]] * 5 + [[2, 2, 1, 1]] * 3  # 9.06: INCONCLUSIVE against >= 9.0, CONFIRMED against >= 6
    (lab / "s.csv").write_text(csv_of(rows))
    assert run_hyp("record", "H003", "--scores", lab / "s.csv", lab=lab).code == 0
    path = lab / "hypotheses" / "H003.yaml"
    path.write_text(path.read_text().replace('op: ">=", value: 9.0}', 'op: ">=", value: 6.0}', 1))
    current = verdict(lab).json["lock"]["current"]
    for run in mlflow_runs(lab, "H003"):
        client(lab).set_tag(run.info.run_id, "hyp.lock", current)
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken"
    assert v.json["verdict"] == "INCONCLUSIVE"
    listed = run_hyp("list", "--json", lab=lab).json
    assert [h["status"] for h in listed if h["id"] == "H003"] == ["INCONCLUSIVE"]


def test_a_store_lock_that_disagrees_with_the_pinned_one_is_broken(lab):
    pin = lab / "hypotheses" / ".locks" / "H003.sha256"
    pin.write_text("0" * 64 + "  H003\n")
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken"


def test_editing_the_index_does_not_pass_check(lab):
    index = lab / ".hyp" / "index.json"
    assert run_hyp("list", lab=lab).code == 0
    data = json.loads(index.read_text())
    data["hypotheses"]["H003"]["evidence"] = [{"score": 10.0}]
    index.write_text(json.dumps(data))
    assert run_hyp("verdict", "H003", "--check", lab=lab).code == 1  # still REJECTED, read from the store
    # Nor does any other reader take the edit: the index no longer matches its digest and is read again.
    assert verdict(lab).json["verdict"] == "REJECTED"
    assert [h["status"] for h in run_hyp("list", "--json", lab=lab).json if h["id"] == "H003"] == ["REJECTED"]
    assert "REJECTED" in run_hyp("show", "H003", lab=lab).out


def test_editing_the_suite_after_results_is_a_change_to_the_registration(lab):
    suite = lab / "evals" / "personality.yaml"
    suite.write_text(suite.read_text().replace("facts:", "facts: [[anything]]\n    old_facts:", 1)
                     if False else suite.read_text() + "\n# a comment only: the content is unchanged\n")
    assert verdict(lab).json["lock"]["status"] == "intact"  # formatting is free
    text = suite.read_text()
    first_q = text.index("prompt:")
    suite.write_text(text[:first_q] + text[first_q:].replace("prompt:", "prompt: Reworded -", 1))
    v = verdict(lab)
    assert v.code == 3, v
    assert v.json["lock"]["status"] == "amended-after-results"
    assert any(c["field"].startswith("inputs.suite") for c in v.json["lock"]["changes"])


def test_editing_a_dataset_file_after_results_is_a_change_to_the_registration(lab):
    data = sorted((lab / "data").glob("*.json"))[0]
    data.write_text(data.read_text() + "\n")
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "amended-after-results"
    assert any(c["field"].startswith("inputs.data") for c in v.json["lock"]["changes"])


def test_one_run_of_eight_questions_straddling_the_bar_is_inconclusive(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    rows = [[2, 2, 2, 2]] * 5 + [[2, 2, 1, 1]] * 3  # 8,8,8,8,8,6,6,6: 9.06 against score >= 9.0
    (lab / "s.csv").write_text(csv_of(rows))
    assert run_hyp("record", "H003", "--scores", lab / "s.csv", lab=lab).code == 0
    v = verdict(lab).json
    assert v["observations"]["score"]["estimate"] == pytest.approx(9.0625, abs=1e-3)
    assert v["verdict"] == "INCONCLUSIVE"
    assert v["more_replicates"] is None or v["more_replicates"] >= 1


def test_a_lab_whose_first_result_was_killed_finds_the_locked_copy_it_logged(lab):
    """Before issue 17's fix a first run killed mid-way kept the locked copy, while the run after it, which
    now holds the lock, logged none: every later verdict read "locked copy missing". Such a lab reads intact:
    a copy on another run of the same lock counts when it is exactly what the lock's hash says."""
    assert run_hyp("record", "H003", "--metric", "score=5", lab=lab).code == 0
    first, second = sorted(mlflow_runs(lab, "H003"), key=lambda r: r.info.start_time)
    c = client(lab)
    assert c.list_artifacts(second.info.run_id, "hyp") and not any(
        a.path.endswith("locked.json") for a in c.list_artifacts(second.info.run_id, "hyp"))
    # The killed first run: never finished, so never pinned as a result.
    c.set_terminated(first.info.run_id, "KILLED")
    pin = lab / "hypotheses" / ".locks" / "H003.sha256"
    pin.write_text("".join(line + "\n" for line in pin.read_text().splitlines() if first.info.run_id not in line))
    (lab / ".hyp" / "index.json").unlink()  # read from the store, as a fresh checkout of the lab would
    v = verdict(lab)
    assert v.code == 0 and v.json["lock"]["status"] == "intact", v.json["lock"]


def test_a_copy_on_another_run_that_does_not_match_the_lock_is_not_taken(lab):
    assert run_hyp("record", "H003", "--metric", "score=5", lab=lab).code == 0
    first, _ = sorted(mlflow_runs(lab, "H003"), key=lambda r: r.info.start_time)
    c = client(lab)
    c.set_terminated(first.info.run_id, "KILLED")
    pin = lab / "hypotheses" / ".locks" / "H003.sha256"
    pin.write_text("".join(line + "\n" for line in pin.read_text().splitlines() if first.info.run_id not in line))
    forged = lab / "locked.json"
    forged.write_text(json.dumps({"statement": "something else"}))
    c.log_artifact(first.info.run_id, str(forged), "hyp")  # replaces the real copy
    (lab / ".hyp" / "index.json").unlink()
    v = verdict(lab)
    assert v.code == 3 and v.json["lock"]["status"] == "broken"
    assert any("locked copy" in p for p in v.json["lock"]["problems"])
