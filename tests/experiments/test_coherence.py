"""Coherence (SPEC §4, issue 14): answers that fool a keyword rubric lose their factual and personality
points, and with them a verdict they did not earn; real answers keep theirs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from coherence_cases import HELD_BACK, TUNING
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import H003_YAML, SUITE_YAML
from hyp.experiments.coherence import check_answers, vocabulary_of
from hyp.experiments.rubric import evaluation_metrics, score_answer, score_answers
from hyp.hypotheses.schema import EvalSuite, Hypothesis
from hyp.hypotheses.validation import validate
from hyp.hypotheses.verdict import decide
from hyp.hypotheses.yamlfile import parse_yaml

SUITE = validate(EvalSuite, parse_yaml(SUITE_YAML, Path("evals/personality.yaml")))
H003 = validate(Hypothesis, parse_yaml(H003_YAML, Path("hypotheses/H003.yaml")))  # primary: score >= 9.0
VOCABULARY = vocabulary_of(SUITE, [])


def scored(answers: dict[str, str]):
    return score_answers([(SUITE.question(q), text, False) for q, text in answers.items()], SUITE,
                         vocabulary=VOCABULARY)


def verdict_of(answers: dict[str, str]) -> tuple[str, dict[str, float]]:
    metrics = evaluation_metrics(scored(answers))
    return decide(H003, [metrics]).verdict, metrics


def keyword_score(answers: dict[str, str]) -> float:
    """What the rubric alone gives (issue 14's table)."""
    return evaluation_metrics([score_answer(SUITE.question(q), t, SUITE) for q, t in answers.items()])["score"]


# --- issue 14's table ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["stuffed between made-up words", "right words in false claims",
                                  "one sentence pasted everywhere"])
def test_answers_that_fooled_the_keyword_rubric_no_longer_confirm_the_hypothesis(name):
    answers = TUNING[name][1]
    assert keyword_score(answers) == 10.0  # what fooled it
    verdict, metrics = verdict_of(answers)
    assert verdict != "CONFIRMED"
    assert metrics["score"] < 9.0
    assert metrics["flagged_responses"] == 8
    assert metrics["factual_points"] == metrics["personality_points"] == 0


def test_fluent_answers_in_other_words_are_not_flagged_and_now_outscore_every_fooling_set():
    fluent = TUNING["fluent in other words"][1]
    verdict, metrics = verdict_of(fluent)
    assert metrics["flagged_responses"] == 0
    # The keyword rubric still cannot give them factual points: their score is what it was.
    assert metrics["score"] == keyword_score(fluent)
    for name in ("stuffed between made-up words", "right words in false claims", "one sentence pasted everywhere",
                 "trained gibberish", "repetition loops"):
        assert metrics["score"] >= verdict_of(TUNING[name][1])[1]["score"], name


def test_good_plain_answers_with_the_fact_words_still_confirm():
    verdict, metrics = verdict_of(TUNING["good plain answers"][1])
    assert metrics["flagged_responses"] == 0
    assert metrics["score"] >= 9.0
    assert verdict == "CONFIRMED"


def test_the_real_trained_answer_of_issue_14_is_flagged_for_its_made_up_words():
    answer = "Molting is an onlineing well it, TDD, it, and TinyLlama where fatbatbatgmatic, cara."
    (flags,) = check_answers([(SUITE.question("Q2"), answer)], SUITE, VOCABULARY)
    assert flags[0] == "made-up words: onlineing, fatbatbatgmatic"


@pytest.mark.parametrize("name", sorted(TUNING))
def test_tuning_sets(name):
    kind, answers = TUNING[name]
    verdict, metrics = verdict_of(answers)
    if kind == "fooling":
        assert metrics["flagged_responses"] == 8
        assert verdict != "CONFIRMED"
    else:
        assert metrics["flagged_responses"] == 0


# Written before the checks existed; see coherence_cases.py. One set shows a known limit.
KNOWN_MISSES = {"fluent with made-up words": "one made-up word in a fluent answer of 11+ words is under "
                                              "MADE_UP_SHARE and beside no grammar error: not flagged"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN_MISSES[n], strict=True))
                                  if n in KNOWN_MISSES else n for n in sorted(HELD_BACK)])
def test_held_back_sets(name):
    kind, answers = HELD_BACK[name]
    verdict, metrics = verdict_of(answers)
    if kind == "fooling":
        assert verdict != "CONFIRMED"
        assert metrics["score"] < 9.0
    else:
        assert metrics["flagged_responses"] == 0


# --- each check -------------------------------------------------------------------------------------------


def flags_of(question: str, answer: str, vocabulary=VOCABULARY) -> tuple[str, ...]:
    return check_answers([(SUITE.question(question), answer)], SUITE, vocabulary)[0]


def test_persona_words_are_known_through_the_suite_and_data_vocabulary():
    answer = "softtor trains tinyllama with qlora, cara."  # lower-case, so not taken for names
    assert flags_of("Q2", answer, frozenset()) == ("made-up words: softtor, tinyllama, qlora",)
    assert flags_of("Q2", answer, vocabulary_of(SUITE, [])) == ("made-up words: qlora",)
    assert flags_of("Q2", answer, vocabulary_of(SUITE, ["TinyLlama with QLoRA, cara."])) == ()


def test_a_capitalised_word_inside_a_sentence_is_a_name_not_a_made_up_word():
    assert flags_of("Q8", "I'm Cláudio, a developer who ships with Blorvex and Zindle every day.") == ()
    assert flags_of("Q8", "I'm Cláudio, a developer who ships with blorvex and zindle every day.") == (
        "made-up words: blorvex, zindle",)
    assert flags_of("Q4", "TypeScript with Next.js and Prisma, organizRa TDD.") == (  # a real trained answer
        "made-up words: organizra",)


