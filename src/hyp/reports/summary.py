"""What the report's summary says in plain words, from data: the goal (and how an amendment moved it),
what was missed or never measured, one next step and why, what moved from the parent and whether the
statement was about it, and whether training overfitted the held-out conversations. Pure."""

from __future__ import annotations

import math
import re

from hyp.display import fmt
from hyp.reports.evidence import fmt_bound, fmt_change, fmt_metric, fmt_score, gain
from hyp.results.judged import Judged

OVERFIT_RATIO = 1.10  # a final held-out loss 10% above its best epoch's is worth a warning
IMPORTANCE_MIN_TRIALS = 10  # parameter importances from fewer finished trials rank the parameters mostly by chance
REPLICATE_MIN = 3  # a confirmation resting on fewer results is worth repeating before building on it
# `hyp run --until-decided` adds at most this many replicates unless --max-replicates says otherwise
# (DEFAULT_MAX_REPLICATES in experiments/run.py, not imported: that pulls in training; a test holds them equal).
# Advice never asks for more than it does.
UNTIL_DECIDED_MAX = 10
# A suite is written by hand: four times its questions is a day's work; more is another evaluation.
QUESTIONS_MAX_FACTOR = 4
# Words in a metric's name that say what is counted, not what about: they would match any text.
GENERIC_WORDS = frozenset({"responses", "response", "points", "point", "total", "like", "rate", "count", "max"})
# A rationale that expects fewer epochs to stop memorising is contradicted by a held-out loss that still rose.
AGAINST_OVERFITTING = re.compile(r"fewer epochs|memori[sz]|overfit|over-fit", re.IGNORECASE)


def _name(j, kind: str) -> str:
    return f"{j.level} criterion" if kind == "criterion" else f"prediction \"{j.level}\""


def _not_met(judged: Judged) -> list[tuple[str, object]]:
    return [(kind, j) for kind, items in (("criterion", judged.verdict.criteria),
                                          ("prediction", judged.verdict.predictions))
            for j in items if j.outcome != "met"]


def missed(judged: Judged) -> list[str]:
    """Every criterion and prediction not met, undecided or without data, as one line each; not the primary
    criterion, which the verdict itself (and the Result row) states."""
    out = []
    for kind, j in _others(judged):
        if j.estimate is None:
            out.append(f"{_name(j, kind)} `{j.metric} {j.op} {fmt(j.value)}`: no data (never measured)")
        else:
            out.append(f"{_name(j, kind)} `{j.metric} {j.op} {fmt(j.value)}`: {j.outcome} "
                       f"(actual {fmt_metric(j.metric, j.estimate)})")
    return out


def _others(judged: Judged) -> list[tuple[str, object]]:
    """What was not met besides the primary criterion (which the verdict follows alone)."""
    primary = judged.verdict.criteria[0]
    return [(kind, j) for kind, j in _not_met(judged) if j is not primary]


def _cond(metric: str, op: str, value) -> str:
    return f"{metric} {op} {fmt(list(value) if isinstance(value, tuple) else value)}"


def goal_text(judged: Judged) -> str:
    """The primary criterion the verdict was judged against. When `hyp amend` moved it after results: the
    registered goal → the amended one, with when and why, so a lowered bar never reads as the plan. An edit
    nobody recorded is named too: it is not what the verdict used."""
    p = judged.verdict.criteria[0]
    text = _cond(p.metric, p.op, p.value)
    locked = ((judged.results.locked or {}).get("success_criteria") or {}).get("primary")
    if locked and _cond(locked.get("metric"), locked.get("op"), locked.get("value")) != text:
        touched = [a for a in judged.lock.amendments
                   if any(str(c.get("field", "")).startswith("success_criteria.primary") for c in a.changes)]
        a = (touched or judged.lock.amendments or [None])[-1]
        registered = _cond(locked.get("metric"), locked.get("op"), locked.get("value"))
        text = f"{registered} → {text}" + (f" (amended {a.time[:10]}: {a.reason})" if a else " (amended)")
    if any(str(c.get("field", "")).startswith("success_criteria.primary") for c in judged.lock.changes):
        now = judged.hypothesis.success_criteria.primary
        text += (f"; the file now says {_cond(now.metric, now.op, now.value)}, changed after results without "
                 "`hyp amend`, so not what the verdict used")
    return text


def scored_by(judged: Judged, who: str | None) -> str | None:
    """Who scored the answers the score comes from; when nobody did, why not."""
    e = judged.verdict.observations.get("score")
    if who or e is None:
        return who
    if e.point:
        return "no answers were scored: the score was recorded by hand as one number (`hyp record --metric`)"
    return "not known: no answers were logged with this result"


def words_of(metric: str, labels=()) -> list[str]:
    """What a metric is about, as words to look for in a text: its name's words (`agent_like_responses`:
    agent) and those of the labels it goes by (a prediction's "Factual accuracy"), without plural s."""
    found: list[str] = []
    for text in (metric, *labels):
        for w in re.split(r"[^a-z0-9]+", text.lower()):
            w = w[:-1] if len(w) > 4 and w.endswith("s") else w
            if len(w) >= 3 and w not in GENERIC_WORDS and w + "s" not in GENERIC_WORDS and w not in found:
                found.append(w)
    return found


