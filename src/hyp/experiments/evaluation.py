"""Answering the suite's questions with a model and scoring the answers with the rubric."""

from __future__ import annotations

from dataclasses import dataclass

from hyp.experiments.rubric import AnswerScore, evaluation_metrics, score_answers
from hyp.hypotheses.schema import Eval, EvalSuite


@dataclass
class Evaluation:
    scores: list[AnswerScore]
    answers: list[dict]  # question, prompt, sample, response, per-criterion scores
    metrics: dict[str, float]
    seconds: float


def evaluate(model, tokenizer, suite: EvalSuite, spec: Eval, *, seed: int = 0,
             vocabulary: frozenset[str] = frozenset()) -> Evaluation:
    """`vocabulary`: words the coherence checks take as known besides the word list (the lab's)."""
    import time

    from hyp.experiments.generation import generate_answers

    started = time.perf_counter()
    prompts = [q.prompt for q in suite.questions]
    scores, answers = [], []
    for sample in range(spec.samples):
        generations = generate_answers(model, tokenizer, prompts, max_new_tokens=spec.max_new_tokens,
                                       temperature=spec.temperature, top_p=spec.top_p, seed=seed + sample)
        # One sample's answers are scored together, so that each is compared with the others.
        sample_scores = score_answers([(q, gen.text, gen.truncated) for q, gen in
                                       zip(suite.questions, generations, strict=True)], suite, vocabulary=vocabulary)
        for question, gen, s in zip(suite.questions, generations, sample_scores, strict=True):
            scores.append(s)
            answers.append({"question": question.id, "prompt": question.prompt, "sample": sample,
                            "response": gen.text, **s.to_json()})
    return Evaluation(scores, answers, evaluation_metrics(scores), time.perf_counter() - started)
