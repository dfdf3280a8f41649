"""The lock as a user meets it: editing after results, `hyp verdict` exiting 3, and `hyp amend`."""

import pytest

from conftest import H003_YAML, hypothesis_text, make_lab, mlflow_runs, run_hyp


def edit(old, new, text):
    assert old in text, old
    return text.replace(old, new, 1)


def many_predictions(hid: str) -> str:
    label = "a long label about how question Q{} should go, as the report put it"
    preds = "".join(f'  - {{label: "Prediction {i}: {label.format(i % 8 + 1)}", '
                    f'metric: Q{i % 8 + 1}.total, op: ">=", value: {i % 5}}}\n' for i in range(30))
    head, tail = hypothesis_text(hid).split("predictions:\n")
    return head + "predictions:\n" + preds + "\nsuccess_criteria:" + tail.split("\nsuccess_criteria:")[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, blank_store):
    root = make_lab(tmp_path_factory.mktemp("amend") / "lab",
                    {"H003": H003_YAML, "H005": hypothesis_text("H005"), "H006": many_predictions("H006")},
                    store=blank_store)
    r = run_hyp("record", "H003", "--scores", root / "scores.csv", lab=root)
    assert r.code == 0, r
    return root


@pytest.fixture
def h003(lab):
    """H003's file, put back as it was after the test."""
    path = lab / "hypotheses" / "H003.yaml"
    original = path.read_text(encoding="utf-8")
    yield path
    path.write_text(original, encoding="utf-8")


FREE = {
    "title": ("title: Hybrid curated + synthetic data reaches 9/10", "title: Hybrid mix (did not reach 9/10)"),
    "rationale": ('"slightly more training for synthetic data"', '"six epochs, for the synthetic part"'),
    "on_failure": ("    title: Revert to pure curation", "    title: Go back to curated data only"),
    "explicit default": ("temperature: 0.7}", "temperature: 0.7, samples: 1, top_p: 0.9}"),
}


@pytest.mark.parametrize("case", list(FREE))
def test_free_edits_after_results_keep_the_verdict_and_the_lock(h003, lab, case):
    h003.write_text(edit(*FREE[case], h003.read_text(encoding="utf-8")), encoding="utf-8")
    r = run_hyp("verdict", "H003", "--json", lab=lab)
    assert r.code == 0, r
    assert r.json["lock"]["status"] == "intact"
    assert r.json["verdict"] == "REJECTED"


def test_changing_a_prediction_after_results_is_shown_and_exits_3(h003, lab):
    h003.write_text(edit('op: ">=", value: 7}', 'op: ">=", value: 6}', h003.read_text(encoding="utf-8")),
                    encoding="utf-8")

    text = run_hyp("verdict", "H003", lab=lab)
    assert text.code == 3
    assert "AMENDED-AFTER-RESULTS" in text.out
    assert "predictions" in text.out
    assert len(text.err_lines) == 1
    assert "hyp amend H003" in text.err

    data = run_hyp("verdict", "H003", "--json", lab=lab)
    assert data.code == 3
    lock = data.json["lock"]
    assert lock["status"] == "amended-after-results"
    (change,) = lock["changes"]
    assert change["field"].startswith("predictions")
    assert "7.0" in str(change["old"]) and "6.0" not in str(change["old"])
    assert "6.0" in str(change["new"])

    for command in (["show", "H003"], ["list"]):
        assert "AMENDED-AFTER-RESULTS" in run_hyp(*command, lab=lab).out
    listed = {row["id"]: row for row in run_hyp("list", "--json", lab=lab).json}
    assert listed["H003"]["status"] == "REJECTED"


def test_recording_again_after_an_unrecorded_change_exits_3_and_logs_nothing(h003, lab):
    h003.write_text(edit("epochs: 6", "epochs: 5", h003.read_text(encoding="utf-8")), encoding="utf-8")
    runs_before = len(mlflow_runs(lab, "H003"))
    r = run_hyp("record", "H003", "--metric", "score=9.9", lab=lab)
    assert r.code == 3
    assert len(r.err_lines) == 1
    assert "experiment.training.epochs" in r.err
    assert len(mlflow_runs(lab, "H003")) == runs_before


def test_lowering_the_threshold_after_results_does_not_change_the_verdict(h003, lab):
    h003.write_text(edit('op: ">=", value: 9.0}', 'op: ">=", value: 4.0}', h003.read_text(encoding="utf-8")),
                    encoding="utf-8")
    r = run_hyp("verdict", "H003", "--json", lab=lab)
    assert r.code == 3
    assert r.json["verdict"] == "REJECTED"  # judged against what was registered
    assert r.json["lock"]["changes"] == [{"field": "success_criteria.primary.value", "old": 9.0, "new": 4.0}]
    assert run_hyp("verdict", "H003", "--check", lab=lab).code == 3
    text = run_hyp("verdict", "H003", lab=lab).out
    assert "success_criteria.primary.value" in text and "9" in text and "4" in text