def mentioned(text: str, words: list[str]) -> list[str]:
    """The words that `text` uses, each at the start of a word ("score" in "scores", "agent" in "agent-like")."""
    return [w for w in words if re.search(rf"\b{re.escape(w)}", text, re.IGNORECASE)]


def _labels(judged: Judged, metric: str) -> list[str]:
    return [p.label for p in judged.hypothesis.predictions if p.metric == metric]


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
            hits = [(j, w) for j in group for w in mentioned(text, words_of(j.metric, _labels(judged, j.metric)))]
            if len(hits) > len(best_hits):
                best, best_hits = o, hits
        if best is not None:
            j, word = best_hits[0]
            return best, (f"it is the option aimed at what failed: the {_name(j, kind)} `{j.metric}` "
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
    goal, actual = _cond(primary.metric, primary.op, primary.value), fmt_metric(primary.metric, e.estimate)
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
            f"({_cond(primary.metric, primary.op, primary.value)}), {why}.")
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
    others = _others(judged)
    plan = hyp.on_success[0] if hyp.on_success else None
    step = {"option": plan.option if plan else None, "options": hyp.on_success,
            "none": "Confirmed; the hypothesis lists no on_success options."}
    also = ""
    if others:
        kind, j = others[0]
        seen = "had no data" if j.estimate is None else f"was {j.outcome} at {fmt_metric(j.metric, j.estimate)}"
        also = f"; the {_name(j, kind)} (`{j.metric} {j.op} {fmt(j.value)}`) {seen}"
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
        return step | {"text": f"Look into the {_name(j, kind)} before building on it: confirmed at {actual}, "
                               f"but{also[1:]}; then `{nxt}`.",
                       "plain": f"find out why the {_name(j, kind)} did not hold before building on it"}
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


def moves(parent: Judged, child: Judged) -> list[dict]:
    """Per success criterion (then per prediction on another metric) of `child`: its value in the parent and
    in the child, the change with its paired interval, and whether the statement or rationale is about it.
    `moved`: "clear" (the interval excludes 0), "unclear" (changed, but the interval includes 0, or one
    number each), "none" (the same as shown, not clearly different), None (no data on one side)."""
    hyp = child.hypothesis
    rows, seen = [], set()
    judgements = [("criterion", j) for j in child.verdict.criteria] + [("prediction", j)
                                                                       for j in child.verdict.predictions]
    for kind, j in judgements:
        if j.metric in seen:
            continue
        seen.add(j.metric)
        before = parent.verdict.observations.get(j.metric)
        after = child.verdict.observations.get(j.metric)
        words = words_of(j.metric, _labels(child, j.metric))
        texts = (("statement", hyp.statement), ("rationale", " ".join(hyp.rationale.values())))
        about = [where for where, text in texts if mentioned(text, words)]
        shown = [fmt_metric(j.metric, e and e.estimate) for e in (before, after)]
        g = gain(parent, child, j.metric) if before is not None and after is not None else None
        if g is None:
            change, moved = "—", None
        elif g["low"] is not None and (g["low"] > 0 or g["high"] < 0):
            moved = "clear"
            low, high = (fmt_change(j.metric, v, bound=True) for v in (g["low"], g["high"]))
            change = f"{g['shown']} (95% CI {low} to {high}): {'up' if g['low'] > 0 else 'down'}"
        elif shown[0] == shown[1]:
            moved = "none"
            change = "no change"
        elif g["low"] is None:
            moved, change = "unclear", f"{g['shown']} (one number each: no interval)"
        else:
            moved = "unclear"
            low, high = (fmt_change(j.metric, v, bound=True) for v in (g["low"], g["high"]))
            change = f"{g['shown']} (95% CI {low} to {high}): not clear"
        rows.append({"metric": j.metric, "name": _name(j, kind), "change": change, "moved": moved,
                     "parent": shown[0], "child": shown[1], "about": " and ".join(about) if about else "no"})
    return rows


def moves_text(rows: list[dict], parent_id: str) -> str | None:
    """One sentence: what moved clearly from the parent, what changed but not clearly, what did not change;
    where the statement or rationale is about something that did not clearly move, it says so."""
    if not rows:
        return None

    def listed(group: list[dict], about: bool) -> str:
        return ", ".join(f"`{r['metric']}` {r['parent']} → {r['child']}"
                         + (f" (named in the {r['about']})" if about and r["about"] != "no" else "") for r in group)

    clear = [r for r in rows if r["moved"] == "clear"]
    unclear = [r for r in rows if r["moved"] == "unclear"]
    same = [r for r in rows if r["moved"] == "none"]
    parts = ["moved clearly: " + listed(clear, False) if clear else f"nothing moved clearly from {parent_id}"]
    if unclear:
        parts.append("changed, but not clearly (the interval includes no change): " + listed(unclear, True))
    if same:
        parts.append("did not change: " + listed(same, True))
    return "; ".join(parts)


