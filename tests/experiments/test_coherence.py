"""Coherence (SPEC §4, issue 14): answers that fool a keyword rubric lose their factual and personality
points, and with them a verdict they did not earn; real answers keep theirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from coherence_cases import HELD_BACK, TUNING
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hyp
from conftest import H003_YAML, SUITE_YAML
from hyp.experiments.coherence import check_answers, vocabulary_of
from hyp.experiments.data import contains_phrase, find_phrase
from hyp.experiments.rubric import evaluation_metrics, score_answer, score_answers
from hyp.experiments.sharegpt import read_conversations
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
    # The keyword rubric still cannot give them factual points offline; a judge can (test_judge_fluent.py).
    assert metrics["score"] == keyword_score(fluent)
    for name in ("stuffed between made-up words", "right words in false claims", "one sentence pasted everywhere",
                 "trained gibberish", "repetition loops", "bare keyword lists", "comma keyword lists",
                 "negations, more forms", "one made-up word per answer"):
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


# Written before the checks existed; see coherence_cases.py. A set the checks cannot pass goes here, with why.
KNOWN_MISSES: dict[str, str] = {}


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


def test_a_bare_keyword_list_is_flagged_but_real_runs_of_words_and_terse_lists_are_not():
    assert flags_of("Q1", "Softtor founder CEO direct TypeScript.") == (
        "keyword list: Softtor founder CEO direct TypeScript",)
    assert flags_of("Q1", "João Softtor founder CEO.") == ("keyword list: João Softtor founder CEO",)
    assert flags_of("Q7", "Molting direct RTX 3050 4 GB VRAM") == ("keyword list: Molting direct RTX 3050 4 GB …",)
    for question, answer in [
        ("Q6", "Test first, always. TDD: the test is red and failing before I write the fix, which keeps "
               "Softtor's TypeScript direct."),  # a possessive is glue
        ("Q5", "Direct TypeScript work on the CRM at Softtor."),  # two terms in a run
        ("Q7", "My RTX 3050 laptop GPU has 4 GB of VRAM."),
        ("Q4", "Pure TypeScript everywhere, Next.js front end, Prisma database layer."),
        ("Q4", "TypeScript, Next.js, Prisma, DDD. Pragmatic."),  # the example lab's curated c166, alone
        ("Q8", "Cláudio, Softtor developer, direct TypeScript person."),
        ("Q3", "Moltbook: an AI agents social network I built."),
    ]:
        assert flags_of(question, answer) == (), answer


def test_several_answers_of_one_set_made_of_fact_words_alone_are_a_keyword_dump():
    lists = {"Q1": "Softtor, founder, CEO.", "Q4": "TypeScript, Next.js, Prisma. Direct.",
             "Q7": "RTX 3050, 4 GB VRAM. Molting.", "Q8": "Cláudio, developer, Softtor."}
    every = check_answers([(SUITE.question(q), t) for q, t in lists.items()], SUITE, VOCABULARY)
    assert every == [("keyword list",)] * 4
    # Two of them among real answers are terse answers, as a person gives them.
    two = {"Q4": lists["Q4"], "Q7": lists["Q7"], "Q1": "João is the founder and CEO of Softtor.",
           "Q8": "I'm Cláudio, a developer at Softtor."}
    assert check_answers([(SUITE.question(q), t) for q, t in two.items()], SUITE, VOCABULARY) == [()] * 4


def test_one_made_up_word_is_flagged_even_in_a_long_answer_unless_it_may_be_a_real_word():
    assert flags_of("Q1", "João is the founder and CEO of Softtor, a very glimberous and direct person who loves "
                          "TypeScript.") == ("made-up words: glimberous",)
    # An unlisted derivation of a common word is made up: the list would hold it if people used it.
    assert flags_of("Q5", "I work on the CRM at Softtor, the onlineing part of it, with TypeScript, every day.") \
        == ("made-up words: onlineing",)
    # A derivation of a rare word may be real ("refactor" is rare), so may two common words run together
    # and a capitalised first word (a name): one of them in a long answer is let be.
    assert flags_of("Q6", "TDD, always: a failing test first, then the code, then a quick refactorization pass.") \
        == ()
    assert flags_of("Q4", "My TypeScript, Next.js and Prisma code lives in one monorepo at Softtor, direct.") == ()
    assert flags_of("Q4", "Pnpm keeps my TypeScript, Next.js and Prisma builds fast, and it is direct.") == ()
    assert flags_of("Q4", "I run npx prisma migrate dev before every TypeScript deploy at Softtor.") == ()  # no vowel
    assert flags_of("Q4", "Pnpm keeps my TypeScript, Next.js and Prisma monorepo fast.") == (
        "made-up words: pnpm, monorepo",)


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


# Issue 14 audit: negations the first checks missed, and negations beside them that deny nothing.
NEGATED = [
    ("Q1", "João is in no way the founder or CEO of Softtor.", "negated fact: Softtor, founder, CEO"),
    ("Q1", "It's false that João founded Softtor or is its CEO.", "negated fact: Softtor, CEO"),
    ("Q1", "It is not true that João is the founder of Softtor.", "negated fact: Softtor, founder"),
    ("Q1", "I don't think João is the founder or the CEO of Softtor.", "negated fact: Softtor, founder, CEO"),
    ("Q2", "Molting is in no way a personality project, and TinyLlama has nothing to do with it.",
     "negated fact: personality, TinyLlama"),
    ("Q3", "Moltbook is no longer a social network, and it never had agents.", "negated fact: social network, agents"),
    ("Q4", "TypeScript? No longer. Next.js and Prisma? Never.", "negated fact: TypeScript, Next.js, Prisma"),
    ("Q5", "The CRM at Softtor? That was never my project.", "negated fact: CRM, Softtor"),
    ("Q5", "I'm no longer on the CRM, and Softtor wasn't my employer.", "negated fact: CRM, Softtor"),
    ("Q6", "TDD is in no way how I work, and a failing red test means nothing to me.",
     "negated fact: TDD, failing, red"),
    ("Q7", "It's a lie that I train on an RTX 3050 with 4 GB of VRAM.", "negated fact: RTX 3050, 4 GB, VRAM"),
    ("Q7", "My GPU isn't an RTX 3050, and it wasn't ever 4 GB of VRAM.", "negated fact: RTX 3050, 4 GB, VRAM"),
    ("Q8", "Cláudio? Not me. A developer? Never.", "negated fact: Cláudio, developer"),
    ("Q1", "João, the founder and CEO of Softtor? Hardly.", "negated fact: Softtor, founder, CEO"),
    ("Q6", "Failing red tests and TDD are not for me.", "negated fact: TDD"),
]
NOT_NEGATED = [
    ("Q1", "João founded Softtor and he never stopped being its CEO."),
    ("Q1", "João? He is the founder and CEO of Softtor. No doubt about it."),
    ("Q3", "Is Moltbook a social network for people? No, for AI agents."),  # a correction, not a denial
    ("Q4", "TypeScript is not optional for me, and Next.js with Prisma covers the rest."),
    ("Q5", "Not much besides the CRM at Softtor, to be honest."),
    ("Q6", "TDD. I never ship code without a failing test that went red first."),
    ("Q6", "TDD is not always easy, but a failing red test first keeps me honest."),
    ("Q6", "TDD, and a failing test never gets skipped."),
    ("Q6", "TDD? Not optional. A failing red test comes first."),
    ("Q7", "An RTX 3050 with 4 GB of VRAM. Not a beast, but it works."),
    ("Q8", "No, I'm not an AI. I'm Cláudio, a developer at Softtor."),
]


def test_negations_in_more_forms_deny_the_fact_and_their_neighbours_do_not():
    wrong = [(a, flags_of(q, a), (flag,)) for q, a, flag in NEGATED if flags_of(q, a) != (flag,)]
    wrong += [(a, flags_of(q, a), ()) for q, a in NOT_NEGATED if flags_of(q, a) != ()]
    assert wrong == []


def test_empty_answers_are_left_to_the_rubric():
    assert check_answers([(SUITE.question("Q1"), ""), (SUITE.question("Q2"), "  \n")], SUITE) == [(), ()]


# --- the example lab's own answers ------------------------------------------------------------------------

EXAMPLE = Path(hyp.__file__).parent / "examples" / "persona"
EXAMPLE_SUITE = validate(EvalSuite, parse_yaml((EXAMPLE / "evals" / "personality.yaml").read_text(encoding="utf-8"),
                                               Path("evals/personality.yaml")))


def example_answers() -> list[tuple[str, str, str]]:
    """(id, prompt, answer) for every assistant turn of the example lab's curated and held-out data."""
    out = []
    for name in ("curated", "heldout"):
        for c in read_conversations(EXAMPLE / "data" / f"{name}.json"):
            turns = [(m.role, m.content) for m in c.messages]
            out += [(f"{c.id}#{k}", turns[k - 1][1], text) for k, (role, text) in enumerate(turns)
                    if role == "assistant" and k]
    return out


