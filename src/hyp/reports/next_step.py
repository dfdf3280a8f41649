"""The one next step a report recommends, with its reason, whatever the verdict: build on a sound
confirmation, take the plan's option that the failed criteria point to, or say what would decide an
open question (replicates, questions) and whether that is within reach. Pure."""

from __future__ import annotations

import math

from hyp.display import fmt
from hyp.reports.evidence import fmt_bound, fmt_metric
from hyp.reports.summary import (
    QUESTIONS_MAX_FACTOR,
    REPLICATE_MIN,
    UNTIL_DECIDED_MAX,
    condition_text,
    judgement_name,
    mentioned,
    others_missed,
    prediction_labels,
    words_of,
)
from hyp.results.judged import Judged


def _next_id(hid: str, taken=()) -> str:
    """The first free id after `hid` (H004 → H005, or H006 where H005 exists)."""
    digits = "".join(ch for ch in hid if ch.isdigit())
    n, prefix = (int(digits), hid[: len(hid) - len(digits)]) if digits and hid.endswith(digits) else (0, hid)
    while True:
        n += 1
        candidate = f"{prefix or 'H'}{n:0{max(3, len(digits))}d}"
        if candidate not in taken:
            return candidate


def _option_text(o) -> str:
    return " ".join([o.title, *(f"{k} {fmt(v)}" for k, v in o.changes.items())])


def pick_option(judged: Judged, options) -> tuple[object, str]:
    """The failure option to try first, and why: the one whose title or changes name what failed (a failed
    criterion before a missed prediction), else the one whose expected outcome best reaches the goal, else
    the first listed."""
    v = judged.verdict
    for kind, group in (("criterion", [j for j in v.criteria if j.outcome == "not met"]),
                        ("prediction", [j for j in v.predictions if j.outcome == "not met"])):
        best, best_hits = None, []
        for o in options:
            text = _option_text(o)
            hits = [(j, w) for j in group
                    for w in mentioned(text, words_of(j.metric, prediction_labels(judged, j.metric)))]
            if len(hits) > len(best_hits):
                best, best_hits = o, hits
        if best is not None:
            j, word = best_hits[0]
            return best, (f"it is the option aimed at what failed: the {judgement_name(j, kind)} `{j.metric}` "
                          f"({fmt_metric(j.metric, j.estimate)} against {j.op} {fmt(j.value)}), and its "
                          f"title or changes name \"{word}\"")
    primary = v.criteria[0]
    if any(o.expected is not None for o in options) and not isinstance(primary.value, tuple):
        o = _closest(options, primary.value)
        return o, (f"no option names a failed criterion, and its expected {primary.metric} ({fmt(o.expected)}) "
                   f"comes closest to the goal ({primary.op} {fmt(primary.value)})")
    return options[0], "no option names a failed criterion or expects an outcome: the first one listed"


def recommend(judged: Judged, held: dict | None = None, taken=()) -> dict:
    """One recommended next step, whatever the verdict, with its reason: `text` for the report, `plain` for the
    audience (a clause that follows "Next, we should"), `option` the plan's option it picks, if any; `options`
    the plan's options the Next steps section lists beside it, and `none` what it says when there are none, so
    that section never contradicts the step. `held`: the held-out loss (`heldout`), `taken`: the lab's ids."""
    hyp, v = judged.hypothesis, judged.verdict
    if v.verdict == "PENDING":
        return {"text": f"Run it: `hyp run {hyp.id}` (no results yet).", "plain": "run it", "option": None,
                "options": [], "none": "The plan's options wait for results."}
    if v.verdict == "INCONCLUSIVE":
        return _undecided(judged, held, taken)
    if v.verdict == "REJECTED":
        return _rejected(judged)
    return _confirmed(judged, taken)


