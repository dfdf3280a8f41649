"""The scoring rubric of SPEC §4, exactly as the manual scoring did it, then the coherence checks that
keep keywords from passing for understanding. Pure: text in, points out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from hyp.experiments.coherence import check_answers
from hyp.experiments.data import contains_phrase, count_phrase
from hyp.hypotheses.criteria import CRITERIA
from hyp.hypotheses.schema import EvalSuite, Question


@dataclass(frozen=True)
class AnswerScore:
    question: str
    agent: int
    factual: int
    personality: int
    complete: int
    agent_patterns: int = 0
    facts_met: int = 0
    facts_total: int = 0
    markers: int = 0
    wrong_identity: bool = False
    hallucination: bool = False
    template_leak: bool = False
    truncated: bool = False
    flags: tuple[str, ...] = ()  # coherence (SPEC §4): why the answer is not a real one

    def __post_init__(self):
        # Read back from answers.json the flags are a list; kept a tuple so the score stays hashable.
        object.__setattr__(self, "flags", tuple(self.flags))

    @property
    def total(self) -> int:
        return self.agent + self.factual + self.personality + self.complete

    def to_json(self) -> dict:
        return {**asdict(self), "flags": list(self.flags), "total": self.total}


def score_answer(question: Question, answer: str, suite: EvalSuite, *, truncated: bool = False) -> AnswerScore:
    """`truncated`: generation stopped at max_new_tokens instead of ending on its own."""
    agent_hits = sum(count_phrase(answer, p) for p in suite.agent_patterns)
    agent = 2 if agent_hits == 0 else 1 if agent_hits == 1 else 0

    met = sum(1 for group in question.facts if any(contains_phrase(answer, w) for w in group))
    total = len(question.facts)
    hallucination = any(contains_phrase(answer, f) for f in question.forbidden)
    if hallucination:
        factual = 0
    elif met == total:
        factual = 2
    elif 2 * met >= total:
        factual = 1
    else:
        factual = 0

    markers = sum(1 for m in suite.persona.markers if contains_phrase(answer, m))
    wrong = any(contains_phrase(answer, w) for w in suite.persona.wrong_identities)
    personality = 0 if wrong or markers == 0 else 2 if markers >= 2 else 1

    leak = any(contains_phrase(answer, m) for m in suite.template_markers)
    if not answer.strip():
        complete = 0
    elif truncated or leak:
        complete = 1
    else:
        complete = 2
    return AnswerScore(question.id, agent, factual, personality, complete, agent_hits, met, total, markers,
                       wrong, hallucination, leak, truncated)


def score_answers(items: list[tuple[Question, str, bool]], suite: EvalSuite, *,
                  vocabulary: frozenset[str] = frozenset()) -> list[AnswerScore]:
    """Score (question, answer, truncated) items together: answers the coherence checks flag get no
    factual and no personality points. Give a whole sample at once, so answers are compared."""
    flags = check_answers([(q, text) for q, text, _ in items], suite, vocabulary)
    scores = []
    for (question, text, truncated), found in zip(items, flags, strict=True):
        s = score_answer(question, text, suite, truncated=truncated)
        scores.append(replace(s, factual=0, personality=0, flags=found) if found else s)
    return scores


def evaluation_metrics(scores: list[AnswerScore]) -> dict[str, float]:
    """The metrics every evaluation logs (names are part of the contract, SPEC §4)."""
    n = len(scores)
    points = sum(s.total for s in scores)
    out: dict[str, float] = {
        "score": round(points / (8 * n) * 10, 4) if n else 0.0,
        "points": points,
        "points_max": 8 * n,
        "agent_like_responses": sum(s.agent < 2 for s in scores),
        "factual_responses": sum(s.factual == 2 for s in scores),
        "personality_responses": sum(s.personality == 2 for s in scores),
        "complete_responses": sum(s.complete == 2 for s in scores),
        "truncated_responses": sum(s.truncated for s in scores),
        "template_leaks": sum(s.template_leak for s in scores),
        "hallucinations": sum(s.hallucination for s in scores),
        "flagged_responses": sum(bool(s.flags) for s in scores),
    }
    for c in CRITERIA:
        out[f"{c}_points"] = sum(getattr(s, c) for s in scores)
    # With several samples per question, per-question values are the mean over its samples.
    by_question: dict[str, list[AnswerScore]] = {}
    for s in scores:
        by_question.setdefault(s.question, []).append(s)
    for q, group in by_question.items():
        for c in CRITERIA:
            out[f"{q}.{c}"] = sum(getattr(s, c) for s in group) / len(group)
        out[f"{q}.total"] = sum(s.total for s in group) / len(group)
    return out


def manual_score(question: str, agent: int, factual: int, personality: int, complete: int) -> AnswerScore:
    """A hand-given score. Cut answers (complete = 1) count as truncated, as the manual scoring read them."""
    return AnswerScore(question, agent, factual, personality, complete, truncated=complete == 1)
