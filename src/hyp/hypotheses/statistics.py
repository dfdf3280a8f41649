"""Intervals for evaluation metrics (SPEC §7): questions as clusters, replicates (seeds) as a second level.

Pure arithmetic on plain numbers: no I/O, no clocks, no randomness; the Student-t quantile is computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "Interval",
    "clustered_interval",
    "difference_of_means",
    "paired_difference",
    "replicate_interval",
    "replicates_to_decide",
    "sequential_level",
    "t_cdf",
    "t_quantile",
]

METHOD_NOTES = """Why this method.

An evaluation score is a mean over Q questions (typically 8), each answered once per replicate (training
seed). Two things make a score uncertain: which questions the suite happens to contain, and which seed
trained the model. The old interval (a percentile bootstrap over replicate scores) saw only the second, so
one run was "certain" and two runs covered the truth about half the time.

1. Questions are clusters (Miller 2024). Evan Miller, "Adding Error Bars to Evals: A Statistical Approach
   to Language Model Evaluations", arXiv:2411.00640, treats the questions of an eval as a sample from a
   super-population and recommends clustered standard errors whenever several answers share a question
   (there: resamples of one question; here: replicates of one question). We average every question over
   the replicates that have it and take the interval over the Q question means. A question mean's variance
   is sigma_question^2 + sigma_seed^2 / R, so the spread of the question means carries both the question
   sampling and the per-answer seed noise, and one run of 8 questions already has an honest interval.

2. Few clusters, so Student-t, not the normal (Bowyer et al. 2025). Sam Bowyer, Laurence Aitchison and
   Desi R. Ivanova, "Position: Don't use the CLT in LLM evals with fewer than a few hundred datapoints"
   (ICML 2025, arXiv:2503.01747) show that CLT (z) intervals badly under-cover with small n. With 8
   questions the cluster-robust z interval would be ~25% too narrow. We use the t reference distribution
   with Q - 1 degrees of freedom on the Q cluster means, the small-cluster correction that Miller also
   recommends and that Cameron & Miller, "A Practitioner's Guide to Cluster-Robust Inference" (J. Human
   Resources 50(2), 2015, sec. VI) give for few clusters. The t interval is exact for normal cluster means and
   close for bounded, discrete rubric scores; the tests check its real coverage by simulation (>= 93% for
   1-10 replicates of 8 questions, including scores near the ceiling). Bowyer et al. prefer Bayesian
   intervals; we keep the frequentist t interval because it has no prior to choose and its coverage is what
   the simulation verifies.

3. Seeds as a second level (two-way clustering). A training seed can move every answer of its replicate
   together (a better or worse model). That shared part cancels out of the question means, so when every
   replicate answered every question and there are R >= 2 replicates we add the replicate component of the
   two-way cluster variance of Cameron, Gelbach & Miller, "Robust Inference With Multiway Clustering"
   (J. Business & Economic Statistics 29(2), 2011): V = V_question + max(0, V_replicate - V_both), i.e.
   the ANOVA estimate sigma_replicate^2 / R, with Welch-Satterthwaite degrees of freedom between Q - 1 and
   R - 1. When replicates disagree only question by question it adds nothing. With one replicate this
   shared seed effect cannot be seen; the interval then rests on the questions alone.

Known limits. When every question mean is the same value (e.g. 10 on all 8 questions of one run) the
sample spread is zero and so is the interval: the data show no uncertainty and the interval does not invent
one (this is the degenerate case Bowyer et al. warn about; it happens only at the bounds of the scale in
practice). Intervals are not clipped to the scale: a mean near 10 can have high > 10. A metric known only as
one number per result has no questions to cluster on: its interval is a t interval over the results
("t"), and one result is judged on its value ("point").