def _rejected(judged: Judged) -> dict:
    hyp, v = judged.hypothesis, judged.verdict
    failed = [j for j in v.criteria if j.outcome == "not met"]
    what = "; ".join(f"{j.metric} {fmt_metric(j.metric, j.estimate)} against {j.op} {fmt(j.value)}" for j in failed)
    none = "The hypothesis was rejected and lists no on_failure options."
    if hyp.on_failure:
        o, why = pick_option(judged, hyp.on_failure)
        expected = f", expected {fmt(o.expected)}" if o.expected is not None else ""
        return {"text": f"Option {o.option}, {o.title.lower()}{expected}: {why} (failed: {what}).",
                "plain": f"try option {o.option}, {o.title.lower()}, because {why}", "option": o.option,
                "options": hyp.on_failure, "none": none}
    return {"text": f"Write the next hypothesis from what failed ({what}); this one lists no on_failure options.",
            "plain": "write a new plan from what failed", "option": None, "options": [], "none": none}


def _bar(cond) -> float:
    """The threshold the interval must clear: the nearer end of a `between`."""
    if isinstance(cond.value, tuple | list):
        return min(cond.value, key=lambda b: abs(b - cond.estimate))
    return cond.value


def _half(e) -> float:
    # The interval is symmetric until a bound (a score's 10) clips one side: the longer side is the true half-width.
    return max(e.estimate - e.low, e.high - e.estimate)


def units_to_decide(e, bar: float, units: int, level: float = 0.95) -> int | None:
    """About how many units (questions, or results where there are no per-question scores) would put the
    interval wholly on one side of `bar`, the estimate staying where it is: the spread between units is read
    off the interval's half-width, which falls as t(m − 1) / √m with m units. None when the estimate sits on
    the bar or the spread cannot be read."""
    from hyp.hypotheses.student_t import t_quantile

    near, half = abs(e.estimate - bar), _half(e)
    if near == 0 or units < 2 or half <= 0:
        return None
    p = 1 - (1 - level) / 2
    spread = half * math.sqrt(units) / t_quantile(p, units - 1)
    m = max(units + 1, math.ceil((spread * 1.959964 / near) ** 2))  # t > z: a start from below
    while t_quantile(p, m - 1) * spread / math.sqrt(m) >= near:
        m += 1
    return m


def _undecided(judged: Judged, held: dict | None, taken) -> dict:
    """INCONCLUSIVE: more replicates where the seeds are what keeps it open and `--until-decided` can likely
    do it; more questions where the spread between questions is, and a realistic suite can; else say that
    nothing realistic decides it, and what to do instead."""
    hyp, v = judged.hypothesis, judged.verdict
    primary = v.criteria[0]
    e = v.observations[primary.metric]
    goal, actual = condition_text(primary.metric, primary.op, primary.value), fmt_metric(primary.metric, e.estimate)
    wait = "The plan's on_success and on_failure options wait until the verdict is decided."
    more, limit, until = v.more_replicates, UNTIL_DECIDED_MAX, f"`hyp run {hyp.id} --until-decided`"
    if not e.questions:  # an interval over results: more results are what narrows it
        need = units_to_decide(e, _bar(primary), e.n, v.level)
        more = None if need is None else need - e.n
        if more is not None and more <= limit:
            return {"text": f"Run it until it is decided: {until} (it adds replicates until the primary criterion "
                            f"is decided, at most {limit}). {goal} is undecided at {actual} on {e.n} results with "
                            f"no per-question scores, and about {more} more would likely decide it.",
                    "plain": f"train it again with other seeds, up to {limit} times, stopping once it is clear",
                    "option": None, "options": [], "none": wait}
        return _not_decidable(judged, held, taken, f"inside the spread between its {e.n} results: "
                                                   + (f"about {more} more would be needed" if more else "no number of "
                                                      "results puts it on one side") + f", and `--until-decided` "
                                                   f"adds at most {limit}")
    if more is not None and more <= limit:
        if e.n == 1:
            why = (f"one run cannot tell how much of the interval is the training seed and how much the questions: "
                   f"if it is the seed, about {more} more replicates decide it; if it stops undecided at {limit}, "
                   "the questions are what keep it open, and the suite needs more of them")
        else:
            why = (f"the spread between seeds is a large part of the interval, and about {more} more replicates "
                   "would likely decide it")
        return {"text": f"Run it until it is decided: {until} (it adds replicates until the primary criterion is "
                        f"decided, at most {limit}). {goal} is undecided at {actual}; {why}.",
                "plain": f"train it again with other seeds, up to {limit} times, stopping as soon as the result is "
                         "clear", "option": None, "options": [], "none": wait}
    nq = e.questions
    if e.n == 1:
        seeds = ("even if all of that spread were seed noise, "
                 + (f"about {more} more replicates would be needed" if more else "no realistic number of replicates "
                    "would do") + f" (`--until-decided` adds at most {limit})")
    else:
        seeds = (f"{e.n} results show the seeds add too little for more replicates to help ("
                 + (f"about {more}" if more else "more than 50") + f" would be needed; `--until-decided` adds at most "
                 f"{limit})")
    q = units_to_decide(e, _bar(primary), nq, v.level)
    if q is not None and q <= QUESTIONS_MAX_FACTOR * nq:
        return {"text": f"Add about {q - nq} questions to the evaluation suite (about {q} in all), in a new "
                        f"hypothesis since the suite is registered (`hyp new {_next_id(hyp.id, taken)} --from "
                        f"{hyp.id}`): {goal} is undecided at {actual}, the interval is the spread between the "
                        f"{nq} questions, and {seeds}.",
                "plain": f"ask the model more questions (about {q} instead of {nq}): its answers differ too much "
                         "from question to question for a few questions, or more training runs, to settle it",
                "option": None, "options": [], "none": wait}
    return _not_decidable(judged, held, taken, f"inside the spread between its {nq} questions: it would take about "
                                               f"{q} questions, and {seeds}" if q else
                          "on the goal itself, so no number of questions or replicates puts it on one side")


