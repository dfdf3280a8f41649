"""Intervals for evaluation metrics (SPEC §7): questions as clusters, replicates (seeds) as a second level.
Pure arithmetic: no I/O, clocks or randomness (the Student-t quantile comes from student_t, no SciPy)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from hyp.hypotheses.student_t import t_cdf, t_quantile

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


def _beta_excess_kurtosis(mean: float, dispersion: float) -> float:
    """Excess kurtosis of the Beta distribution with this mean (in (0, 1)) and variance dispersion * m(1 - m)."""
    dispersion = min(dispersion, 0.999)
    if dispersion <= 0.0:
        return 0.0
    k = 1.0 / dispersion - 1.0
    a, b = mean * k, (1.0 - mean) * k
    return 6.0 * ((a - b) ** 2 * (a + b + 1) - a * b * (a + b + 2)) / (a * b * (a + b + 2) * (a + b + 3))


def _bounds_of(lo_hi: tuple[float, float] | None) -> tuple[float, float] | None:
    if lo_hi is None:
        return None
    lo, hi = float(lo_hi[0]), float(lo_hi[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError("bounds must be two finite numbers, low < high")
    return lo, hi


def _limits(mean: float, v_q: float, df_q: float, v_b: float, df_b: float, clusters: int, level: float,
            bounds: tuple[float, float] | None) -> tuple[float, float]:
    """Interval limits (unscaled) around `mean` from the cluster variance v_q and the shared-seed variance v_b.

    Without bounds: mean +- t * sqrt(v_q + v_b). With bounds the question means are treated as a bounded,
    over-dispersed proportion (see `clustered_interval`): fewer degrees of freedom where the implied question
    distribution is heavy-tailed, the union with the quasi-binomial score interval, and clipping to the bounds.
    """
    if v_q + v_b <= 0.0:
        return mean, mean
    span = x = bern = 0.0
    if bounds is not None:
        span = bounds[1] - bounds[0]
        x = (mean - bounds[0]) / span
        bern = x * (1.0 - x)
        if bern > 0.0:
            dispersion = clusters * v_q / span**2 / bern  # s^2 of the question means / (m(1 - m)), on [0, 1]
            excess = _beta_excess_kurtosis(x, dispersion)
            if excess > 0.0:  # Var(s^2) = sigma^4 (2 / (n - 1) + excess / n)  ->  an effective df for s^2
                n = clusters
                df_q = min(df_q, max(2.0 * (n - 1) / (2.0 + excess * (n - 1) / n), df_q / 2.0))
    df = _satterthwaite([(v_q, df_q), (v_b, df_b)]) if v_b > 0.0 else df_q
    t = t_quantile((1.0 + level) / 2.0, max(df, 1.0))
    half = t * math.sqrt(v_q + v_b)
    low, high = mean - half, mean + half
    if bounds is not None:
        if bern > 0.0:
            # Score (Wilson-type) interval: all m with (x - m)^2 <= t^2 (v_q m(1 - m) / (x(1 - x)) + v_b), on [0, 1].
            k = t * t * v_q / span**2 / bern
            c = t * t * v_b / span**2
            disc = max(k * k + 4.0 * k * x * (1.0 - x) + 4.0 * (1.0 + k) * c, 0.0)
            w_low = (2.0 * x + k - math.sqrt(disc)) / (2.0 * (1.0 + k))
            w_high = (2.0 * x + k + math.sqrt(disc)) / (2.0 * (1.0 + k))
            low = min(low, bounds[0] + span * w_low)
            high = max(high, bounds[0] + span * w_high)
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return low, high


def _scaled(mean: float, low: float, high: float, scale: float, n: int, questions: int, method: str) -> Interval:
    a, b = scale * low, scale * high
    return Interval(scale * mean, min(a, b), max(a, b), n, questions, method)


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")


def _check_within(rows: list[dict[str, float]], bounds: tuple[float, float] | None) -> None:
    if bounds is None:
        return
    for row in rows:
        for q, v in row.items():
            if not bounds[0] <= v <= bounds[1]:
                raise ValueError(f"{q} = {v} is outside the bounds {bounds[0]}..{bounds[1]}")


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
    low, high = _limits(m, _var(xs) / len(xs), len(xs) - 1, 0.0, 1, len(xs), level, None)
    return Interval(m, low, high, len(xs), 0, "t")


def clustered_interval(rows: list[dict[str, float]], *, scale: float = 1.0, level: float = 0.95,
                       bounds: tuple[float, float] | None = None) -> Interval:
    """The interval of a rubric metric, answers clustered by question and replicates (seeds) as a second level.

    `rows` holds one dict per result/replicate: question id -> value (non-finite values are left out). The
    estimate is `scale` times the mean of the question means, each question averaged over the rows that have
    it; `scale` turns a mean per question into a total (points = Q * mean). `bounds` are the limits of one
    per-question value (0..10 for a question's score, 0..8 for its points, 0..2 for a criterion, 0..1 for a
    0/1 count); give them for every bounded metric, as the coverage below is shown with them. One question
    falls back to a t interval over the rows ("t"), or a "point" for one row. Raises ValueError when no
    finite value is given, or one lies outside `bounds`.

    Method, and why.

    1. Questions are clusters. Evan Miller, "Adding Error Bars to Evals: A Statistical Approach to Language
       Model Evaluations" (2024, arXiv:2411.00640) treats an eval's questions as a sample from a
       super-population and recommends clustered standard errors when several answers share a question
       (here: the replicates' answers to one question). We average every question over its replicates and
       work with the Q question means: a question mean's variance is sigma_question^2 + sigma_seed^2 / R, so
       their spread carries both the question sampling and the per-answer seed noise, and one run of 8
       questions already has an honest interval. (The old percentile bootstrap over replicate scores saw the
       seeds only: one run was "certain" and two runs covered the truth about half the time.)

    2. Few clusters: Student t, not the CLT. Sam Bowyer, Laurence Aitchison and Desi R. Ivanova, "Position:
       Don't use the CLT in LLM evals with fewer than a few hundred datapoints" (ICML 2025, arXiv:2503.01747)
       show that normal (CLT) intervals badly under-cover on small evals. With 8 clusters we use the t
       reference distribution with Q - 1 degrees of freedom, the few-cluster correction Miller (sec. on
       clustered errors) and Cameron & Miller, "A Practitioner's Guide to Cluster-Robust Inference"
       (J. Human Resources 50(2), 2015) recommend.

    3. Seeds as a second level. A training seed can move all answers of its replicate together. That shared
       part cancels out of the question means, so with R >= 2 replicates that each answered every question
       we add the replicate term of two-way clustering (Cameron, Gelbach & Miller, "Robust Inference With
       Multiway Clustering", J. Business & Economic Statistics 29(2), 2011): V = V_question +
       max(0, V_replicate - V_both), i.e. the ANOVA estimate of sigma_replicate^2 / R, with Welch-Satterthwaite
       degrees of freedom between Q - 1 and R - 1. It adds nothing when replicates only differ question by
       question. With one replicate this shared part cannot be seen at all.

    4. Bounded scores (with `bounds`). Bowyer et al.'s point holds for t too: a plain t interval over 8 skewed
       values under-covers. Rubric scores pile up near the top of their scale, with a tail of hard questions;
       a sample that misses the tail looks both high and tight, and in our simulation plain cluster-t then
       covers only 87-93% and confirms a bar equal to the true mean 5-12% of the time (nominal 2.5%). Two
       standard remedies for bounded proportions, applied to the question means:
       a. the score interval of Wilson ("Probable inference, the law of succession, and statistical
          inference", JASA 22, 1927) with the binomial variance replaced by the observed over-dispersed one
          (quasi-binomial: Var(question mean) = phi m(1 - m); McCullagh & Nelder, "Generalized Linear Models",
          2nd ed. 1989, ch. 9): the interval's side towards the middle of the scale, where the variance is
          larger, widens; we take the union with the t interval and clip to the bounds;
       b. fewer degrees of freedom when such a population is heavy-tailed: the sample variance of n values
          has Var(s^2) = sigma^4 (2/(n - 1) + excess kurtosis / n), so its effective df is
          2 / (2/(n - 1) + kurtosis / n); the kurtosis is that of the Beta distribution with the observed mean
          and dispersion; the df is kept between (Q - 1) / 2 and Q - 1. Near the middle of a scale nothing
          changes; near its ends intervals get wider on the side away from the end.
       The tests simulate bounded, discrete rubric data (8 questions of 0..8 points, question difficulty
       drawn per experiment, per-answer and shared seed noise) and check coverage >= 93% and a false
       confirmation rate near 2.5% for 1-10 replicates.

    Known limits. Equal question means and no seed effect (e.g. 10 on all 8 questions) give a zero-width
    interval: the data show no spread and the interval does not invent one, so such a run is "certain" at its
    value; when the true mean is very close to a bound (>= 9.5 of 10) a single run scores perfectly often
    enough that coverage falls below 93% there. Seed effects shared by a replicate are invisible with one
    replicate. Without `bounds` the interval is plain cluster-t (item 4 does not apply).
    """
    _check_level(level)
    bounds = _bounds_of(bounds)
    rows = _finite_rows(rows)
    if not rows:
        raise ValueError("no finite values")
    _check_within(rows, bounds)
    parts = _parts(rows)
    nq = len(parts.qmeans)
    if nq == 1:
        values = [v for row in rows for v in row.values()]
        m = _mean(values)
        if len(values) == 1:
            return _scaled(m, m, m, scale, 1, 1, "point")
        low, high = _limits(m, _var(values) / len(values), len(values) - 1, 0.0, 1, len(values), level, bounds)
        return _scaled(m, low, high, scale, len(rows), 1, "t")
    means = list(parts.qmeans.values())
    m = _mean(means)
    low, high = _limits(m, _var(means) / nq, nq - 1, _seed_component(parts), parts.rows - 1, nq, level, bounds)
    return _scaled(m, low, high, scale, len(rows), nq, "cluster-t")


def paired_difference(base_rows: list[dict[str, float]], other_rows: list[dict[str, float]], *,
                      scale: float = 1.0, level: float = 0.95) -> Interval | None:
    """other - base, paired by question over the questions both have (each side: question mean over its rows).

    A t interval over the per-question differences (df = common questions - 1), plus each side's seed effect
    shared across its replicates where that side has two or more complete rows (as in `clustered_interval`,
    Welch-Satterthwaite df). `n` counts the results of both sides. None when fewer than 2 questions are
    common. Pairing by seed as well needs seed labels, which rows do not carry: the two sides' replicates are
    treated as independent. No bounded-scale refinement: differences are rarely piled against a bound.
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
    # A side's seed component is on the scale of the common questions only when it has no others.
    seed = [(_seed_component(p), p.rows - 1) for p in (pb, po) if len(p.qmeans) == m]
    seed = [(v, d) for v, d in seed if v > 0.0]
    v_b = math.fsum(v for v, _ in seed)
    df_b = _satterthwaite(seed) if seed else 1.0
    d = _mean(diffs)
    low, high = _limits(d, v_q, m - 1, v_b, df_b, m, level, None)
    return _scaled(d, low, high, scale, len(base) + len(other), m, "cluster-t")


def difference_of_means(base_values: list[float], other_values: list[float], *,
                        level: float = 0.95) -> Interval | None:
    """other - base for metrics known only as one number per result: Welch's t interval.

    Returns None when either side has fewer than 2 (finite) values: a single value has no spread to compare
    with, so no honest interval exists; a caller shows the raw difference (labelled point) if it wants one.
    """
    _check_level(level)
    b = [float(v) for v in base_values if math.isfinite(float(v))]
    o = [float(v) for v in other_values if math.isfinite(float(v))]
    if len(b) < 2 or len(o) < 2:
        return None
    vb, vo = _var(b) / len(b), _var(o) / len(o)
    df = _satterthwaite([(vb, len(b) - 1), (vo, len(o) - 1)])
    d = _mean(o) - _mean(b)
    low, high = _limits(d, vb + vo, df, 0.0, 1, 2, level, None)
    return Interval(d, low, high, len(b) + len(o), 0, "t")


def replicates_to_decide(rows: list[dict[str, float]], *, bar: float, scale: float = 1.0, level: float = 0.95,
                         limit: int = 50, bounds: tuple[float, float] | None = None) -> int | None:
    """Roughly how many more replicates would likely put the whole interval on one side of `bar`.

    0 when the interval (`clustered_interval` with the same arguments) already does. Otherwise the variance
    is split by random-effects ANOVA on the rows x questions matrix into a between-question part, which more
    seeds cannot shrink, and a per-answer seed part; the observed variance of the question means is scaled
    by how much that split says it shrinks, and the seed effect shared by a replicate's answers (complete
    rows) by R / (R + extra). The answer is the smallest extra R whose projected interval (same construction)
    no longer contains `bar`, assuming the estimate stays where it is (so "likely" means about even odds).
    None when even `limit` more would not do it (the spread between questions alone keeps the interval
    across the bar: more questions are needed, not seeds), or when the estimate sits on the bar.

    With one row the split cannot be observed. We then take the seed variance to equal the whole observed
    variance of the question values (no between-question part): the guess under which seeds help most, so
    for one run the count is a lower bound. It is the conservative guess for the advice we give: a single
    run is never told that more seeds are useless; the second replicate shows the real split.
    """
    _check_level(level)
    bounds = _bounds_of(bounds)
    rows = _finite_rows(rows)
    if not rows or scale == 0:
        return None
    current = clustered_interval(rows, scale=scale, level=level, bounds=bounds)
    if current.low > bar or current.high < bar or current.low == current.high == bar:
        return 0
    if current.estimate == bar:
        return None
    target = bar / scale  # compare in unscaled units
    parts = _parts(rows)
    nq, r = len(parts.qmeans), len(rows)
    means = list(parts.qmeans.values())
    m = _mean(means)
    if nq == 1:  # one question: the replicates are the only sample
        values = [v for row in rows for v in row.values()]
        if len(values) < 2:
            return None
        s2 = _var(values)
        for extra in range(1, limit + 1):
            total = len(values) + extra
            low, high = _limits(m, s2 / total, total - 1, 0.0, 1, total, level, bounds)
            if not low <= target <= high:
                return extra
        return None
    # The observed variances, scaled by how the ANOVA components say they shrink with more replicates.
    counts = list(_counts(rows).values())
    if r == 1:
        between, seed = 0.0, 1.0
    elif parts.complete:
        seed = parts.ms_e
        between = max(0.0, (parts.ms_q - parts.ms_e) / r)
    else:
        seed = parts.within
        between = max(0.0, _var(means) - seed * _mean([1.0 / n for n in counts]))
    now = between + seed * _mean([1.0 / n for n in counts])
    v_q, v_b = _var(means) / nq, _seed_component(parts)
    for extra in range(1, limit + 1):
        shrink = (between + seed * _mean([1.0 / (n + extra) for n in counts])) / now if now > 0 else 1.0
        low, high = _limits(m, v_q * shrink, nq - 1, v_b * r / (r + extra), r + extra - 1, nq, level, bounds)
        if not low <= target <= high:
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
    than alpha: every look is another chance to cross the bar by luck. Spending alpha evenly over at most
    `looks` looks (Bonferroni, level 1 - alpha / looks) keeps the chance of any false decision <= alpha by the
    union bound, whatever the correlation between looks: simple and valid, at the price of wider intervals
    per look (group-sequential boundaries such as O'Brien-Fleming would spend alpha more cleverly).
    """
    if looks < 1:
        raise ValueError("looks must be at least 1")
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must be in (0, 1)")
    return 1.0 - alpha / looks
