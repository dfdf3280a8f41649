"""`hyp record --scores` in MLflow's trace view (SPEC §6): one trace per answer, the question as its
request, the answer's text as its output when the CSV gives it, the person's points as HUMAN assessments
and the rubric's on the same text as CODE ones, so the two can be read side by side."""

from __future__ import annotations

import json

from conftest import H003_SCORES, make_lab, mlflow_runs, run_hyp, store_uri

PROMPTS = {"Q1": "Who is João?", "Q2": "What is Molting?"}


def traces_of(lab, hid: str) -> dict:
    from mlflow import MlflowClient

    (run,) = mlflow_runs(lab, hid)
    client = MlflowClient(tracking_uri=store_uri(lab))
    found = client.search_traces(locations=[run.info.experiment_id], run_id=run.info.run_id)
    return {t.info.tags["hyp.question"]: t for t in found}


def assessments(trace) -> dict[tuple[str, str], tuple[int, str]]:
    return {(a.name, a.source.source_type): (a.value, a.rationale) for a in trace.info.assessments}


def test_hand_scores_with_responses_trace_the_answer_with_human_and_rubric_assessments(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    suite = lab / "evals" / "personality.yaml"
    suite.write_text("\n".join(suite.read_text(encoding="utf-8").splitlines()[:7]) + "\n", encoding="utf-8")
    texts = {"Q1": "João is the founder of Softtor; direct, TypeScript.", "Q2": "Let me analyze. No idea."}
    (lab / "s.csv").write_text("question,agent,factual,personality,complete,response\n"
                               f'Q1,2,2,2,2,"{texts["Q1"]}"\nQ2,2,0,0,2,"{texts["Q2"]}"\n', encoding="utf-8")
    assert run_hyp("record", "H003", "--scores", lab / "s.csv", lab=lab).code == 0

    traces = traces_of(lab, "H003")
    assert sorted(traces) == ["Q1", "Q2"]  # one per answer, not one for the person and one for the rubric
    for qid, trace in traces.items():
        (span,) = trace.data.spans
        assert span.inputs == {"question": PROMPTS[qid], "question_id": qid}
        assert span.outputs == {"answer": texts[qid]}
        assert trace.info.response_preview == texts[qid]  # what the UI's trace list shows
    q2 = assessments(traces["Q2"])
    assert q2[("agent", "HUMAN")] == (2, "scored by hand")
    assert q2[("agent", "CODE")] == (1, "1/2: 1 agent-like phrase")  # "Let me analyze"
    assert {source for _, source in q2} == {"HUMAN", "CODE"}
    assert len(traces["Q1"].info.assessments) == 8  # four criteria, by the person and by the rubric

    (run,) = mlflow_runs(lab, "H003")
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=store_uri(lab))
    path = client.download_artifacts(run.info.run_id, "answers.json", str(tmp_path))
    logged = json.loads(open(path, encoding="utf-8").read())
    hand = [a for a in logged if a.get("source") == "hand"]
    assert [a["response"] for a in hand] == [texts["Q1"], texts["Q2"]]
    assert hand[1]["rubric"]["agent"] == 1 and hand[1]["trace_id"] == traces["Q2"].info.trace_id


def test_hand_scores_without_responses_trace_the_question_and_the_persons_points(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0

    traces = traces_of(lab, "H003")
    assert len(traces) == len(H003_SCORES)
    (span,) = traces["Q1"].data.spans
    assert span.inputs == {"question": "Who is João?", "question_id": "Q1"} and span.outputs == {"answer": None}
    q1 = assessments(traces["Q1"])
    assert {source for _, source in q1} == {"HUMAN"}  # no text: nothing for the rubric to score
    assert {name: value for (name, _), (value, _) in q1.items()} == dict(
        zip(("agent", "factual", "personality", "complete"), H003_SCORES[0][1:], strict=True))
