"""Scoring a set of answers, the one way `hyp run` and `hyp record --responses` do it (SPEC §4): the
rubric with its coherence checks, then the judge where one is configured (judge over rubric, per
criterion), the overlap with reference answers, and the agreement between the scorers."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from hyp.experiments.rubric import AnswerScore, evaluation_metrics, score_answers
from hyp.hypotheses.agreement import Agreement, agreement
from hyp.hypotheses.criteria import CRITERIA
from hyp.hypotheses.judging import JudgeSettings
from hyp.hypotheses.schema import EvalSuite, Question
from hyp.results.observations import AGREEMENT_TAG, SCORERS, points_text, pooled_agreements


@dataclass(frozen=True)
class Scorers:
    """Everything that scores an answer in one lab: the suite, the words it knows, the judge (optional)."""

    suite: EvalSuite
    vocabulary: frozenset[str] = frozenset()
    judge: JudgeSettings | None = None
    judge_cache: Path | None = None
    # Judgements that failed in this command (one Scorers per command), so that no later set of answers
    # asks the same (model, prompt, answer) again; see judge_answers.
    judge_failures: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


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
                               scorers.judge_cache or Path(".hyp/judge"), failed=scorers.judge_failures)
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
        if auto != score or "judge" in source.values():
            # The rubric's own points wherever another scorer's count: their agreement is read from these.
            answer["rubric"] = {c: getattr(auto, c) for c in CRITERIA}
        if q.reference:
            answer["rouge_l"] = round(rouge_l(q.reference, text), 4)
        answers.append(answer)
    return Scored(list(final), list(rubric), answers, warnings, requests)


def set_metrics(scored: list[Scored]) -> dict[str, float]:
    """The contract metrics of what counts; with a judge, the rubric's own as `rubric.*` and how far the
    two agree on the answers the judge scored; the reference overlap per question (`Q1.rouge_l`) and
    overall (`rouge_l`)."""
    scores = [s for x in scored for s in x.scores]
    metrics = evaluation_metrics(scores)
    if any(x.judged for x in scored):
        rubric = [s for x in scored for s in x.rubric]
        metrics |= {f"rubric.{k}": v for k, v in evaluation_metrics(rubric).items() if "." not in k}
        metrics |= pair_metrics([a for x in scored for a in x.answers])
    overlaps: dict[str, list[float]] = {}
    for answer in (a for x in scored for a in x.answers):
        if "rouge_l" in answer:
            overlaps.setdefault(answer["question"], []).append(answer["rouge_l"])
    for q, values in overlaps.items():
        metrics[f"{q}.rouge_l"] = sum(values) / len(values)
    if overlaps:
        metrics["rouge_l"] = sum(metrics[f"{q}.rouge_l"] for q in overlaps) / len(overlaps)
    return metrics


def scores_of(answers: list[dict]) -> list[AnswerScore]:
    """The points that count, as logged with the answers (answers.json), back as scores."""
    names = {f.name for f in fields(AnswerScore)}
    return [AnswerScore(**{k: v for k, v in a.items() if k in names}) for a in answers]


def points_by_scorer(answer: dict) -> dict[str, dict[str, int]]:
    """Who gave which points on one logged answer: the person, the judge, the rubric, each only where
    it scored. The points that count sit at the top (`sources` says whose they are); those they
    overrode are kept beside them, as `judge` and `rubric`."""
    sources = answer.get("sources") or {}
    out: dict[str, dict[str, int]] = {}
    for c in CRITERIA:
        if isinstance(answer.get(c), int):
            out.setdefault(sources.get(c) or answer.get("source") or "rubric", {})[c] = answer[c]
    for scorer in ("judge", "rubric"):
        for c, value in (answer.get(scorer) or {}).items():
            if c in CRITERIA and isinstance(value, int):
                out.setdefault(scorer, {}).setdefault(c, value)
    return out


def pair_metrics(answers: list[dict]) -> dict[str, float]:
    """`agreement.<first>_<second>.<criterion>` and `kappa.…` for every pair of scorers of these answers,
    each on the answers both scored (a judgement the judge failed to give is no agreement with the rubric)."""
    rows = [(label, "", points_by_scorer(a)) for label, a in zip(answer_labels(answers), answers, strict=True)]
    out = {}
    for g in pooled_agreements(rows):
        name = f"{g['first']}_{g['second']}.{g['criterion']}"
        out[f"agreement.{name}"] = g["percent"] / 100  # a share, as `agreement.<criterion>` has always been
        out |= {f"kappa.{name}": g["kappa"], f"kappa.{name}.low": g["low"], f"kappa.{name}.high": g["high"]}
    return out


def agreements(first: list[AnswerScore], second: list[AnswerScore], first_name: str, second_name: str
               ) -> list[Agreement]:
    """Per criterion: weighted κ with its interval, the confusion matrix and the answers scored differently."""
    ids = [s.question for s in first]
    return [agreement(c, first_name, second_name, ids, [getattr(s, c) for s in first],
                      [getattr(s, c) for s in second]) for c in CRITERIA]


def agreement_metrics(found: list[Agreement], pair: str | None = None) -> dict[str, float]:
    """`agreement.<criterion>` (share of answers scored alike, 0 to 1) and `kappa.<criterion>` with its
    bounds; `pair` names the scorers when they are not hand against the automatic scores."""
    prefix = f"{pair}." if pair else ""
    out = {}
    for g in found:
        out[f"agreement.{prefix}{g.criterion}"] = g.percent
        out[f"kappa.{prefix}{g.criterion}"] = g.kappa
        out[f"kappa.{prefix}{g.criterion}.low"] = g.low
        out[f"kappa.{prefix}{g.criterion}.high"] = g.high
    return out


FLAGS_TAG = "hyp.flags"
TAG_LIMIT = 7900  # MLflow keeps at most 8,000 characters in a tag
SHORT = 60  # characters of an answer kept beside its points in the agreement tag: enough to recognise it


def answer_labels(answers: list[dict]) -> list[str]:
    """Q3, or "Q3 sample 2" where a question was answered more than once: unique within one run."""
    counts: dict[str, int] = {}
    for a in answers:
        counts[a["question"]] = counts.get(a["question"], 0) + 1
    seen: dict[str, int] = {}
    labels = []
    for a in answers:
        q = a["question"]
        seen[q] = seen.get(q, 0) + 1
        sample = a["sample"] + 1 if isinstance(a.get("sample"), int) else seen[q]
        labels.append(q if counts[q] == 1 else f"{q} sample {sample}")
    return labels


def answer_tags(answers: list[dict]) -> dict[str, str]:
    """What `hyp show` and the report read off a run's answers without its artifacts: the coherence
    flags, and each scorer's points per answer where two or more scored them (their agreement is
    pooled from these over every result that counts)."""
    return _flags_tag(answers) | _points_tags(answers)




def _flags_tag(answers: list[dict]) -> dict[str, str]:
    """The coherence flags of a run's answers as a tag, so `hyp show` lists them without reading artifacts."""
    import json

    flagged = {label: list(a["flags"]) for label, a in zip(answer_labels(answers), answers, strict=True)
               if a.get("flags")}
    text = json.dumps(flagged, ensure_ascii=False)
    while len(text) > TAG_LIMIT and flagged:
        flagged.popitem()
        text = json.dumps({**flagged, "…": ["more in answers.json"]}, ensure_ascii=False)
    return {FLAGS_TAG: text}