def closest_question(prompt: str, answer: str):
    """The suite's question the answer meets most fact groups of; ties go to the one whose prompt shares most words."""
    words = set(prompt.lower().split())
    return max(EXAMPLE_SUITE.questions,
               key=lambda q: (sum(any(contains_phrase(answer, w) for w in g) for g in q.facts),
                              len(words & set(q.prompt.lower().split()))))


def fact_words_only(answer: str) -> tuple[str, int]:
    """The suite's fact words and markers of `answer`, in order, with nothing between; and how many groups."""
    terms: dict[str, set[str]] = {}
    for q in EXAMPLE_SUITE.questions:
        for g, group in enumerate(q.facts):
            for w in group:
                terms.setdefault(w, set()).add(f"{q.id}.{g}")
    for m in EXAMPLE_SUITE.persona.markers:
        terms.setdefault(m, set()).add("markers")
    found = sorted((m.start(), -m.end(), m.group(), term) for term in terms for m in find_phrase(answer, term))
    kept, end, groups = [], -1, set()
    for start, neg_end, text, term in found:
        if start >= end:
            kept.append(text)
            end = -neg_end
            groups |= terms[term]
    return (" ".join(kept) if len(kept) >= 3 else ""), len(groups)


def test_the_example_labs_answers_pass_the_checks_and_their_fact_words_alone_do_not():
    answers = example_answers()
    texts = [m.content for name in ("curated", "synthetic", "heldout")
             for c in read_conversations(EXAMPLE / "data" / f"{name}.json") for m in c.messages]
    references = [(q.id, q.prompt, q.reference) for q in EXAMPLE_SUITE.questions if q.reference]
    assert len(answers) >= 190
    for vocabulary in (vocabulary_of(EXAMPLE_SUITE, texts), vocabulary_of(EXAMPLE_SUITE, [])):
        flagged = [(i, a, f) for i, p, a in answers + references
                   for f in check_answers([(closest_question(p, a), a)], EXAMPLE_SUITE, vocabulary) if f]
        assert flagged == []
        # The curated data's rounds of the suite's eight questions, checked together as a sample is.
        rounds = [answers[k:k + 8] for k in range(0, len(answers), 8)]
        for r in rounds:
            found = check_answers([(closest_question(p, a), a) for _, p, a in r], EXAMPLE_SUITE, vocabulary)
            assert [f for f in found if f] == [], [i for i, _, _ in r]
    dumps = [(i, d) for i, _, a in answers for d, groups in [fact_words_only(a)] if d and groups >= 2]
    assert len(dumps) >= 100
    missed = [(i, d) for i, d in dumps
              if not any(f.startswith("keyword list") for f in flags_of_example(d))]
    assert missed == []


def flags_of_example(answer: str) -> tuple[str, ...]:
    return check_answers([(closest_question("", answer), answer)], EXAMPLE_SUITE, vocabulary_of(EXAMPLE_SUITE, []))[0]


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
