"""Answering the suite's questions with a model and scoring the answers (rubric, coherence, judge),
with each answer's perplexity under the base model."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyp.experiments.rubric import AnswerScore
from hyp.experiments.scoring import Scorers, score_set, set_metrics
from hyp.hypotheses.schema import Eval


@dataclass
class Evaluation:
    scores: list[AnswerScore]
    answers: list[dict]  # question, prompt, sample, response, per-criterion scores, flags, sources, perplexity
    metrics: dict[str, float]
    seconds: float
    scoring_seconds: float = 0.0  # of which scoring the answers (rubric, coherence, judge)
    warnings: list[str] = field(default_factory=list)


def evaluate(model, tokenizer, scorers: Scorers, spec: Eval, *, seed: int = 0) -> Evaluation:
    import time

    from hyp.experiments.generation import generate_answers
    from hyp.experiments.perplexity import answer_perplexities

    started = time.perf_counter()
    suite = scorers.suite
    prompts = [q.prompt for q in suite.questions]
    sets, scoring = [], 0.0
    for sample in range(spec.samples):
        generations = generate_answers(model, tokenizer, prompts, max_new_tokens=spec.max_new_tokens,
                                       temperature=spec.temperature, top_p=spec.top_p, seed=seed + sample)
        texts = [g.text for g in generations]
        begun = time.perf_counter()
        # One sample's answers are scored together, so that each is compared with the others.
        scored = score_set([(q, g.text, g.truncated) for q, g in zip(suite.questions, generations, strict=True)],
                           scorers, sample=sample)
        scoring += time.perf_counter() - begun
        for answer, ppl in zip(scored.answers, answer_perplexities(model, tokenizer, prompts, texts), strict=True):
            if ppl is not None:
                answer["perplexity"] = round(ppl, 4)
        sets.append(scored)
    metrics = set_metrics(sets) | _perplexity_metrics([a for s in sets for a in s.answers])
    return Evaluation([s for x in sets for s in x.scores], [a for x in sets for a in x.answers], metrics,
                      time.perf_counter() - started, scoring, [w for x in sets for w in x.warnings])


def _perplexity_metrics(answers: list[dict]) -> dict[str, float]:
    by_question: dict[str, list[float]] = {}
    for a in answers:
        if "perplexity" in a:
            by_question.setdefault(a["question"], []).append(a["perplexity"])
    out = {f"{q}.perplexity": sum(v) / len(v) for q, v in by_question.items()}
    if out:
        out["perplexity"] = sum(out.values()) / len(out)
    return out