def _plain_words(judged: Judged, metric: str) -> str:
    """A metric as a reader names it: a prediction's label on it ("factual accuracy"), else its name in words."""
    label = next(iter(_labels(judged, metric)), None)
    return label[:1].lower() + label[1:] if label else metric.replace("_", " ")


def _plain_name(judged: Judged, kind: str, j) -> str:
    return f"\"{j.level}\"" if kind == "prediction" else f"the {j.level} criterion ({_plain_words(judged, j.metric)})"


def plain_text(judged: Judged, best, est: dict, vs_best: dict | None, step: dict, who: str | None) -> str:
    """A few sentences for someone who does not train models: what was tried, whether it worked, who scored it,
    what was missed or never measured, and what to do next."""
    hyp = judged.hypothesis
    v = judged.verdict.verdict
    score = est.get("score")
    if score is None:
        return f"We have not measured {hyp.id} yet, so there is nothing to conclude."
    primary = judged.verdict.criteria[0]
    what = {"CONFIRMED": "worked", "REJECTED": "did not work", "INCONCLUSIVE": "is not settled yet"}.get(v, v)
    s = [f"We tested: {hyp.title}. It {what}: the model scored {fmt_score(score)} out of 10, and the goal was "
         f"{_plain_cond(primary.op, primary.value)}."]
    if best is not None and vs_best is not None:
        words = {"better": "better than", "worse": "worse than"}.get(vs_best["words"], "not clearly different from")
        s.append(f"That is {words} our best earlier attempt ({best.hypothesis.id}, {fmt_score(best.score)}).")
    if who:
        s.append(f"The answers were {who}.")
    elif judged.verdict.observations["score"].point:
        s.append("The score is one number recorded by hand, not computed here from the answers.")
    if est.get("base_score") is not None:
        s.append(f"Before training, the same model scored {fmt_score(est['base_score'])}.")
    others = _others(judged)
    off = [f"{_plain_name(judged, kind, j)} "
           f"{'was missed' if j.outcome == 'not met' else 'is not settled'} ({fmt_metric(j.metric, j.estimate)}, "
           f"expected {_plain_cond(j.op, j.value)})" for kind, j in others if j.estimate is not None]
    if off:
        s.append("Not everything we expected held: " + _and(off) + ".")
    never = list(dict.fromkeys(_plain_words(judged, j.metric) for _, j in others if j.estimate is None))
    if never:
        s.append(f"We never measured {_and(never)}, so {'that is' if len(never) == 1 else 'those are'} unknown.")
    if v == "INCONCLUSIVE":
        s.append("The result is too uncertain to call.")
    s.append(f"Next, we should {step['plain']}.")
    return " ".join(s)


def _plain_cond(op: str, value) -> str:
    if op == "between":
        return f"between {fmt(value[0])} and {fmt(value[1])}"
    words = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than", "==": "exactly"}
    return f"{words.get(op, op)} {fmt(value)}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def importance_warning(sweep: dict | None, plots: dict) -> str | None:
    """A warning above the sweep's parameter importances when too few trials finished to rank parameters."""
    if not sweep or not any("importances" in name for name in plots.get("sweep", [])):
        return None
    complete = sweep["states"].get("complete", sweep["states"].get("finished", 0))
    if complete >= IMPORTANCE_MIN_TRIALS:
        return None
    return (f"The parameter importances below rest on {complete} finished trial{'s' if complete != 1 else ''}: "
            f"with fewer than {IMPORTANCE_MIN_TRIALS} they are mostly chance; do not drop a parameter on them.")


def by_epoch(points: list[tuple[int, float]], epochs: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """A per-epoch metric logged at the last step of each epoch, as (epoch, value): `epochs` is the run's
    `epoch` history at those steps. Runs from before issue 19 logged it by epoch and have no `epoch` history."""
    if not epochs:
        return list(points)
    at = dict(epochs)
    return [(int(at[step]), value) for step, value in points if step in at]


def heldout(histories: dict[str, list[tuple[int, float]]], rationale: dict[str, str] | None = None) -> dict | None:
    """The held-out loss per epoch (first replicate): its best epoch, and a warning when it rose since, which
    says so when the rationale expected the epochs chosen to avoid exactly that."""
    points = next((sorted(p) for _, p in sorted(histories.items()) if p), None)
    if not points:
        return None
    best_epoch, best = min(points, key=lambda p: p[1])
    last_epoch, last = points[-1]
    warning = None
    if last > best * OVERFIT_RATIO and last_epoch > best_epoch:
        warning = (f"The held-out loss was lowest at epoch {best_epoch} ({best:.2f}) and rose to {last:.2f} by epoch "
                   f"{last_epoch}: the model memorised its training data after that; fewer epochs would likely do "
                   "as well or better.")
        against = [(k, t) for k, t in (rationale or {}).items() if AGAINST_OVERFITTING.search(t)]
        if against:
            key, text = against[0]
            warning += (f" This contradicts the rationale for `{key}` (\"{text}\"): with {last_epoch} epochs the "
                        f"held-out loss still rose after its minimum at epoch {best_epoch}.")
    return {"best_epoch": best_epoch, "best": best, "last_epoch": last_epoch, "last": last, "warning": warning}
