"""What the report says about the evidence: its interval, what it rests on, every attempt, and
comparisons with a paired interval (the words better/worse only when the interval excludes 0)."""

from __future__ import annotations

import datetime as dt

from hyp.display import fmt
from hyp.reports.compare import difference, verdict_of_difference
from hyp.results.judged import Judged


def interval_text(e, form=fmt) -> str:
    """" (95% CI a–b, 2 results × 8 questions)", or " (point)" for one number judged as it is."""
    if e is None:
        return ""
    if e.point:
        return " (point)"
    rests = f"{e.n} result{'s' if e.n != 1 else ''}" + (f" × {e.questions} questions" if e.questions else "")
    return f" (95% CI {form(e.low)}–{form(e.high)}, {rests})"


def gain(base: Judged, other: Judged, metric: str = "score") -> dict | None:
    """`other` − `base` over their pooled evidence, with its interval and the words it allows."""
    g = difference(base.results.evidence, other.results.evidence, metric)
    if g is None:
        return None
    words = verdict_of_difference(g)
    if g.method == "point":
        interval = "no interval: too few results to tell"
    else:
        paired = "paired by question" if g.questions else "over results"
        interval = f"95% CI {g.low:+.2f} to {g.high:+.2f}, {paired}"
    return {"estimate": g.estimate, "low": g.low, "high": g.high, "words": words,
            "text": f"{g.estimate:+.2f} ({interval}): {words}"}


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


def more_runs_text(judged: Judged) -> str | None:
    if judged.verdict.verdict != "INCONCLUSIVE":
        return None
    more = judged.verdict.more_replicates
    if more:
        return (f"The primary criterion is undecided: about {more} more replicate(s) would likely decide it "
                f"(`hyp run {judged.hypothesis.id} --until-decided`).")
    return ("The primary criterion is undecided, and more replicates alone would likely not decide it: the "
            "questions disagree with each other; more questions would.")


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
                     "flags": "; ".join(a.get("flags") or []), "perplexity": a.get("perplexity"),
                     "rouge_l": a.get("rouge_l")})
    # The worst answers first: what a reader should look at before trusting the score.
    return sorted(rows, key=lambda r: (r["total"] if isinstance(r["total"], int | float) else 99, str(r["question"])))


def untrusted(agreements: list[dict]) -> list[str]:
    """Criteria whose automatic scores a person's do not back up (κ < 0.6 on 8 or more answers)."""
    from hyp.hypotheses.agreement import TRUST_KAPPA, TRUST_MIN_ANSWERS

    return [g["criterion"] for g in agreements if g.get("first") == "hand" and g.get("n", 0) >= TRUST_MIN_ANSWERS
            and g.get("kappa") is not None and g["kappa"] < TRUST_KAPPA]


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
