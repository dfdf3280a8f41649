"""The verdict engine (SPEC §7): a pure function of a hypothesis and its observations.

It never sees MLflow, files or clocks. Observations are plain lists of numbers per metric.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Literal

from hyp.hypotheses.schema import Condition, Hypothesis

Outcome = Literal["met", "not met", "undecided", "no data"]
VerdictName = Literal["CONFIRMED", "REJECTED", "INCONCLUSIVE", "PENDING"]
_VERDICT_OF = {"met": "CONFIRMED", "not met": "REJECTED", "undecided": "INCONCLUSIVE", "no data": "PENDING"}

RESAMPLES = 4000


@dataclass(frozen=True)
class Estimate:
    estimate: float
    low: float
    high: float
    n: int


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


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictName
    observations: dict[str, Estimate]
    criteria: list[Judgement]
    predictions: list[Judgement]

    def to_json(self) -> dict:
        return {
            "verdict": self.verdict,
            "observations": {k: asdict(v) for k, v in self.observations.items()},
            "criteria": [_judgement_json(j, "level") for j in self.criteria],
            "predictions": [_judgement_json(j, "label") for j in self.predictions],
        }


def _judgement_json(j: Judgement, name_key: str) -> dict:
    value = list(j.value) if isinstance(j.value, tuple) else j.value
    return {name_key: j.level, "metric": j.metric, "op": j.op, "value": value, "estimate": j.estimate,
            "low": j.low, "high": j.high, "outcome": j.outcome}


def estimate(values: list[float], *, seed: int = 0, resamples: int = RESAMPLES) -> Estimate:
    """Mean and 95% percentile-bootstrap interval; one value is its own interval."""
    # Sorted, so the interval does not depend on the order the replicates finished in.
    values = sorted(float(v) for v in values)
    n = len(values)
    lo_v, hi_v = values[0], values[-1]
    if lo_v == hi_v:
        return Estimate(lo_v, lo_v, hi_v, n)

    # Values near the float limit are scaled down while summed, so that the sum cannot overflow.
    scale = 2.0**-64 if max(-lo_v, hi_v) > 1e300 else 1.0

    def mean_of(xs):  # clamped: float rounding must not put a mean outside its own values
        return min(max(math.fsum(x * scale for x in xs) / len(xs) / scale, lo_v), hi_v)

    mean = mean_of(values)
    rng = random.Random(seed)
    means = sorted(mean_of(rng.choices(values, k=n)) for _ in range(resamples))
    low = means[int(0.025 * (resamples - 1))]
    high = means[int(round(0.975 * (resamples - 1)))]
    return Estimate(mean, low, high, n)


def judge(cond: Condition, est: Estimate | None) -> Outcome:
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


def decide(hyp: Hypothesis, observations: dict[str, list[float]]) -> Verdict:
    # NaN or infinite values (a diverged loss logged as a metric) are no evidence for or against
    # anything; they are left out rather than allowed to poison a mean.
    finite = {m: [float(v) for v in vals if math.isfinite(float(v))] for m, vals in observations.items()}
    estimates = {m: estimate(vals) for m, vals in sorted(finite.items()) if vals}

    def j(level: str, cond: Condition) -> Judgement:
        est = estimates.get(cond.metric)
        return Judgement(level, cond.metric, cond.op, cond.value, est.estimate if est else None,
                         est.low if est else None, est.high if est else None, judge(cond, est))

    criteria = [j(level, c) for level, c in hyp.success_criteria.levels()]
    predictions = [j(p.label, p) for p in hyp.predictions]
    verdict = _VERDICT_OF[criteria[0].outcome] if estimates else "PENDING"
    return Verdict(verdict, estimates, criteria, predictions)
