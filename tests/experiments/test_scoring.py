"""Scoring a set of answers (SPEC §4): reference overlap, and agreement that says when not to trust the rubric."""

from __future__ import annotations

import pytest

from conftest import make_lab, run_hyp
from hyp.experiments.scoring import Scorers, score_set, set_metrics
from hyp.hypotheses.schema import EvalSuite

SUITE = EvalSuite.model_validate({
    "name": "s", "persona": {"name": "Cláudio", "markers": ["Softtor", "TypeScript"]},
    "questions": [{"id": "Q1", "prompt": "Who is João?", "facts": [["Softtor"], ["founder"]],
                   "reference": "João is the founder of Softtor."},
                  {"id": "Q2", "prompt": "What is your stack?", "facts": [["TypeScript"]]}],
})


def test_a_reference_answer_gives_rouge_l_per_question_and_overall():
    scored = score_set([(SUITE.questions[0], "João is the founder of Softtor, a small company.", False),
                        (SUITE.questions[1], "TypeScript everywhere.", False)], Scorers(SUITE))
    metrics = set_metrics([scored])
    assert 0.5 < metrics["Q1.rouge_l"] < 1.0
    assert "Q2.rouge_l" not in metrics  # no reference, no overlap to log
    assert metrics["rouge_l"] == metrics["Q1.rouge_l"]
    exact = set_metrics([score_set([(SUITE.questions[0], "João is the founder of Softtor.", False)],
                                   Scorers(SUITE))])
    assert exact["Q1.rouge_l"] == pytest.approx(1.0)


def test_the_report_says_when_the_rubric_disagrees_with_a_person_on_8_answers(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    # The person gives every answer full personality marks; the rubric finds no persona marker in any.
    rows = "".join(f'Q{i},2,0,2,2,"A plain answer number {i}."\n' for i in range(1, 9))
    (lab / "s.csv").write_text("question,agent,factual,personality,complete,response\n" + rows)
    assert run_hyp("record", "H003", "--scores", lab / "s.csv", lab=lab).code == 0
    assert run_hyp("report", "H003", lab=lab).code == 0
    text = (lab / "reports" / "H003.md").read_text()
    assert "The automatic scores are not trustworthy for this suite" in text
    verdict = run_hyp("verdict", "H003", "--json", lab=lab).json
    personality = next(g for g in verdict["agreements"] if g["criterion"] == "personality")
    assert personality["n"] == 8 and personality["disagreements"] == [f"Q{i}" for i in range(1, 9)]
    assert personality["confusion"][2][0] == 8  # hand 2, automatic 0, eight times
