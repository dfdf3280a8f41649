"""The scoring rubric of SPEC §4: every cell of the table, word-boundary matching, and the summary metrics."""

import pytest

from hyp.experiments.rubric import count_phrase, evaluation_metrics, manual_score, score_answer
from hyp.hypotheses.schema import EvalSuite

SUITE = EvalSuite.model_validate({
    "name": "rubric-test",
    "persona": {"name": "Cláudio", "markers": ["Softtor", "Molting", "direct", "TypeScript"],
                "wrong_identities": ["Gabriel"]},
    "agent_patterns": ["I'll start by", "Let me analyze", "I need to"],
    "template_markers": ["<|user|>", "<|assistant|>", "<|system|>", "User Story"],
    "questions": [
        {"id": "Q1", "prompt": "Who is João?", "facts": [["Softtor"], ["founder", "CEO"]], "forbidden": ["ADRP"]},
        {"id": "Q2", "prompt": "Four facts", "facts": [["alpha"], ["beta"], ["gamma"], ["delta"]]},
        {"id": "Q8", "prompt": "Who are you?", "facts": [["Cláudio", "Claudio"], ["developer"]]},
    ],
})
Q1, Q2, Q8 = SUITE.questions


def score(text, question=Q1, **kw):
    return score_answer(question, text, SUITE, **kw)


# --- agent ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "points"), [
    ("João founded Softtor.", 2),
    ("Let me analyze that. João founded Softtor.", 1),
    ("I'll start by saying I need to check. João founded Softtor.", 0),
    ("LET ME ANALYZE: João founded Softtor.", 1),  # case-insensitive
    ("I need tomatoes. João founded Softtor.", 2),  # 'I need to' only on a word boundary
])
def test_agent(answer, points):
    assert score(answer).agent == points


# --- factual -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "question", "points"), [
    ("João is the founder of Softtor.", Q1, 2),  # every group met
    ("João is the ceo of SOFTTOR.", Q1, 2),  # any word of a group, any case
    ("João works at Softtor.", Q1, 1),  # half the groups
    ("João likes coffee.", Q1, 0),  # fewer
    ("alpha and beta", Q2, 1),  # exactly half of four
    ("alpha only", Q2, 0),  # a quarter
    ("João is the founder of Softtor and of ADRP.", Q1, 0),  # a forbidden claim outweighs every fact
    ("He founded Softtorx as CEOs do.", Q1, 0),  # no word-boundary match
    ("Sou o CLÁUDIO, developer.", Q8, 2),  # case-insensitive beyond ASCII
])
def test_factual(answer, question, points):
    assert score(answer, question).factual == points


def test_a_forbidden_claim_counts_as_a_hallucination_only_on_a_word_boundary():
    assert score("founder of Softtor and ADRP").hallucination
    assert not score("founder of Softtor, not ADRPX").hallucination


# --- personality ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "points"), [
    ("Softtor and TypeScript, direct as always.", 2),
    ("softtor, typescript", 2),  # case-insensitive
    ("I work at Softtor.", 1),
    ("Softtor, Softtor, Softtor.", 1),  # one marker repeated is still one marker
    ("Hello there.", 0),
    ("I am Gabriel from Softtor, TypeScript all day.", 0),  # wrong identity, whatever the markers
    ("I answered directly.", 0),  # 'direct' only on a word boundary
])
def test_personality(answer, points):
    assert score(answer).personality == points


# --- complete ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("answer", "truncated", "points"), [
    ("João founded Softtor.", False, 2),
    ("João founded Softtor and", True, 1),  # cut at max_new_tokens
    ("João founded Softtor. <|user|> next", False, 1),  # a template marker
    ("As a user story: João founded Softtor.", False, 1),  # marker matched case-insensitively
    ("", False, 0),
    ("  \n\t ", False, 0),
])
def test_complete(answer, truncated, points):
    s = score(answer, truncated=truncated)
    assert s.complete == points
    assert s.truncated == truncated


def test_count_phrase_matches_whole_words_and_phrases_with_punctuation():
    assert count_phrase("I'll start by... i'll START BY", "I'll start by") == 2
    assert count_phrase("Next.js and Next.jsx", "Next.js") == 1
    assert count_phrase("direct, directly, indirect, DIRECT", "direct") == 2