def _not_decidable(judged: Judged, held: dict | None, taken, why: str) -> dict:
    """No realistic evidence decides it: read it as not shown to reach the goal, and go on with the plan for a
    miss where an option can help (not one that only replicates, nor one that trains longer into overfitting)."""
    hyp, v = judged.hypothesis, judged.verdict
    primary = v.criteria[0]
    e = v.observations[primary.metric]
    bar = _bar(primary)
    side = "above" if e.estimate > bar else "below" if e.estimate < bar else "at"
    dist = fmt_bound(primary.metric, abs(e.estimate - bar))
    head = (f"Stop measuring it: no realistic amount of evidence decides it. The {primary.metric}, "
            f"{fmt_metric(primary.metric, e.estimate)}, sits {dist} {side} the goal "
            f"({condition_text(primary.metric, primary.op, primary.value)}), {why}.")
    keep, skipped = [], []
    for o in hyp.on_failure:
        keys = {k.removeprefix("experiment.") for k in o.changes}
        if keys and keys <= {"replicates"}:
            skipped.append(f"option {o.option} only adds replicates, which cannot decide it")
        elif held and held.get("warning") and (o.changes.get("experiment.training.epochs") or 0) > \
                hyp.experiment.training.epochs:
            skipped.append(f"option {o.option} trains longer, which the held-out loss argues against")
        else:
            keep.append(o)
    not_there = " Read it as not shown to reach the goal"
    plain = "stop measuring this one, since it lands too close to the goal for any realistic test to tell; treat " \
            "it as not there yet, and "
    if keep:
        o, reason = pick_option(judged, keep)
        return {"text": head + not_there + f", and go on with the plan for a miss: option {o.option}, "
                                           f"{o.title.lower()} ({reason})" + _but(skipped) + ".",
                "plain": plain + f"try option {o.option}, {o.title.lower()}", "option": o.option,
                "options": hyp.on_failure, "none": ""}
    half = _half(e)
    margin = f"the interval's half-width, {fmt_bound(primary.metric, half)}" + (
        f" with {e.questions} questions" if e.questions else "")
    fewer = f", with about {held['best_epoch']} epochs, where the held-out loss was lowest" if held and \
        held.get("warning") else ""
    return {"text": head + not_there + f", and write the next hypothesis to clear the goal by more than that noise "
                                       f"({margin}){fewer}: `hyp new {_next_id(hyp.id, taken)} --from {hyp.id}`"
                    + _but(skipped) + ".",
            "plain": plain + "aim the next attempt clearly above the goal"
                     + (", with fewer training epochs" if fewer else ""),
            "option": None, "options": hyp.on_failure, "none": "The hypothesis lists no on_failure options."}


