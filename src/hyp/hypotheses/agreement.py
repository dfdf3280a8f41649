"""How far two scorers of the same answers agree, per criterion (SPEC §4 precedence). Pure.

Scores are ordinal (0, 1, 2), so agreement is Cohen's κ with linear weights: a one-point
disagreement counts half as much as a two-point one, as a person reading the rubric's table
would weigh it (quadratic weights would forgive one-point slips more than the table does).
With 8-32 answers the sampling error of κ is large, so it always comes with a 95% interval:
a percentile bootstrap over answers (seeded, so the same scores give the same interval),
which unlike the asymptotic formula stays inside [-1, 1] and needs no normality at small n.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

LEVELS = (0, 1, 2)
RESAMPLES = 2000
TRUST_KAPPA = 0.6  # below this on 8 or more hand-scored answers, automatic scores are not to be trusted
TRUST_MIN_ANSWERS = 8


@dataclass(frozen=True)
class Agreement:
    criterion: str
    first: str  # who scored, e.g. "hand"
    second: str  # e.g. "rubric" or "judge"
    n: int
    percent: float
    kappa: float
    low: float
    high: float
    confusion: list[list[int]]  # confusion[a][b]: answers the first scored a and the second b
    disagreements: list[str]  # the answers (question ids) they scored differently

    def to_json(self) -> dict:
        return asdict(self)


def weighted_kappa(a: list[int], b: list[int]) -> float:
    """Linear-weighted Cohen's κ; 1.0 when both scorers gave one and the same value throughout."""
    n = len(a)
    if n == 0:
        return float("nan")
    span = LEVELS[-1] - LEVELS[0]

    def w(i: int, j: int) -> float:
        return 1.0 - abs(i - j) / span

    observed = sum(w(x, y) for x, y in zip(a, b, strict=True)) / n
    pa = {k: a.count(k) / n for k in LEVELS}
    pb = {k: b.count(k) / n for k in LEVELS}
    expected = sum(w(i, j) * pa[i] * pb[j] for i in LEVELS for j in LEVELS)
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def agreement(criterion: str, first: str, second: str, ids: list[str], a: list[int], b: list[int], *,
              seed: int = 0) -> Agreement:
    n = len(a)
    kappa = weighted_kappa(a, b)
    rng = random.Random(seed)
    draws = []
    for _ in range(RESAMPLES):
        idx = [rng.randrange(n) for _ in range(n)]
        draws.append(weighted_kappa([a[i] for i in idx], [b[i] for i in idx]))
    draws.sort()
    low, high = draws[int(0.025 * (RESAMPLES - 1))], draws[int(round(0.975 * (RESAMPLES - 1)))]
    confusion = [[sum(1 for x, y in zip(a, b, strict=True) if (x, y) == (i, j)) for j in LEVELS] for i in LEVELS]
    disagreements = [q for q, x, y in zip(ids, a, b, strict=True) if x != y]
    percent = sum(x == y for x, y in zip(a, b, strict=True)) / n if n else float("nan")
    return Agreement(criterion, first, second, n, percent, kappa, min(low, kappa), max(high, kappa), confusion,
                     disagreements)


def untrustworthy(agreements: list[Agreement]) -> list[Agreement]:
    """The criteria whose automatic scores a person's scores do not back up (κ < 0.6 on 8+ answers)."""
    return [g for g in agreements if g.n >= TRUST_MIN_ANSWERS and g.kappa < TRUST_KAPPA]
