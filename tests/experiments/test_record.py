"""`hyp record`: hand scores, answers and numbers are parsed completely before anything is logged."""

import json

import pytest

from conftest import H003_CSV, run_hyp, store_exists
from hyp.errors import BadInput
from hyp.experiments.record import agreement, parse_metrics, parse_responses, parse_scores
from hyp.experiments.rubric import manual_score
from hyp.hypotheses.lab import Lab

HEADER = "question,agent,factual,personality,complete\n"


@pytest.fixture
def suite(lab):
    return Lab(lab).load_suite("evals/personality.yaml")


def write(lab, name, text, encoding="utf-8"):
    path = lab / name
    path.write_text(text, encoding=encoding)
    return path


# --- parsing ----------------------------------------------------------------------------------------


def test_metrics_are_key_value_numbers():
    assert parse_metrics(["score=7.4", " agent_like_responses = 2 ", "Q1.total=5"]) == {
        "score": 7.4, "agent_like_responses": 2.0, "Q1.total": 5.0}


@pytest.mark.parametrize("pair", ["score", "=5", "score=", "score=high", "score=nan", "score=inf"])
def test_a_metric_that_is_not_key_equals_number_is_refused(pair):
    with pytest.raises(BadInput, match="--metric"):
        parse_metrics([pair])


def test_hand_scores_are_read_per_question(lab, suite):
    manual, auto = parse_scores(write(lab, "s.csv", H003_CSV), suite)
    assert auto is None
    assert [s.question for s in manual] == [f"Q{i}" for i in range(1, 9)]
    assert sum(s.total for s in manual) == 29
    assert (manual[0].agent, manual[0].factual, manual[0].personality, manual[0].complete) == (2, 1, 1, 1)


def test_columns_may_come_in_any_order_with_blank_lines_and_spaces(lab, suite):
    text = "complete, personality ,factual,agent,question\n\n 2,2,2,2, Q1 \n1,0,1,2,Q2\n"
    manual, _ = parse_scores(write(lab, "s.csv", text), suite)
    assert [(s.question, s.total) for s in manual] == [("Q1", 8), ("Q2", 4)]
    assert manual[1].agent == 2 and manual[1].complete == 1


def test_a_response_column_is_also_scored_by_the_rubric(lab, suite):
    text = ("question,agent,factual,personality,complete,response\n"
            'Q1,2,2,2,2,"João is the founder of Softtor; direct, TypeScript."\n'
            'Q2,2,0,0,2,"Let me analyze. No idea."\n')
    manual, auto = parse_scores(write(lab, "s.csv", text), suite)
    assert [s.total for s in auto] == [8, 3]  # Q2: agent 1, factual 0, personality 0, complete 2 by the rubric
    agreed = agreement(manual, auto)
    assert agreed["agreement.factual"] == 1.0
    assert agreed["agreement.agent"] == 0.5


def test_identical_hand_and_rubric_scores_agree_fully():
    a = [manual_score("Q1", 2, 1, 0, 2), manual_score("Q2", 1, 2, 2, 1)]
    agreed = agreement(a, list(a))
    assert all(v == 1.0 for v in agreed.values())
    criteria = ("agent", "factual", "personality", "complete")
    assert set(agreed) == {f"{k}.{c}" for k in ("agreement", "kappa") for c in criteria} | {
        f"kappa.{c}.{end}" for c in criteria for end in ("low", "high")}