def test_a_perfect_answer_gets_eight_points():
    s = score("João is the founder of Softtor; direct, TypeScript.")
    assert (s.agent, s.factual, s.personality, s.complete, s.total) == (2, 2, 2, 2, 8)


# --- evaluation_metrics -----------------------------------------------------------------------------------------

# Eight hand-scored answers, 29 of 64 points: question, agent, factual, personality, complete.
HAND = [("Q1", 2, 1, 1, 1), ("Q2", 1, 2, 0, 1), ("Q3", 2, 0, 0, 1), ("Q4", 0, 1, 1, 2),
        ("Q5", 2, 1, 2, 1), ("Q6", 1, 0, 0, 1), ("Q7", 2, 1, 0, 0), ("Q8", 1, 0, 1, 0)]


def test_29_of_64_points_is_a_score_of_4_5():
    m = evaluation_metrics([manual_score(*row) for row in HAND])
    assert (m["points"], m["points_max"]) == (29, 64)
    assert round(m["score"], 1) == 4.5
    assert m["score"] == pytest.approx(29 / 64 * 10, abs=1e-3)


def test_summary_counts_answers_per_criterion():
    m = evaluation_metrics([manual_score(*row) for row in HAND])
    assert m["agent_like_responses"] == 4  # agent < 2: Q2, Q4, Q6, Q8
    assert m["factual_responses"] == 1  # factual == 2: Q2
    assert m["personality_responses"] == 1  # personality == 2: Q5
    assert m["complete_responses"] == 1  # complete == 2: Q4
    assert m["truncated_responses"] == 5  # hand scores read complete == 1 as cut
    assert (m["agent_points"], m["factual_points"], m["personality_points"], m["complete_points"]) == (11, 6, 5, 7)


def test_summary_has_every_contract_metric_and_per_question_names():
    m = evaluation_metrics([manual_score(*row) for row in HAND])
    contract = {"score", "points", "points_max", "agent_points", "factual_points", "personality_points",
                "complete_points", "agent_like_responses", "factual_responses", "personality_responses",
                "complete_responses", "truncated_responses", "template_leaks", "hallucinations",
                "flagged_responses"}  # coherence (issue 14)
    per_question = {f"Q{i}.{c}" for i in range(1, 9) for c in ("agent", "factual", "personality", "complete",
                                                                  "total")}
    assert set(m) == contract | per_question
    assert (m["Q1.agent"], m["Q1.factual"], m["Q1.personality"], m["Q1.complete"], m["Q1.total"]) == (2, 1, 1, 1, 5)
    assert m["Q8.total"] == 2


def test_summary_of_rubric_scores_counts_leaks_hallucinations_and_cuts():
    scores = [
        score("João is the founder of Softtor; direct, TypeScript."),  # 8
        score("Founder of Softtor at ADRP. <|assistant|>"),  # hallucination + leak
        score("Let me analyze. I need to think. Softtor", truncated=True),  # agent 0, cut
        score(""),
    ]
    m = evaluation_metrics(scores)
    assert (m["template_leaks"], m["hallucinations"], m["truncated_responses"]) == (1, 1, 1)
    assert m["agent_like_responses"] == 1
    assert m["complete_responses"] == 1
    assert m["points"] == sum(s.total for s in scores)
    assert m["score"] == pytest.approx(m["points"] / 32 * 10, abs=1e-4)


def test_several_samples_of_a_question_average_per_question_but_count_per_answer():
    m = evaluation_metrics([manual_score("Q1", 2, 2, 2, 2), manual_score("Q1", 0, 0, 0, 0)])
    assert m["Q1.total"] == 4
    assert m["Q1.agent"] == 1
    assert m["agent_like_responses"] == 1
    assert m["score"] == 5.0


def test_template_markers_match_on_word_boundaries():
    assert score("João founded Softtor; the user storyline was mine.").complete == 2
    assert score("João founded Softtor.<|user|>").complete == 1  # a marker glued to the text still leaks
