"""Answers as MLflow traces, against real MLflow on a temporary SQLite store: what a person opening
the run's traces in the MLflow UI reads (the question, the answer, who gave which points and why)."""

import shutil
import socket

import pytest

from hyp.store.mlflow_store import MlflowTracker
from hyp.store.traces import answer_traces, log_answer_traces, log_human_assessments, rubric_rationale

PROMPTS = {"Q1": "Who is João?", "Q2": "What is Molting?", "Q3": "What is Moltbook?",
           "Q4": "What is your tech stack?", "Q5": "What are you working on?", "Q6": "How do you test?",
           "Q7": "What GPU do you use?", "Q8": "Who are you?"}


def answer(qid: str, response: str, agent=2, factual=2, personality=2, complete=2, **extra) -> dict:
    counted = {"agent_patterns": 0, "facts_met": 2, "facts_total": 2, "markers": 2, "wrong_identity": False,
               "hallucination": False, "template_leak": False, "truncated": False}
    return {"question": qid, "prompt": PROMPTS[qid], "sample": 0, "response": response, "agent": agent,
            "factual": factual, "personality": personality, "complete": complete,
            "total": agent + factual + personality + complete, "flags": [], **counted, **extra}


ANSWERS = [
    answer("Q1", "João is the founder of Softtor.", personality=1, markers=1),
    answer("Q2", "Molting is my personality model on TinyLlama.", factual=1, facts_met=1,
           sources={"factual": "judge"}, judge_model="qwen2.5-7b-instruct",
           rationales={"factual": "names the model but not what it is for"}),
    answer("Q3", "I'll start by explaining: Moltbook is a social network for agents.", agent=1, agent_patterns=1),
    answer("Q4", "TypeScript, Next.js and Prisma.", personality=1, markers=1),
    answer("Q5", "A CRM at Softtor, in", complete=1, truncated=True),
    answer("Q6", "TDD: a failing test first, red then green.", personality=0, markers=0),
    answer("Q7", "An RTX 3050 with 4 GB of VRAM.", personality=0, markers=0),
    answer("Q8", "I am Gabriel, a developer.", personality=0, wrong_identity=True, sources={"personality": "hand"}),
]


@pytest.fixture(scope="module")
def tracker(tmp_path_factory, blank_store):
    root = tmp_path_factory.mktemp("traces")
    shutil.copyfile(blank_store, root / "mlflow.db")
    return MlflowTracker(f"sqlite:///{root / 'mlflow.db'}", "traces", artifact_root=root / "artifacts")


@pytest.fixture(scope="module")
def logged(tracker):
    run_id = tracker.start_run(hypothesis_id="H004", kind="run", name="H004")
    other = tracker.start_run(hypothesis_id="H005", kind="run", name="H005")
    trace_ids = tracker.log_answer_traces(run_id, ANSWERS)  # the Tracker method hyp's commands call
    log_answer_traces(tracker, other, ANSWERS[:2])
    tracker.end_run(run_id)
    tracker.end_run(other)
    return run_id, trace_ids


def test_every_answer_is_a_trace_of_its_run_with_the_question_and_the_answer(tracker, logged):
    run_id, trace_ids = logged
    found = tracker.client.search_traces(locations=[tracker.experiment_id], run_id=run_id, max_results=100)

    assert len(trace_ids) == 8 and len(set(trace_ids)) == 8
    assert sorted(t.info.trace_id for t in found) == sorted(trace_ids)  # the other run's two are not among them
    for trace_id, given in zip(trace_ids, ANSWERS, strict=True):
        trace = tracker.client.get_trace(trace_id, display=False)
        (span,) = trace.data.spans
        assert span.name == given["question"]
        assert span.inputs == {"question": given["prompt"], "question_id": given["question"]}
        assert span.outputs == {"answer": given["response"]}
        assert trace.info.request_preview == given["prompt"]  # the Request column of the UI's list
        assert trace.info.response_preview == given["response"]
        assert trace.info.trace_metadata["mlflow.sourceRun"] == run_id
        assert trace.info.tags["hyp.id"] == "H004"
        assert trace.info.experiment_id == tracker.experiment_id