@pytest.mark.parametrize(("text", "where", "what"), [
    ("question,agent,factual,personality\nQ1,2,2,2\n", ":1:", "complete"),
    ("", ":1:", "empty"),
    (HEADER, "", "no scored answers"),
    (HEADER + "Q1,2,2,2,3\n", ":2:", "complete"),
    (HEADER + "Q1,2,-1,2,2\n", ":2:", "factual"),
    (HEADER + "Q1,2,2,1.5,2\n", ":2:", "personality"),
    (HEADER + "Q1,2,2,,2\n", ":2:", "personality"),
    (HEADER + "Q1,2,2,2,2\nQ9,2,2,2,2\n", ":3:", "Q9"),
    (HEADER + "Q1,2,2,2,2\nQ1,1,1,1,1\n", ":3:", "twice"),
    (HEADER + "Q1,2,2\n", ":2:", "columns"),
])
def test_bad_hand_scores_name_the_line_and_the_problem(lab, suite, text, where, what):
    with pytest.raises(BadInput) as e:
        parse_scores(write(lab, "s.csv", text), suite)
    assert f"s.csv{where}" in e.value.message
    assert what in e.value.message
    assert len(e.value.message.splitlines()) == 1


def test_a_spreadsheet_csv_with_a_byte_order_mark_is_read(lab, suite):
    manual, _ = parse_scores(write(lab, "s.csv", H003_CSV, encoding="utf-8-sig"), suite)
    assert sum(s.total for s in manual) == 29


def test_responses_are_scored_by_the_suite_rubric(lab, suite):
    path = write(lab, "r.json", json.dumps([
        {"question": "Q1", "response": "João is the founder of Softtor; direct, TypeScript."},
        {"question": "Q2", "response": "I need to think", "truncated": True},
    ]))
    scores, answers, _ = parse_responses(path, suite)
    assert [s.total for s in scores] == [8, 2]  # Q2: agent 1, factual 0, personality 0, complete 1 (cut)
    assert answers[0]["prompt"] == "Who is João?"
    assert answers[1]["truncated"] is True


@pytest.mark.parametrize(("text", "what"), [
    ("not json", "not JSON"),
    ("[]", "non-empty list"),
    ('[{"question": "Q1"}]', "[0]"),
    ('[{"question": "Q9", "response": "hi"}]', "Q9"),
])
def test_bad_responses_are_refused(lab, suite, text, what):
    with pytest.raises(BadInput) as e:
        parse_responses(write(lab, "r.json", text), suite)
    assert what in e.value.message


# --- the command: bad input changes nothing ----------------------------------------------------------


BAD_RECORDS = {
    "missing column": (["--scores", "s.csv"], "question,agent,factual\nQ1,2,2\n", "complete"),
    "score out of range": (["--scores", "s.csv"], HEADER + "Q1,2,2,2,5\n", "not a score"),
    "unknown question": (["--scores", "s.csv"], HEADER + "Q42,2,2,2,2\n", "Q42"),
    "missing file": (["--scores", "nope.csv"], None, "no such file"),
    "metric without =": (["--metric", "score"], None, "key=value"),
    "metric not a number": (["--metric", "score=7.4", "--metric", "points=lots"], None, "points"),
    "nothing to record": ([], None, "--scores"),
    "bad responses": (["--responses", "s.csv"], "question,response\n", "not JSON"),
    "both scores and responses": (["--scores", "s.csv", "--responses", "r.json"], H003_CSV, "one of"),
}


@pytest.mark.parametrize("case", list(BAD_RECORDS))
def test_bad_record_input_exits_2_with_one_line_and_creates_no_store(lab, monkeypatch, case):
    args, csv_text, what = BAD_RECORDS[case]
    monkeypatch.chdir(lab)  # relative --scores paths are the user's
    if csv_text is not None:
        write(lab, "s.csv", csv_text)
    before = (lab / "hypotheses" / "H003.yaml").read_bytes()

    r = run_hyp("record", "H003", *args, lab=lab)

    assert r.code == 2, r
    assert len(r.err_lines) == 1, r.err
    assert what in r.err
    assert r.out == ""
    assert not store_exists(lab)
    assert (lab / "hypotheses" / "H003.yaml").read_bytes() == before


def test_recording_an_unknown_hypothesis_exits_2(lab):
    r = run_hyp("record", "H999", "--metric", "score=1", lab=lab)
    assert r.code == 2
    assert "H999" in r.err
    assert not store_exists(lab)
