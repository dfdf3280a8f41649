"""From pooled evidence to one interval per metric (SPEC §7). Pure.

Evidence is one metrics dict per unit: a replicate of a `hyp run`, or a `hyp record`. Every rubric
metric is a mean or a count over questions, so where a unit logged its per-question scores
(`Q1.total`, `Q1.agent`, ...) the metric is rebuilt question by question and its interval is
clustered by question, with the units as the second level. A metric no unit can rebuild that way
is known only per unit: a t-interval over units, or, from one unit, a `point`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace

from hyp.hypotheses.criteria import CRITERIA
from hyp.hypotheses.statistics import Interval, clustered_interval, paired_difference, replicate_interval

POINTS_PER_QUESTION = 2 * len(CRITERIA)
REBUILD_TOLERANCE = 1e-3  # the rubric logs scores rounded to 4 decimals
_QUESTION_KEY = re.compile(r"^(?P<q>[^.]+)\.(?P<c>agent|factual|personality|complete|total)$")

# metric -> (per-question value from that question's scores, summed over questions rather than averaged)
PerQuestion = Callable[[dict[str, float]], float]


def _points(criterion: str) -> PerQuestion:
    return lambda q: q[criterion]


def _full_marks(criterion: str) -> PerQuestion:
    return lambda q: float(q[criterion] == 2)


_RULES: dict[str, tuple[PerQuestion, bool]] = {
    "score": (lambda q: q["total"] / POINTS_PER_QUESTION * 10, False),
    "points": (lambda q: q["total"], True),
    **{f"{c}_points": (_points(c), True) for c in CRITERIA},
    "agent_like_responses": (lambda q: float(q["agent"] < 2), True),
    **{f"{c}_responses": (_full_marks(c), True) for c in ("factual", "personality", "complete")},
}


def questions_of(unit: dict[str, float]) -> dict[str, dict[str, float]]:
    """The per-question scores a unit logged: {"Q1": {"agent": 2, ..., "total": 7}}; complete ones only."""
    out: dict[str, dict[str, float]] = {}
    for key, value in unit.items():
        m = _QUESTION_KEY.match(key)
        if m and math.isfinite(value):
            out.setdefault(m["q"], {})[m["c"]] = float(value)
    return {q: s for q, s in out.items() if all(k in s for k in (*CRITERIA, "total"))}


def question_rows(evidence: list[dict[str, float]], metric: str) -> tuple[list[dict[str, float]], float] | None:
    """(rows of per-question values, scale) for `metric` when every unit carrying it logged its
    questions and they add up to what it logged; None when the metric is not one the questions
    rebuild, some unit lacks them, or they disagree with the logged value (part of a suite logged)."""
    rule = _RULES.get(metric)
    if rule is None:
        return None
    value_of, summed = rule
    rows, counts = [], set()
    for unit in evidence:
        if metric not in unit:
            continue
        questions = questions_of(unit)
        if not questions:
            return None
        row = {q: value_of(s) for q, s in questions.items()}
        rebuilt = sum(row.values()) if summed else sum(row.values()) / len(row)
        if math.isfinite(unit[metric]) and abs(rebuilt - unit[metric]) > REBUILD_TOLERANCE:
            return None
        rows.append(row)
        counts.add(len(questions))
    if not rows or len(counts) != 1:
        return None
    return rows, float(counts.pop()) if summed else 1.0


def bounds(metric: str, questions: int) -> tuple[float, float] | None:
    """The values a rubric metric can take: an interval never claims more than that."""
    if metric == "score":
        return 0.0, 10.0
    if metric == "points":
        return 0.0, POINTS_PER_QUESTION * questions
    if metric in _RULES:
        return 0.0, (2.0 if metric.endswith("_points") else 1.0) * questions
    return None


def interval_of(evidence: list[dict[str, float]], metric: str, *, level: float = 0.95) -> Interval | None:
    # NaN or infinite values (a diverged loss logged as a metric) are no evidence for or against
    # anything; they are left out rather than allowed to poison a mean.
    values = [float(u[metric]) for u in evidence if metric in u and math.isfinite(float(u[metric]))]
    if not values:
        return None
    try:
        clustered = question_rows(evidence, metric)
        if clustered is not None:
            rows, scale = clustered
            limits = bounds(metric, 1)
            # Per-question values off the rubric's scale (a metric edited by hand) are not rubric scores:
            # the logged values alone are the evidence then.
            if limits is None or all(limits[0] <= v <= limits[1] for row in rows for v in row.values()):
                return _within(clustered_interval(rows, scale=scale, level=level, bounds=limits),
                               bounds(metric, len(rows[0])))
        return _within(replicate_interval(values, level=level), bounds(metric, 0) if metric == "score" else None)
    except OverflowError:
        # Values near the float limit (a diverged loss) have a spread no float holds: nothing is decided.
        # Their mean, scaled by the largest so no partial sum overflows: 3 × 1.8e308 / 3 is 1.8e308.
        big = max(abs(v) for v in values)
        mean = big * (math.fsum(v / big for v in values) / len(values))
        return Interval(mean, -math.inf, math.inf, len(values), 0, "t")


def _within(est: Interval, limits: tuple[float, float] | None) -> Interval:
    # A t-interval knows nothing of a scale's ends; the truth lies within them, so the interval may too.
    if limits is None or est.point:
        return est
    lo, hi = limits
    return replace(est, low=min(max(est.low, lo), hi), high=max(min(est.high, hi), lo))


def intervals(evidence: list[dict[str, float]], *, level: float = 0.95) -> dict[str, Interval]:
    metrics = sorted({k for unit in evidence for k in unit})
    out = {}
    for metric in metrics:
        est = interval_of(evidence, metric, level=level)
        if est is not None:
            out[metric] = est
    return out


def paired_gain(base: list[dict[str, float]], other: list[dict[str, float]], metric: str = "score",
                *, level: float = 0.95) -> Interval | None:
    """`other` − `base` on `metric`, paired by question; None where either side lacks its questions."""
    a, b = question_rows(base, metric), question_rows(other, metric)
    if a is None or b is None or a[1] != b[1]:
        return None
    return paired_difference(a[0], b[0], scale=a[1], level=level)
