"""What the report says about the evidence: its interval, what it rests on, every attempt, and
comparisons with a paired interval (the words better/worse only when the interval excludes 0).

Every number the report shows goes through `fmt_metric`, `fmt_bound` or `fmt_change`, so one quantity
has one format throughout (issue 20): a score read in the summary is the score read in the tables."""

from __future__ import annotations

import datetime as dt

from hyp.display import fmt
from hyp.hypotheses.criteria import CRITERIA
from hyp.reports.compare import difference, verdict_of_difference
from hyp.results.judged import Judged

SCORE_METRICS = ("score", "base_score", "rubric.score", "auto.score")
# Counts whose names do not end in `_responses` or `_points`.
COUNT_METRICS = frozenset({"points", "points_max", "template_leaks", "hallucinations"})


def decimals(metric: str) -> int | None:
    """The decimals `metric` is shown with everywhere: scores to one, as the hand-scored reports wrote them
    (29 of 64 points is 4.5); losses and GB to two; seconds to one; rates and perplexities whole; None for a
    count (whole, or one decimal where it is a mean over replicates) and -1 for anything else (4 figures)."""
    if metric in SCORE_METRICS or metric.endswith(".score"):
        return 1
    if metric.endswith(("loss", "_gb", "rouge_l")):
        return 2
    if metric.endswith("_seconds"):
        return 1
    if metric.endswith(("per_second", "perplexity")):
        return 0
    question, _, criterion = metric.partition(".")
    if (metric in COUNT_METRICS or metric.endswith(("_responses", "_points", "_leaks"))
            or metric.startswith(("dataset.", "lint.", "trials.")) or (question and criterion in (*CRITERIA, "total"))):
        return None
    return -1


def fmt_score(value) -> str:
    return fmt_metric("score", value)


def fmt_metric(metric: str, value) -> str:
    """`value` of `metric` in that quantity's one format."""
    if value is None:
        return "—"
    d = decimals(metric)
    if d is None:  # a count: whole when it is one, else a mean to one decimal
        return str(round(value)) if float(value).is_integer() else f"{value:.1f}"
    if d < 0:
        return fmt(int(value) if isinstance(value, float) and value.is_integer() else value)
    return f"{value:.{d}f}"


def fmt_bound(metric: str, value) -> str:
    """An interval's limit: a count's to one decimal (an interval of a count is rarely whole), else as the value."""
    if value is not None and decimals(metric) is None:
        return f"{value:.1f}"
    return fmt_metric(metric, value)


def fmt_change(metric: str, estimate: float, before: float | None = None, after: float | None = None, *,
               bound: bool = False) -> str:
    """A signed difference in the metric's format (`bound`: an interval's limit, as `fmt_bound`). When it is
    `after` − `before` and those are shown beside it, it is computed from them as shown: 7.0 → 8.3 reads +1.3,
    never +1.25."""
    d = decimals(metric)
    digits = 1 if d is None else 4 if d < 0 else d
    if bound:
        return f"{estimate:+.{digits}f}" if d != -1 else f"{estimate:+.4g}"
    if before is not None and after is not None and abs((after - before) - estimate) < 1e-9 and d != -1:
        if d is None:  # counts shown whole where whole
            before, after = (float(fmt_metric(metric, v)) for v in (before, after))
        estimate = round(after, digits) - round(before, digits)
    if d is None and float(round(estimate, 1)).is_integer():
        return f"{round(estimate):+d}"
    return f"{estimate:+.{digits}f}" if d != -1 else f"{estimate:+.4g}"


def interval_text(e, metric: str = "score", *, rests: bool = True) -> str:
    """" (95% CI a–b, 2 results × 8 questions)", or " (point)" for one number judged as it is (SPEC §7 labels
    it `point` in every output)."""
    if e is None:
        return ""
    if e.point:
        return " (point)"
    on = f", {rests_on(e)}" if rests else ""
    return f" (95% CI {fmt_bound(metric, e.low)}–{fmt_bound(metric, e.high)}{on})"


def rests_on(e) -> str:
    return f"{e.n} result{'s' if e.n != 1 else ''}" + (f" × {e.questions} questions" if e.questions else "")


def evidence_text(e) -> str:
    """What the result rests on and where its interval's width comes from, in words."""
    if e.point:
        return ("a single recorded value, with no answers or per-question scores behind it, so no interval: "
                "the verdict takes the number as it is")
    if not e.questions:
        return f"{rests_on(e)}, pooled; the interval is the spread between the results"
    if e.n == 1:
        return (f"{rests_on(e)}; the interval is the spread between the questions (one run cannot show how much "
                "of it is the training seed)")
    return f"{rests_on(e)}, pooled; the interval covers the spread between questions and between seeds"