def test_each_criterion_has_one_assessment_saying_who_gave_it_and_why(tracker, logged):
    _, trace_ids = logged
    traces = [tracker.client.get_trace(t, display=False) for t in trace_ids]
    by_name = [{a.name: a for a in t.info.assessments} for t in traces]

    for given, assessments in zip(ANSWERS, by_name, strict=True):
        assert sorted(assessments) == ["agent", "complete", "factual", "personality"]
        assert {c: a.value for c, a in assessments.items()} == {c: given[c] for c in assessments}
    q1, q2, q3, q5, q8 = by_name[0], by_name[1], by_name[2], by_name[4], by_name[7]
    assert (q1["factual"].source.source_type, q1["factual"].source.source_id) == ("CODE", "hyp rubric")
    assert q1["factual"].rationale == "2/2: facts 2/2"
    assert q1["personality"].rationale == "1/2: 1 persona marker"
    assert (q2["factual"].source.source_type, q2["factual"].source.source_id) == ("LLM_JUDGE", "qwen2.5-7b-instruct")
    assert q2["factual"].rationale == "names the model but not what it is for"
    assert q2["agent"].source.source_type == "CODE"  # only the judged criterion comes from the judge
    assert q3["agent"].rationale == "1/2: 1 agent-like phrase"
    assert q5["complete"].rationale == "1/2: cut at max_new_tokens"
    assert q8["personality"].source.source_type == "HUMAN"
    assert q8["personality"].rationale == "scored by hand"


def test_a_human_score_added_later_appears_beside_the_rubric(tracker, logged):
    run_id, trace_ids = logged
    found = answer_traces(tracker, run_id)
    assert found == {(a["question"], 0): t for a, t in zip(ANSWERS, trace_ids, strict=True)}

    tracker.log_human_assessments(found[("Q6", 0)], {"agent": 2, "factual": 1, "personality": 2, "complete": 2},
                                  "João", rationales={"personality": "direct, as Cláudio is"})

    assessments = tracker.client.get_trace(found[("Q6", 0)], display=False).info.assessments
    human = {a.name: a for a in assessments if a.source.source_type == "HUMAN"}
    rubric = {a.name: a for a in assessments if a.source.source_type == "CODE"}
    assert {c: a.value for c, a in human.items()} == {"agent": 2, "factual": 1, "personality": 2, "complete": 2}
    assert {a.source.source_id for a in human.values()} == {"João"}
    assert human["personality"].rationale == "direct, as Cláudio is"
    assert human["agent"].rationale == "scored by hand (João)"
    assert rubric["personality"].value == 0  # the rubric's points stay, for agreement


def test_hand_scores_without_responses_become_traces_too(tracker):
    """`hyp record --scores`: the points were given by hand and no answer text was kept."""
    run_id = tracker.start_run(hypothesis_id="H003", kind="record", name="H003")
    hand = {"question": "Q1", "agent": 2, "factual": 1, "personality": 2, "complete": 1, "source": "hand"}

    (trace_id,) = log_answer_traces(tracker, run_id, [hand])

    trace = tracker.client.get_trace(trace_id, display=False)
    assert trace.data.spans[0].inputs == {"question": "Q1", "question_id": "Q1"}
    assert trace.data.spans[0].outputs == {"answer": None}
    assert {a.name: (a.value, a.source.source_type) for a in trace.info.assessments} == {
        "agent": (2, "HUMAN"), "factual": (1, "HUMAN"), "personality": (2, "HUMAN"), "complete": (1, "HUMAN")}
    assert log_answer_traces(tracker, run_id, []) == []


def test_traces_reach_nothing_on_the_network(tracker, monkeypatch):
    """This machine may be offline: MLflow's telemetry is off and nothing opens a connection."""
    from mlflow.telemetry.utils import is_telemetry_disabled

    attempts = []
    real_connect = socket.socket.connect

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("no network in this test")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    run_id = tracker.start_run(hypothesis_id="H006", kind="run", name="H006")
    (trace_id,) = log_answer_traces(tracker, run_id, ANSWERS[:1])
    log_human_assessments(tracker, trace_id, {"agent": 1}, "João")

    assert attempts == []
    assert is_telemetry_disabled()


@pytest.mark.parametrize(("criterion", "counted", "expected"), [
    ("agent", {"agent": 0, "agent_patterns": 3}, "0/2: 3 agent-like phrases"),
    ("factual", {"factual": 0, "facts_met": 2, "facts_total": 2, "hallucination": True},
     "0/2: facts 2/2, states a forbidden claim"),
    ("personality", {"personality": 0, "markers": 2, "wrong_identity": True},
     "0/2: 2 persona markers, claims a wrong identity"),
    ("complete", {"complete": 0, "response": "  "}, "0/2: empty answer"),
    ("factual", {"factual": 0, "facts_met": 2, "facts_total": 2, "flags": ["keywords without sentences"]},
     "0/2: not a real answer (keywords without sentences); by keywords alone: facts 2/2"),
    ("agent", {"agent": 2, "flags": ["keywords without sentences"]}, "2/2: no agent-like phrase"),
    ("complete", {"complete": 1, "template_leak": True, "response": "<|user|> hi"},
     "1/2: a chat-template marker leaked"),
])
def test_the_rubric_rationale_says_what_the_points_rest_on(criterion, counted, expected):
    assert rubric_rationale(criterion, counted) == expected