def test_undoing_the_change_restores_the_lock(h003, lab):
    original = h003.read_text(encoding="utf-8")
    h003.write_text(edit("epochs: 6", "epochs: 5", original), encoding="utf-8")
    assert run_hyp("verdict", "H003", lab=lab).code == 3
    h003.write_text(original, encoding="utf-8")
    r = run_hyp("verdict", "H003", "--json", lab=lab)
    assert r.code == 0
    assert r.json["lock"]["status"] == "intact"


def test_amend_records_the_change_with_its_reason(lab):
    path = lab / "hypotheses" / "H005.yaml"
    assert run_hyp("record", "H005", "--scores", lab / "scores.csv", lab=lab).code == 0
    assert run_hyp("amend", "H005", "--reason", "nothing to amend yet", lab=lab).code == 2

    path.write_text(edit('op: ">=", value: 9.0}', 'op: ">=", value: 2.0}', path.read_text(encoding="utf-8")),
                    encoding="utf-8")
    assert run_hyp("verdict", "H005", lab=lab).code == 3
    assert run_hyp("amend", "H005", "--reason", "   ", lab=lab).code == 2

    amended = run_hyp("amend", "H005", "--reason", "the 9.0 threshold was a typo for 2.0", lab=lab)
    assert amended.code == 0, amended

    r = run_hyp("verdict", "H005", "--json", lab=lab)
    assert r.code == 0, r
    lock = r.json["lock"]
    assert lock["status"] == "amended"
    assert [a["reason"] for a in lock["amendments"]] == ["the 9.0 threshold was a typo for 2.0"]
    assert lock["amendments"][0]["changes"] == [{"field": "success_criteria.primary.value", "old": 9.0, "new": 2.0}]
    assert r.json["verdict"] == "CONFIRMED"  # judged under the amended, recorded threshold
    assert "the 9.0 threshold was a typo for 2.0" in run_hyp("verdict", "H005", lab=lab).out
    assert {row["id"]: row["lock"] for row in run_hyp("list", "--json", lab=lab).json}["H005"] == "amended"
    (run,) = mlflow_runs(lab, "H005")
    assert run.data.tags["hyp.verdict"] == "CONFIRMED"

    # Title edits stay free after an amendment; a second locked change needs a second amendment.
    path.write_text(edit("title: Hybrid", "title: The hybrid", path.read_text(encoding="utf-8")), encoding="utf-8")
    assert run_hyp("verdict", "H005", lab=lab).code == 0
    path.write_text(edit("epochs: 6", "epochs: 5", path.read_text(encoding="utf-8")), encoding="utf-8")
    again = run_hyp("verdict", "H005", "--json", lab=lab)
    assert again.code == 3
    assert again.json["lock"]["changes"] == [{"field": "experiment.training.epochs", "old": 6, "new": 5}]
    assert run_hyp("amend", "H005", "--reason", "ran with five epochs", lab=lab).code == 0
    final = run_hyp("verdict", "H005", "--json", lab=lab)
    assert final.code == 0
    assert [a["reason"] for a in final.json["lock"]["amendments"]] == ["the 9.0 threshold was a typo for 2.0",
                                                                       "ran with five epochs"]


def test_a_large_amendment_can_be_followed_by_another_change(lab):
    path = lab / "hypotheses" / "H006.yaml"
    assert run_hyp("record", "H006", "--scores", lab / "scores.csv", lab=lab).code == 0
    # A prediction added: the whole list changed, too large for an MLflow tag (one relabelled prediction would
    # be recorded as that one label).
    path.write_text(edit("predictions:\n", "predictions:\n  - {label: \"Prediction 3: a longer one\", metric: points, "
                         "op: '>', value: 1}\n", path.read_text(encoding="utf-8")), encoding="utf-8")
    assert run_hyp("amend", "H006", "--reason", "relabelled a prediction", lab=lab).code == 0
    amended = run_hyp("verdict", "H006", "--json", lab=lab)
    assert amended.code == 0
    (amendment,) = amended.json["lock"]["amendments"]
    assert amendment["reason"] == "relabelled a prediction"
    (change,) = amendment["changes"]  # kept whole, though too large for an MLflow tag
    assert change["field"] == "predictions"
    assert [p["label"] for p in change["new"]][0].startswith("Prediction 3: a longer") and len(change["new"]) == 31
    path.write_text(edit('op: ">=", value: 9.0}', 'op: ">=", value: 8.0}', path.read_text(encoding="utf-8")),
                    encoding="utf-8")
    r = run_hyp("verdict", "H006", "--json", lab=lab)
    assert r.code == 3, r
    assert r.json["lock"]["changes"] == [{"field": "success_criteria.primary.value", "old": 9.0, "new": 8.0}]