def _but(skipped: list[str]) -> str:
    return f" ({'; '.join(skipped)})" if skipped else ""


def _confirmed(judged: Judged, taken) -> dict:
    """Confirmed: replicate first when it rests on little, then the plan's on_success option; else the plan;
    else look at what was missed; else move on."""
    hyp, v = judged.hypothesis, judged.verdict
    primary = v.criteria[0]
    actual = fmt_metric(primary.metric, primary.estimate)
    e = v.observations.get(primary.metric)
    others = others_missed(judged)
    plan = hyp.on_success[0] if hyp.on_success else None
    step = {"option": plan.option if plan else None, "options": hyp.on_success,
            "none": "Confirmed; the hypothesis lists no on_success options."}
    also = ""
    if others:
        kind, j = others[0]
        seen = "had no data" if j.estimate is None else f"was {j.outcome} at {fmt_metric(j.metric, j.estimate)}"
        also = f"; the {judgement_name(j, kind)} (`{j.metric} {j.op} {fmt(j.value)}`) {seen}"
        if len(others) > 1:
            also += f", and {len(others) - 1} more missed or unmeasured (all listed in the summary)"
    if e is None or e.point or e.n < REPLICATE_MIN:
        if e is None or e.point:
            rests, rests_plain = "a single number with no interval", "a single number"
        else:
            results = f"{e.n} result{'s' if e.n != 1 else ''}"
            rests = (results + (f" × {e.questions} questions" if e.questions else "")
                     + f" (95% CI {fmt_bound(primary.metric, e.low)}–{fmt_bound(primary.metric, e.high)})")
            rests_plain = results + (f" of {e.questions} questions" if e.questions else "")
        then = f" Then option {plan.option}, {plan.title.lower()}, as planned." if plan else ""
        return step | {"text": f"Replicate before building on it: `hyp run {hyp.id} --replicates {REPLICATE_MIN}`. It "
                               f"was confirmed at {actual} on {rests}, too little to build on{also}.{then}",
                       "plain": f"repeat it with {REPLICATE_MIN} training seeds before building on it, because the "
                                f"result rests on {rests_plain}"
                                + (f", then {plan.title.lower()} as planned" if plan else "")}
    if plan:
        return step | {"text": f"Option {plan.option}, {plan.title.lower()}: confirmed at {actual} on {e.n} results, "
                               f"so build on it as planned{also}.",
                       "plain": f"build on it: {plan.title.lower()}"}
    nxt = f"hyp new {_next_id(hyp.id, taken)} --from {hyp.id}"
    if others:
        kind, j = others[0]
        return step | {"text": f"Look into the {judgement_name(j, kind)} before building on it: confirmed at {actual}, "
                               f"but{also[1:]}; then `{nxt}`.",
                       "plain": f"find out why the {judgement_name(j, kind)} did not hold before building on it"}
    return step | {"text": f"Move on: confirmed at {actual} on {e.n} results with everything expected met; write the "
                           f"next hypothesis (`{nxt}`) to push the goal further.",
                   "plain": "move on to the next idea, building on this one"}


def next_step(judged: Judged) -> str:
    """One recommended next step with its reason, whatever the verdict."""
    return recommend(judged)["text"]


def _closest(options, goal):
    """The failure option whose expected outcome best reaches the goal (the first when none says)."""
    def reach(o):
        if o.expected is None or isinstance(goal, list | tuple):
            return float("-inf")
        top = max(o.expected) if isinstance(o.expected, list | tuple) else o.expected
        return -abs(top - goal) if top < goal else 0.0
    return max(options, key=reach)
