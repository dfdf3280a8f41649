"""Scoring a set of answers, the one way `hyp run` and `hyp record --responses` do it (SPEC §4): the
rubric with its coherence checks, then the judge where one is configured (judge over rubric, per
criterion), the overlap with reference answers, and the agreement between the scorers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hyp.experiments.rubric import AnswerScore, evaluation_metrics, score_answers
from hyp.hypotheses.agreement import Agreement, agreement
from hyp.hypotheses.criteria import CRITERIA
from hyp.hypotheses.judging import JudgeSettings
from hyp.hypotheses.schema import EvalSuite, Question


@dataclass(frozen=True)
class Scorers:
    """Everything that scores an answer in one lab: the suite, the words it knows, the judge (optional)."""

    suite: EvalSuite
    vocabulary: frozenset[str] = frozenset()
    judge: JudgeSettings | None = None
    judge_cache: Path | None = None


@dataclass
class Scored:
    scores: list[AnswerScore]  # what counts: the judge's score where it gave one, else the rubric's
    rubric: list[AnswerScore]
    answers: list[dict]  # per answer: question, prompt, response, scores, flags, sources, rationales
    warnings: list[str] = field(default_factory=list)
    judge_requests: int = 0

    @property
    def judged(self) -> bool:
        return any(a.get("sources", {}).get(c) == "judge" for a in self.answers for c in CRITERIA)


def score_set(items: list[tuple[Question, str, bool]], scorers: Scorers, *, sample: int | None = None) -> Scored:
    """Score one set of answers (question, text, truncated) together: coherence compares them with each other."""
    from hyp.experiments.reference import rouge_l

    rubric = score_answers(items, scorers.suite, vocabulary=scorers.vocabulary)
    final, sources, rationales = rubric, [dict.fromkeys(CRITERIA, "rubric") for _ in rubric], [{} for _ in rubric]
    warnings, requests = [], 0
    if scorers.judge is not None:
        from hyp.experiments.judge import apply_judgements, judge_answers

        result = judge_answers(scorers.judge, [(q, text) for q, text, _ in items], scorers.suite,
                               scorers.judge_cache or Path(".hyp/judge"))
        final, sources = apply_judgements(rubric, result.scores)
        rationales = [{c: why for c, (_, why) in judged.items()} for judged in result.scores]
        warnings, requests = result.warnings, result.requests
    answers = []
    for (q, text, _), score, auto, source, why in zip(items, final, rubric, sources, rationales, strict=True):
        answer = {"question": q.id, "prompt": q.prompt, **({"sample": sample} if sample is not None else {}),
                  "response": text, **score.to_json(), "sources": source}
        if why:
            answer["rationales"] = why
            answer["judge_model"] = scorers.judge.model
        if auto != score:
            answer["rubric"] = {c: getattr(auto, c) for c in CRITERIA}
        if q.reference:
            answer["rouge_l"] = round(rouge_l(q.reference, text), 4)
        answers.append(answer)
    return Scored(list(final), list(rubric), answers, warnings, requests)


def set_metrics(scored: list[Scored]) -> dict[str, float]:
    """The contract metrics of what counts; with a judge, the rubric's own as `rubric.*` and how far the
    two agree; the reference overlap per question (`Q1.rouge_l`) and overall (`rouge_l`)."""
    scores = [s for x in scored for s in x.scores]
    metrics = evaluation_metrics(scores)
    if any(x.judged for x in scored):
        rubric = [s for x in scored for s in x.rubric]
        metrics |= {f"rubric.{k}": v for k, v in evaluation_metrics(rubric).items() if "." not in k}
        metrics |= agreement_metrics(agreements(scores, rubric, "judge", "rubric"), "judge_rubric")
    overlaps: dict[str, list[float]] = {}
    for answer in (a for x in scored for a in x.answers):
        if "rouge_l" in answer:
            overlaps.setdefault(answer["question"], []).append(answer["rouge_l"])
    for q, values in overlaps.items():
        metrics[f"{q}.rouge_l"] = sum(values) / len(values)
    if overlaps:
        metrics["rouge_l"] = sum(metrics[f"{q}.rouge_l"] for q in overlaps) / len(overlaps)
    return metrics


def agreements(first: list[AnswerScore], second: list[AnswerScore], first_name: str, second_name: str
               ) -> list[Agreement]:
    """Per criterion: weighted κ with its interval, the confusion matrix and the answers scored differently."""
    ids = [s.question for s in first]
    return [agreement(c, first_name, second_name, ids, [getattr(s, c) for s in first],
                      [getattr(s, c) for s in second]) for c in CRITERIA]


def agreement_metrics(found: list[Agreement], pair: str | None = None) -> dict[str, float]:
    """`agreement.<criterion>` (share of answers scored alike) and `kappa.<criterion>` with its bounds;
    `pair` names the scorers when they are not hand against the automatic scores."""
    prefix = f"{pair}." if pair else ""
    out = {}
    for g in found:
        out[f"agreement.{prefix}{g.criterion}"] = g.percent
        out[f"kappa.{prefix}{g.criterion}"] = g.kappa
        out[f"kappa.{prefix}{g.criterion}.low"] = g.low
        out[f"kappa.{prefix}{g.criterion}.high"] = g.high
    return out


FLAGS_TAG = "hyp.flags"
AGREEMENT_TAG = "hyp.agreement"
TAG_LIMIT = 7900  # MLflow keeps at most 8,000 characters in a tag


def flags_tag(answers: list[dict]) -> dict[str, str]:
    """The coherence flags of a run's answers as a tag, so `hyp show` lists them without reading artifacts."""
    import json

    flagged = {(a["question"] + (f"#{a['sample']}" if a.get("sample") else "")): list(a["flags"])
               for a in answers if a.get("flags")}
    text = json.dumps(flagged, ensure_ascii=False)
    while len(text) > TAG_LIMIT and flagged:
        flagged.popitem()
        text = json.dumps({**flagged, "…": ["more in answers.json"]}, ensure_ascii=False)
    return {FLAGS_TAG: text}


def agreement_tag(found: list[Agreement]) -> dict[str, str]:
    import json

    return {AGREEMENT_TAG: json.dumps([g.to_json() for g in found], ensure_ascii=False)[:TAG_LIMIT]}