Sequential looks. Adding replicates until the interval decides and stopping there ("peeking") inflates the
false-decision rate: each look at level 1 - alpha has its own chance alpha of a wrong decision. Running every
look at level 1 - alpha / K for at most K looks (Bonferroni alpha spending) keeps the total <= alpha by the
union bound; it is conservative but valid without assumptions on how the looks are correlated.
"""


@dataclass(frozen=True)
class Interval:
    """A mean with its interval; `n` results it rests on, `questions` clusters (0 when known only per result)."""

    estimate: float
    low: float
    high: float
    n: int
    questions: int = 0
    method: str = "cluster-t"  # "cluster-t" | "t" | "point"

    @property
    def point(self) -> bool:
        """True when the value is known only as one number: judged on that value, with no interval."""
        return self.method == "point"


# --- Student t ------------------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz; Numerical Recipes 6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` (> 0, not necessarily whole) degrees of freedom."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * _betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def _t_pdf(t: float, df: float) -> float:
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
                    - (df + 1) / 2 * math.log1p(t * t / df))


_QUANTILES: dict[tuple[float, float], float] = {}


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom (t_quantile(0.975, 7) = 2.3646).

    Closed forms for df 1 and 2; otherwise a Cornish-Fisher start refined by Newton steps on the exact CDF
    (regularized incomplete beta), kept inside a bisection bracket.
    """
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    key = (p, df)
    cached = _QUANTILES.get(key)
    if cached is not None:
        return cached
    if df == 1:
        q = math.tan(math.pi * (p - 0.5))
    elif df == 2:
        q = (2 * p - 1) * math.sqrt(2.0 / (4 * p * (1 - p)))
    elif df > 1e7:
        q = NormalDist().inv_cdf(p)
    else:
        q = _t_quantile_newton(p, df)
    if len(_QUANTILES) > 4096:
        _QUANTILES.clear()
    _QUANTILES[key] = q
    return q


def _t_quantile_newton(p: float, df: float) -> float:
    z = NormalDist().inv_cdf(p)
    z2 = z * z
    guess = z + (z2 + 1) * z / (4 * df) + ((5 * z2 + 16) * z2 + 3) * z / (96 * df**2) \
        + (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / (384 * df**3)
    lo, hi = 0.0, max(guess, 1.0)
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
    x = min(max(guess, lo), hi)
    for _ in range(200):
        f = t_cdf(x, df) - p
        if f == 0:
            return x
        if f < 0:
            lo = x
        else:
            hi = x
        step = f / _t_pdf(x, df)
        new = x - step
        if not lo < new < hi:
            new = (lo + hi) / 2
        if abs(new - x) <= 1e-13 * max(1.0, abs(x)) or hi - lo <= 1e-13 * max(1.0, hi):
            return new
        x = new
    return x


# --- building blocks ------------------------------------------------------------------------------


def _finite_rows(rows: list[dict[str, float]]) -> list[dict[str, float]]:
    out = []
    for row in rows:
        kept = {q: float(v) for q, v in row.items() if math.isfinite(float(v))}
        if kept:
            out.append(kept)
    return out


def _mean(xs: list[float]) -> float:
    return math.fsum(xs) / len(xs)


def _var(xs: list[float]) -> float:
    """Sample variance (n - 1); 0 for fewer than two values or when all are equal."""
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    if all(x == xs[0] for x in xs):
        return 0.0
    return math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1)


@dataclass(frozen=True)
class _Parts:
    """Variance decomposition of a rows x questions matrix."""

    qmeans: dict[str, float]
    rows: int
    complete: bool  # every row has every question (then the two-way seed component is available)
    ms_q: float  # mean square between questions (R * variance of the question means when complete)
    ms_r: float  # mean square between rows (replicates)
    ms_e: float  # residual mean square
    within: float  # pooled within-question variance (one-way ANOVA), 0 without replicates
    within_df: int


def _parts(rows: list[dict[str, float]]) -> _Parts:
    by_q: dict[str, list[float]] = {}
    for row in rows:
        for q, v in row.items():
            by_q.setdefault(q, []).append(v)
    qmeans = {q: _mean(vs) for q, vs in sorted(by_q.items())}
    within_ss = math.fsum(math.fsum((v - qmeans[q]) ** 2 for v in vs) for q, vs in by_q.items())
    within_df = sum(len(vs) - 1 for vs in by_q.values())
    within = within_ss / within_df if within_df else 0.0
    r, nq = len(rows), len(qmeans)
    complete = r >= 2 and nq >= 2 and all(len(row) == nq for row in rows)
    ms_q = ms_r = ms_e = 0.0
    if complete:
        grand = _mean(list(qmeans.values()))
        rmeans = [_mean(list(row.values())) for row in rows]
        ms_q = r * math.fsum((m - grand) ** 2 for m in qmeans.values()) / (nq - 1)
        ms_r = nq * math.fsum((m - grand) ** 2 for m in rmeans) / (r - 1)
        ss_e = math.fsum((row[q] - rm - qmeans[q] + grand) ** 2
                         for row, rm in zip(rows, rmeans, strict=True) for q in qmeans)
        ms_e = ss_e / ((nq - 1) * (r - 1))
    return _Parts(qmeans, r, complete, ms_q, ms_r, ms_e, within, within_df)