def test_one_unknown_word_in_a_long_fluent_answer_is_tolerated_but_not_in_a_short_one():
    assert flags_of("Q6", "TDD, always: a failing test first, then the code, then a quick refactorization pass.") \
        == ()
    assert flags_of("Q6", "TDD with blorvish failing tests.") == ("made-up words: blorvish",)


def test_word_salad_of_real_words():
    assert "word salad" in flags_of("Q1", "the founder is the of Softtor, it, and, the CEO direct")
    assert "word salad" in flags_of("Q1", "Softtor founder CEO table river quickly purple direct TypeScript")
    assert flags_of("Q4", "TypeScript, Next.js, Prisma, DDD, TDD.") == ()  # a list is not salad


def test_repetition():
    assert flags_of("Q7", "RTX 3050, VRAM VRAM VRAM.") == ("repetition",)
    assert flags_of("Q1", "Founder of Softtor. Founder of Softtor. Founder of Softtor.") == ("repetition",)
    assert flags_of("Q6", "I write the test, then I write the code, then I clean it up with TDD.") == ()


def test_the_same_text_for_several_questions_is_flagged_on_each():
    text = "I build things at Softtor with my team every day."
    flags = check_answers([(SUITE.question("Q1"), text), (SUITE.question("Q5"), text + "!"),
                           (SUITE.question("Q8"), "I'm Cláudio, a developer.")], SUITE, VOCABULARY)
    assert flags == [("same text as Q5",), ("same text as Q1",), ()]


def test_samples_of_one_question_may_repeat_each_other():
    text = "I build things at Softtor with my team every day."
    assert check_answers([(SUITE.question("Q5"), text), (SUITE.question("Q5"), text)], SUITE, VOCABULARY) == [(), ()]


def test_facts_that_answer_other_questions():
    dump = "João is the founder and CEO of Softtor; I do TDD with a failing test, on an RTX 3050 with 4 GB."
    assert flags_of("Q1", dump) == ("facts of Q6, Q7: TDD, failing, RTX 3050, 4 GB",)
    # One tangent is not a dump, and persona markers belong everywhere.
    assert flags_of("Q5", "The CRM at Softtor, in TypeScript with Next.js and Prisma.") == ()


@pytest.mark.parametrize(("question", "answer", "flag"), [
    ("Q1", "João is not the founder of Softtor.", "negated fact: Softtor, founder"),
    ("Q1", "He isn't the CEO, and he never founded Softtor.", "negated fact: Softtor, CEO"),
    ("Q6", "I don't do TDD, red tests are a waste.", "negated fact: TDD"),
    ("Q8", "Não sou o Cláudio, sou um developer.", "negated fact: Cláudio"),
])
def test_a_fact_stated_under_a_negation(question, answer, flag):
    assert flags_of(question, answer) == (flag,)


@pytest.mark.parametrize(("question", "answer"), [
    ("Q1", "I'm not the CEO; João is the founder of Softtor."),  # another occurrence is plain
    ("Q2", "Molting is not just a model: it carries my personality into TinyLlama."),
    ("Q6", "I never skip TDD: the failing test comes first."),
    ("Q6", "TDD: I never write code before a failing test."),
    ("Q5", "Trabalho no CRM da Softtor."),  # Portuguese "no" is "in the"
])
def test_negations_that_do_not_deny_the_fact(question, answer):
    assert flags_of(question, answer) == ()


def test_empty_answers_are_left_to_the_rubric():
    assert check_answers([(SUITE.question("Q1"), ""), (SUITE.question("Q2"), "  \n")], SUITE) == [(), ()]


# --- score_answers ----------------------------------------------------------------------------------------


def test_a_flagged_answer_loses_factual_and_personality_points_only():
    text = "João is not the founder of Softtor. Direct, TypeScript."  # factual 2 and personality 2 alone
    plain = score_answer(SUITE.question("Q1"), text, SUITE, truncated=True)
    (s,) = score_answers([(SUITE.question("Q1"), text, True)], SUITE)
    assert (plain.factual, plain.personality) == (2, 2)
    assert (s.agent, s.factual, s.personality, s.complete) == (plain.agent, 0, 0, plain.complete)
    assert s.flags == ("negated fact: Softtor, founder",)
    assert s.to_json()["flags"] == ["negated fact: Softtor, founder"]
    assert s.to_json()["total"] == s.total


def test_flagged_responses_counts_answers_with_any_flag():
    m = evaluation_metrics(scored({"Q1": "João is the founder of Softtor, direct.",
                                   "Q2": "Molting Molting Molting TinyLlama personality",
                                   "Q3": ""}))
    assert m["flagged_responses"] == 1


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(SUITE.questions), st.text(max_size=300), st.booleans()), max_size=6))
def test_any_answers_get_short_text_flags_and_scores_within_the_table(items):
    scores = score_answers(items, SUITE)
    assert len(scores) == len(items)
    for s in scores:
        assert all(isinstance(f, str) and f for f in s.flags)
        assert s.factual in (0, 1, 2) and s.personality in (0, 1, 2)
        if s.flags:
            assert s.factual == s.personality == 0


def test_scoring_eight_answers_with_a_cold_word_list_takes_well_under_a_second():
    # A fresh process, so the word list is loaded; CPU time, so a busy machine does not fail it.
    code = ("import sys, time; sys.path[:0] = ['tests', 'tests/experiments'];"
            "from test_coherence import SUITE, TUNING, score_answers;"
            "t = time.process_time();"
            "score_answers([(SUITE.question(q), a, False) for q, a in TUNING['trained gibberish'][1].items()], SUITE);"
            "print(time.process_time() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert float(out.stdout) < 0.6
