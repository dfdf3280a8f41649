"""The verdict engine (SPEC §7): a pure function of a hypothesis and its evidence.

It never sees MLflow, files or clocks. Evidence is one metrics dict per replicate or record, every
result pooled; `hyp.hypotheses.intervals` turns it into an honest interval per metric.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from hyp.hypotheses.intervals import bounds, interval_of, intervals, question_rows
from hyp.hypotheses.schema import Condition, Hypothesis
from hyp.hypotheses.statistics import Interval, replicates_to_decide

Outcome = Literal["met", "not met", "undecided", "no data"]
VerdictName = Literal["CONFIRMED", "REJECTED", "INCONCLUSIVE", "PENDING"]
_VERDICT_OF = {"met": "CONFIRMED", "not met": "REJECTED", "undecided": "INCONCLUSIVE", "no data": "PENDING"}
LEVEL = 0.95


@dataclass(frozen=True)
class Judgement:
    level: str  # primary / secondary / tertiary, or the prediction's label
    metric: str
    op: str
    value: float | tuple[float, float]
    estimate: float | None
    low: float | None
    high: float | None
    outcome: Outcome
    point: bool = False  # judged on one number, not an interval


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictName
    observations: dict[str, Interval]
    criteria: list[Judgement]
    predictions: list[Judgement]
    level: float = LEVEL
    # When the primary criterion is undecided: about how many more replicates would likely decide it
    # (None: more seeds would not; the spread between questions is what keeps it open).
    more_replicates: int | None = None

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict,
            "observations": {k: {**asdict(v), "point": v.point} for k, v in self.observations.items()},
            "level": self.level,
            "more_replicates": self.more_replicates,
            "criteria": [_judgement_json(j, "level") for j in self.criteria],
            "predictions": [_judgement_json(j, "label") for j in self.predictions],
        }


def _judgement_json(j: Judgement, name_key: str) -> dict:
    value = list(j.value) if isinstance(j.value, tuple) else j.value
    return {name_key: j.level, "metric": j.metric, "op": j.op, "value": value, "estimate": j.estimate,
            "low": j.low, "high": j.high, "outcome": j.outcome, "point": j.point}


def judge(cond: Condition, est: Interval | None) -> Outcome:
    """Met when the whole interval satisfies the condition, not met when the whole interval violates it."""
    if est is None:
        return "no data"
    lo, hi, v, op = est.low, est.high, cond.value, cond.op
    if op == "between":
        a, b = v
        if a <= lo and hi <= b:
            return "met"
        return "not met" if hi < a or lo > b else "undecided"
    if op == ">=":
        return "met" if lo >= v else "not met" if hi < v else "undecided"
    if op == ">":
        return "met" if lo > v else "not met" if hi <= v else "undecided"
    if op == "<=":
        return "met" if hi <= v else "not met" if lo > v else "undecided"
    if op == "<":
        return "met" if hi < v else "not met" if lo >= v else "undecided"
    # "==": only a degenerate interval at the value satisfies it everywhere.
    if lo == hi == v:
        return "met"
    return "not met" if v < lo or v > hi else "undecided"


def decide(hyp: Hypothesis, evidence: list[dict[str, float]], *, level: float = LEVEL) -> Verdict:
    estimates = intervals(evidence, level=level)

    def j(level_name: str, cond: Condition) -> Judgement:
        est = estimates.get(cond.metric)
        return Judgement(level_name, cond.metric, cond.op, cond.value, est.estimate if est else None,
                         est.low if est else None, est.high if est else None, judge(cond, est),
                         bool(est and est.point))

    criteria = [j(name, c) for name, c in hyp.success_criteria.levels()]
    predictions = [j(p.label, p) for p in hyp.predictions]
    verdict = _VERDICT_OF[criteria[0].outcome] if estimates else "PENDING"
    more = None
    if criteria[0].outcome == "undecided":
        more = _more_replicates(hyp.success_criteria.primary, evidence, level)
    return Verdict(verdict, estimates, criteria, predictions, level, more)


def primary_decided(hyp: Hypothesis, evidence: list[dict[str, float]], *, level: float) -> bool:
    """Whether the primary criterion is met or not met at `level` (the stopping rule of --until-decided)."""
    primary = hyp.success_criteria.primary
    return judge(primary, interval_of(evidence, primary.metric, level=level)) in ("met", "not met")


def _more_replicates(cond: Condition, evidence: list[dict[str, float]], level: float) -> int | None:
    found = question_rows(evidence, cond.metric)
    if found is None or cond.op == "==":
        return None
    rows, scale = found
    est = interval_of(evidence, cond.metric, level=level)
    bar = min(cond.value, key=lambda b: abs(b - est.estimate)) if cond.op == "between" else cond.value
    return replicates_to_decide(rows, bar=bar, scale=scale, level=level, bounds=bounds(cond.metric, 1))