def _seed_component(parts: _Parts) -> float:
    """Variance of the grand mean from seed effects shared by a replicate's answers: sigma_replicate^2 / R."""
    if not parts.complete:
        return 0.0
    nq = len(parts.qmeans)
    return max(0.0, parts.ms_r - parts.ms_e) / (nq * parts.rows)


def _satterthwaite(terms: list[tuple[float, float]]) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of variance terms (value, df)."""
    total = math.fsum(v for v, _ in terms)
    denom = math.fsum(v * v / d for v, d in terms if v > 0)
    return total * total / denom if denom > 0 else min(d for _, d in terms)


def _make(estimate: float, var: float, df: float, level: float, n: int, questions: int, method: str) -> Interval:
    if var <= 0.0:
        return Interval(estimate, estimate, estimate, n, questions, method)
    half = t_quantile((1.0 + level) / 2.0, max(df, 1.0)) * math.sqrt(var)
    return Interval(estimate, estimate - half, estimate + half, n, questions, method)


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")


# --- public API -----------------------------------------------------------------------------------


def replicate_interval(values: list[float], *, level: float = 0.95) -> Interval:
    """A metric known only as one number per result: one value is a `point`; two or more a t interval ("t").

    Non-finite values (a diverged loss) are left out. Raises ValueError when no finite value remains.
    """
    _check_level(level)
    xs = [float(v) for v in values if math.isfinite(float(v))]
    if not xs:
        raise ValueError("no finite values")
    m = _mean(xs)
    if len(xs) == 1:
        return Interval(m, m, m, 1, 0, "point")
    return _make(m, _var(xs) / len(xs), len(xs) - 1, level, len(xs), 0, "t")


def clustered_interval(rows: list[dict[str, float]], *, scale: float = 1.0, level: float = 0.95) -> Interval:
    """The interval of a rubric metric from its per-question values, questions as clusters (see METHOD_NOTES).

    `rows` holds one dict per result/replicate, question id -> value. The estimate is `scale` times the mean
    of the question means, each question averaged over the rows that have it; `scale` turns a mean per
    question into a total (points = Q * mean). The interval is a Student t interval over the question means
    (df = Q - 1); with two or more complete rows it also carries the seed effect shared by a replicate's
    answers (two-way clustering, Satterthwaite df). One question falls back to a t interval over the rows,
    or a point for one row. Equal question means (and no seed effect) give a zero-width interval.
    """
    _check_level(level)
    rows = _finite_rows(rows)
    if not rows:
        raise ValueError("no finite values")
    parts = _parts(rows)
    nq = len(parts.qmeans)
    if nq == 1:
        iv = replicate_interval([v for row in rows for v in row.values()], level=level)
        return Interval(scale * iv.estimate, scale * iv.low, scale * iv.high, iv.n, 1, iv.method) if scale >= 0 \
            else Interval(scale * iv.estimate, scale * iv.high, scale * iv.low, iv.n, 1, iv.method)
    means = list(parts.qmeans.values())
    v_q = _var(means) / nq
    v_b = _seed_component(parts)
    df = _satterthwaite([(v_q, nq - 1), (v_b, parts.rows - 1)]) if v_b > 0 else nq - 1
    return _make(scale * _mean(means), scale * scale * (v_q + v_b), df, level, len(rows), nq, "cluster-t")


def paired_difference(base_rows: list[dict[str, float]], other_rows: list[dict[str, float]], *,
                      scale: float = 1.0, level: float = 0.95) -> Interval | None:
    """other - base, paired by question over the questions both have (each side: question mean over its rows).

    A t interval over the per-question differences (df = common questions - 1), plus each side's seed effect
    shared across its replicates where that side has two or more complete rows (as in `clustered_interval`).
    `n` counts the results of both sides. None when fewer than 2 questions are common. Pairing by seed as well
    needs seed labels, which rows do not carry: replicates of the two sides are treated as independent.
    """
    _check_level(level)
    base, other = _finite_rows(base_rows), _finite_rows(other_rows)
    if not base or not other:
        return None
    pb, po = _parts(base), _parts(other)
    common = sorted(set(pb.qmeans) & set(po.qmeans))
    if len(common) < 2:
        return None
    diffs = [po.qmeans[q] - pb.qmeans[q] for q in common]
    m = len(common)
    v_q = _var(diffs) / m
    # Seed components only when both sides use exactly the common questions (else their scale differs).
    terms = [(v_q, m - 1)]
    for p in (pb, po):
        if len(p.qmeans) == m:
            v_b = _seed_component(p)
            if v_b > 0:
                terms.append((v_b, p.rows - 1))
    var = math.fsum(v for v, _ in terms)
    df = _satterthwaite(terms) if len(terms) > 1 else m - 1
    return _make(scale * _mean(diffs), scale * scale * var, df, level, len(base) + len(other), m, "cluster-t")


def difference_of_means(base_values: list[float], other_values: list[float], *,
                        level: float = 0.95) -> Interval | None:
    """other - base for metrics known only as one number per result: Welch's t interval.

    Returns None when either side has fewer than 2 (finite) values: a single value has no spread to compare
    with, so no honest interval exists; the caller shows the raw difference as a point if it wants one.
    """
    _check_level(level)
    b = [float(v) for v in base_values if math.isfinite(float(v))]
    o = [float(v) for v in other_values if math.isfinite(float(v))]
    if len(b) < 2 or len(o) < 2:
        return None
    vb, vo = _var(b) / len(b), _var(o) / len(o)
    df = _satterthwaite([(vb, len(b) - 1), (vo, len(o) - 1)])
    return _make(_mean(o) - _mean(b), vb + vo, df, level, len(b) + len(o), 0, "t")


def replicates_to_decide(rows: list[dict[str, float]], *, bar: float, scale: float = 1.0, level: float = 0.95,
                         limit: int = 50) -> int | None:
    """Roughly how many more replicates would likely put the whole interval on one side of `bar`.

    0 when the interval already does. Otherwise the variance is split (random-effects ANOVA on the rows x
    questions matrix) into a between-question part, which more seeds cannot shrink, a per-answer seed part
    and, with complete rows, a seed effect shared by a replicate's answers; the answer is the smallest extra
    R for which t * projected standard error < |estimate - bar|, assuming the estimate stays where it is (so
    "likely" means about even odds). None when even `limit` more would not do it, e.g. when the spread
    between questions alone keeps the interval across the bar (more questions are needed, not seeds), or
    when the estimate sits on the bar.

    With one row the split cannot be observed. We then take the seed variance to be the whole observed
    variance of the question values (no between-question part): the guess under which seeds help most, so
    the count is a lower bound and a None is firm. It is conservative in the sense that a single run is never
    told that more seeds are useless.
    """
    _check_level(level)
    rows = _finite_rows(rows)
    if not rows:
        return None
    current = clustered_interval(rows, scale=scale, level=level)
    if current.low > bar or current.high < bar or (current.low == current.high == bar):
        return 0
    gap = abs(current.estimate - bar)
    if gap == 0:
        return None
    parts = _parts(rows)
    nq, r = len(parts.qmeans), len(rows)
    if nq == 1:  # one question: replicates are the only sample
        values = [v for row in rows for v in row.values()]
        if len(values) < 2:
            return None
        s2 = _var(values)
        for extra in range(1, limit + 1):
            total = r + extra
            if t_quantile((1 + level) / 2, total - 1) * abs(scale) * math.sqrt(s2 / total) < gap:
                return extra
        return None
    means = list(parts.qmeans.values())
    if r == 1:
        between, seed, shared = 0.0, _var(means), 0.0
    elif parts.complete:
        seed = parts.ms_e
        between = max(0.0, (parts.ms_q - parts.ms_e) / r)
        shared = max(0.0, (parts.ms_r - parts.ms_e) / nq)
    else:
        seed = parts.within
        harmonic = _mean([1.0 / n for n in _counts(rows).values()])
        between = max(0.0, _var(means) - seed * harmonic)
        shared = 0.0
    for extra in range(1, limit + 1):
        total = r + extra
        v_q = (between + seed / total) / nq
        v_b = shared / total
        df = _satterthwaite([(v_q, nq - 1), (v_b, total - 1)]) if v_b > 0 else nq - 1
        se = abs(scale) * math.sqrt(v_q + v_b)
        if t_quantile((1 + level) / 2, max(df, 1.0)) * se < gap:
            return extra
    return None


def _counts(rows: list[dict[str, float]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        for q in row:
            counts[q] = counts.get(q, 0) + 1
    return counts


def sequential_level(looks: int, *, alpha: float = 0.05) -> float:
    """The confidence level to use at every look when replicates are added until the interval decides.

    Peeking k times at level 1 - alpha and stopping at the first decision makes a false decision more likely
    than alpha (each look is another chance). Spending alpha evenly over at most `looks` looks (Bonferroni,
    1 - alpha / looks) keeps the chance of any false decision <= alpha by the union bound, whatever the
    correlation between looks: simple and valid, at the price of wider intervals per look.
    """
    if looks < 1:
        raise ValueError("looks must be at least 1")
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be in (0, 1)")
    return 1.0 - alpha / looks