def gain(base: Judged, other: Judged, metric: str = "score") -> dict | None:
    """`other` − `base` over their pooled evidence, with its interval and the words it allows."""
    g = difference(base.results.evidence, other.results.evidence, metric)
    if g is None:
        return None
    words = verdict_of_difference(g)
    before, after = base.verdict.observations.get(metric), other.verdict.observations.get(metric)
    shown = fmt_change(metric, g.estimate, before and before.estimate, after and after.estimate)
    if g.method == "point":
        interval = "no interval: too few results to tell"
    else:
        paired = "paired by question" if g.questions else "over results"
        low, high = (fmt_change(metric, v, bound=True) for v in (g.low, g.high))
        interval = f"95% CI {low} to {high}, {paired}"
    return {"estimate": g.estimate, "low": g.low, "high": g.high, "words": words, "shown": shown,
            "text": f"{shown} ({interval}): {words}"}


def attempts(judged: Judged) -> list[dict]:
    rows = []
    for a in judged.results.attempts:
        if a.superseded_by:
            counts = f"no: superseded by `{a.superseded_by[:8]}` ({a.supersede_reason})"
        elif a.deviations:
            counts = "no: deviates from the registration (" + ", ".join(
                f"{d.get('key')} {fmt(d.get('registered'))} → {fmt(d.get('used'))}" for d in a.deviations) + ")"
        else:
            counts = "yes"
        rows.append({"run": a.run_id[:8], "kind": a.kind, "units": a.units, "score": a.score, "counts": counts,
                     "date": dt.datetime.fromtimestamp(a.start_time / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")})
    return rows


QUOTE_CHARS = 240  # enough of an answer to judge it by; the whole text is in answers.json and the trace


def answers_shown(answers: list[dict] | None) -> list[dict]:
    """Every answer of the latest result with its points, who gave them, its flags and perplexity."""
    rows = []
    for a in answers or []:
        if not a.get("response"):
            continue  # hand scores given without the answer: counted in the scores, nothing to quote
        text = " ".join(str(a.get("response", "")).split())
        sources = sorted(set((a.get("sources") or {}).values())) or [a.get("source", "rubric")]
        rows.append({"question": a.get("question"), "total": a.get("total"), "scored_by": ", ".join(sources),
                     **{c: a.get(c, "—") for c in ("agent", "factual", "personality", "complete")},
                     "text": (text[:QUOTE_CHARS] + "…" if len(text) > QUOTE_CHARS else text).replace("|", "\\|"),
                     "flags": "; ".join(a.get("flags") or []),
                     "perplexity": fmt_metric("perplexity", a.get("perplexity")),
                     "rouge_l": a.get("rouge_l")})
    # The worst answers first: what a reader should look at before trusting the score.
    return sorted(rows, key=lambda r: (r["total"] if isinstance(r["total"], int | float) else 99, str(r["question"])))


def untrusted(agreements: list[dict]) -> list[str]:
    """Criteria whose automatic scores a person's do not back up (κ < 0.6 on 8 or more answers)."""
    from hyp.hypotheses.agreement import TRUST_KAPPA, TRUST_MIN_ANSWERS

    # `checks_automatic`: the pair of the person and the automatic scores that would count without them
    # (the judge's where it scored, else the rubric's); older agreements have only hand vs automatic.
    return [g["criterion"] for g in agreements if g.get("checks_automatic", g.get("first") == "hand")
            and g.get("n", 0) >= TRUST_MIN_ANSWERS and g.get("kappa") is not None and g["kappa"] < TRUST_KAPPA]


def scorers_of(answers: list[dict] | None) -> str:
    """Who gave the points, in words a stakeholder reads: automatic scores must say they are automatic."""
    found = {src for a in answers or [] for src in ((a.get("sources") or {}).values() or [a.get("source", "rubric")])}
    words = {"rubric": "hyp's automatic rubric (keyword matching with coherence checks)",
             "judge": "an LLM judge (automatic)", "hand": "a person, by hand"}
    return "; ".join(words[s] for s in ("hand", "judge", "rubric") if s in found) or "nobody yet"


def who_scored(answers: list[dict] | None) -> str | None:
    """Who gave the points that count (a person over the judge over the rubric, SPEC §4), as a clause a
    stakeholder reads: "scored by hand", "scored automatically by the judge M", "… by the rubric"."""
    counted: dict[str, set[str]] = {}
    models = set()
    for a in answers or []:
        for criterion, source in ((a.get("sources") or {}).items() or [("all", a.get("source", "rubric"))]):
            counted.setdefault(source, set()).add(criterion)
        if a.get("judge_model"):
            models.add(a["judge_model"])
    if "hand" in counted:
        return "scored by hand" + (" (the automatic rubric's scores on the same answers are shown beside them)"
                                   if "rubric" in counted or "judge" in counted else "")
    if "judge" in counted:
        judge = "the judge " + (", ".join(sorted(models)) if models else "(an LLM)")
        rest = sorted(counted.get("rubric", set()) - counted["judge"])
        return f"scored automatically by {judge}" + (f", and by the rubric for {', '.join(rest)}" if rest else "")
    if "rubric" in counted:
        return "scored automatically by the rubric (keyword matching with coherence checks), not by a person"
    return None