def _points_tags(answers: list[dict]) -> dict[str, str]:
    import json

    from hyp.store.secrets import redact

    points = [points_by_scorer(a) for a in answers]
    scorers = [s for s in SCORERS if any(s in p for p in points)]
    if len(scorers) < 2:
        return {}
    rows = []
    for label, answer, p in zip(answer_labels(answers), answers, points, strict=True):
        text = " ".join(str(answer.get("response") or "").split())
        text = redact(text if len(text) <= SHORT else text[: SHORT - 1] + "…")
        rows.append([label, *(points_text(p.get(s, {})) for s in scorers), text])
    # Split over numbered tags rather than cut: every answer counts in the pooled κ.
    tags, part = {}, []
    for row in rows:
        if part and len(json.dumps({"scorers": scorers, "answers": [*part, row]}, ensure_ascii=False)) > TAG_LIMIT:
            tags[_part_key(len(tags))] = json.dumps({"scorers": scorers, "answers": part}, ensure_ascii=False)
            part = []
        part.append(row)
    tags[_part_key(len(tags))] = json.dumps({"scorers": scorers, "answers": part}, ensure_ascii=False)
    return tags


def _part_key(index: int) -> str:
    return AGREEMENT_TAG if index == 0 else f"{AGREEMENT_TAG}.{index + 1}"
