"""What the report's summary says in plain words, from data: what was missed, what to do next and
why, what moved from the parent and whether the statement was about it, and whether training
overfitted the held-out conversations. Pure."""

from __future__ import annotations

import re

from hyp.display import fmt
from hyp.reports.evidence import gain
from hyp.results.judged import Judged

OVERFIT_RATIO = 1.10  # a final held-out loss 10% above its best epoch's is worth a warning
SCORE_METRICS = ("score", "base_score", "rubric.score", "auto.score")
IMPORTANCE_MIN_TRIALS = 10  # parameter importances from fewer finished trials rank the parameters mostly by chance
REPLICATE_MIN = 3  # a confirmation resting on fewer results is worth repeating before building on it
# Words in a metric's name that say what is counted, not what about: they would match any text.
GENERIC_WORDS = frozenset({"responses", "response", "points", "point", "total", "like", "rate", "count", "max"})
# A rationale that expects fewer epochs to stop memorising is contradicted by a held-out loss that still rose.
AGAINST_OVERFITTING = re.compile(r"fewer epochs|memori[sz]|overfit|over-fit", re.IGNORECASE)


def fmt_score(value) -> str:
    # Scores read as the manual reports wrote them: 29 of 64 points is 4.5.
    return "—" if value is None else f"{value:.1f}"


def fmt_metric(metric: str, value) -> str:
    """One format per quantity: scores to one decimal, counts whole, anything else to 4 figures."""
    if value is None:
        return "—"
    if metric in SCORE_METRICS or metric.endswith(".score"):
        return fmt_score(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return fmt(value)


def _name(j, kind: str) -> str:
    return f"{j.level} criterion" if kind == "criterion" else f"prediction \"{j.level}\""


def _not_met(judged: Judged) -> list[tuple[str, object]]:
    return [(kind, j) for kind, items in (("criterion", judged.verdict.criteria),
                                          ("prediction", judged.verdict.predictions))
            for j in items if j.outcome != "met"]


def missed(judged: Judged) -> list[str]:
    """Every criterion and prediction not met, undecided or without data, as one line each."""
    out = []
    for kind, j in _not_met(judged):
        actual = "no data" if j.estimate is None else fmt_metric(j.metric, j.estimate)
        out.append(f"{_name(j, kind)} `{j.metric} {j.op} {fmt(j.value)}`: {j.outcome} (actual {actual})")
    return out


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


def recommend(judged: Judged) -> dict:
    """One recommended next step, whatever the verdict: `text` for the report, `plain` for the audience
    (a clause that follows "Next, we should"), `option` the plan's option it picks, if any."""
    hyp, v = judged.hypothesis, judged.verdict
    primary = v.criteria[0]
    actual = fmt_metric(primary.metric, primary.estimate)
    if v.verdict == "PENDING":
        return {"text": f"Run it: `hyp run {hyp.id}` (no results yet).", "plain": "run it", "option": None}
    if v.verdict == "INCONCLUSIVE":
        more = v.more_replicates
        if more:
            return {"text": f"Add about {more} replicate(s) with `hyp run {hyp.id} --until-decided`: the primary "
                            f"criterion ({primary.metric} {primary.op} {fmt(primary.value)}, now {actual}) is "
                            "undecided, and the spread between seeds is what keeps it open.",
                    "plain": "train it a few more times with other seeds, which would likely settle it",
                    "option": None}
        return {"text": f"Add questions to the evaluation suite (a new hypothesis): `{primary.metric}` is undecided "
                        f"at {actual} and the questions disagree with each other, so more runs of the same ones "
                        "would not settle it.",
                "plain": "ask the model more questions, since the questions disagree with each other", "option": None}
    if v.verdict == "REJECTED":
        failed = [j for j in v.criteria if j.outcome == "not met"]
        what = "; ".join(f"{j.metric} {fmt_metric(j.metric, j.estimate)} against {j.op} {fmt(j.value)}"
                         for j in failed)
        if hyp.on_failure:
            o, why = pick_option(judged, hyp.on_failure)
            expected = f", expected {fmt(o.expected)}" if o.expected is not None else ""
            return {"text": f"Option {o.option}, {o.title.lower()}{expected}: {why} (failed: {what}).",
                    "plain": f"try option {o.option}, {o.title.lower()}, because {why}", "option": o.option}
        return {"text": f"Write the next hypothesis from what failed ({what}); this one lists no on_failure "
                        "options.", "plain": "write a new plan from what failed", "option": None}
    if hyp.on_success:
        o = hyp.on_success[0]
        return {"text": f"Option {o.option}, {o.title.lower()}: confirmed at {actual}, so build on it as planned.",
                "plain": f"build on it: {o.title.lower()}", "option": o.option}
    return _after_confirmed(judged)


def _after_confirmed(judged: Judged) -> dict:
    """Confirmed with no plan: replicate when it rests on little, else look at what was missed, else move on."""
    hyp, v = judged.hypothesis, judged.verdict
    primary = v.criteria[0]
    actual = fmt_metric(primary.metric, primary.estimate)
    e = v.observations.get(primary.metric)
    others = [(kind, j) for kind, j in _not_met(judged) if j is not primary]
    also, also_plain = "", ""
    if others:
        kind, j = others[0]
        seen = "had no data" if j.estimate is None else f"was {j.outcome} at {fmt_metric(j.metric, j.estimate)}"
        also = f"; the {_name(j, kind)} (`{j.metric} {j.op} {fmt(j.value)}`) {seen}"
        plain = {"not met": "did not hold", "undecided": "is not settled", "no data": "had no data"}[j.outcome]
        also_plain = f", and the {_name(j, kind)} {plain}"
    if e is None or e.point or e.n < REPLICATE_MIN:
        if e is None or e.point:
            rests, rests_plain = "a single number with no interval", "a single number"
        else:
            results = f"{e.n} result{'s' if e.n != 1 else ''}"
            rests = (results + (f" × {e.questions} questions" if e.questions else "")
                     + f" (95% CI {fmt_metric(primary.metric, e.low)}–{fmt_metric(primary.metric, e.high)})")
            rests_plain = results + (f" of {e.questions} questions" if e.questions else "")
        return {"text": f"Replicate before building on it: `hyp run {hyp.id} --replicates {REPLICATE_MIN}`. It was "
                        f"confirmed at {actual} on {rests}, too little to build on{also}.",
                "plain": f"repeat it with {REPLICATE_MIN} training seeds before building on it, because the result "
                         f"rests on {rests_plain}{also_plain}", "option": None}
    nxt = f"hyp new H{int(hyp.id[1:]) + 1:03d} --from {hyp.id}"
    if others:
        kind, j = others[0]
        return {"text": f"Look into the {_name(j, kind)} before building on it: confirmed at {actual}, but{also[1:]}; "
                        f"then `{nxt}`.",
                "plain": f"find out why the {_name(j, kind)} did not hold before building on it", "option": None}
    return {"text": f"Move on: confirmed at {actual} on {e.n} results with everything expected met; write the next "
                    f"hypothesis (`{nxt}`) to push the goal further.",
            "plain": "move on to the next idea, building on this one", "option": None}


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
    in the child, the change with its paired interval, and whether the statement or rationale is about it."""
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
        g = gain(parent, child, j.metric) if before is not None and after is not None else None
        # moved: True when the interval excludes 0, False when it does not (or one number each, unchanged),
        # None when it cannot be told (no data, or one number each that differ).
        if g is None:
            change, moved = "—", None
        elif g["low"] is None:
            moved = False if g["estimate"] == 0 else None
            change = "no change" if g["estimate"] == 0 else f"{g['estimate']:+.2f} (one number each: no interval)"
        else:
            moved = g["low"] > 0 or g["high"] < 0
            direction = "up" if g["low"] > 0 else "down" if g["high"] < 0 else "no clear change"
            change = f"{g['estimate']:+.2f} (95% CI {g['low']:+.2f} to {g['high']:+.2f}): {direction}"
            if g["low"] == g["high"] == 0:
                change = "no change"
        rows.append({"metric": j.metric, "name": _name(j, kind), "change": change, "moved": moved,
                     "parent": fmt_metric(j.metric, before and before.estimate),
                     "child": fmt_metric(j.metric, after and after.estimate),
                     "about": " and ".join(about) if about else "no"})
    return rows


def moves_text(rows: list[dict], parent_id: str) -> str | None:
    """One sentence: which criteria moved from the parent, and which the statement was about that did not."""
    if not rows:
        return None
    moved = [r for r in rows if r["moved"]]
    parts = ["moved: " + ", ".join(f"`{r['metric']}` {r['parent']} → {r['child']}" for r in moved) if moved
             else f"nothing clearly moved from {parent_id}"]
    about_still = [r for r in rows if r["moved"] is False and r["about"] != "no"]
    if about_still:
        parts.append("did not move although the hypothesis is about it: " + ", ".join(
            f"`{r['metric']}` {r['parent']} → {r['child']} (named in the {r['about']})" for r in about_still))
    return "; ".join(parts)


def plain_text(judged: Judged, best, est: dict, vs_best: dict | None, step: dict, who: str | None) -> str:
    """A few sentences for someone who does not train models: what was tried, whether it worked, who scored it
    and what to do next."""
    hyp = judged.hypothesis
    v = judged.verdict.verdict
    score = est.get("score")
    if score is None:
        return f"We have not measured {hyp.id} yet, so there is nothing to conclude."
    primary = hyp.success_criteria.primary
    what = {"CONFIRMED": "worked", "REJECTED": "did not work", "INCONCLUSIVE": "is not settled yet"}.get(v, v)
    s = [f"We tested: {hyp.title}. It {what}: the model scored {fmt_score(score)} out of 10, and the goal was "
         f"{primary.op} {fmt(primary.value)}."]
    if best is not None and vs_best is not None:
        words = {"better": "better than", "worse": "worse than"}.get(vs_best["words"], "not clearly different from")
        s.append(f"That is {words} our best earlier attempt ({best.hypothesis.id}, {fmt_score(best.score)}).")
    if who:
        s.append(f"The answers were {who}.")
    elif judged.verdict.observations["score"].point:
        s.append("The score is one number recorded by hand, not computed here from the answers.")
    if est.get("base_score") is not None:
        s.append(f"Before training, the same model scored {fmt_score(est['base_score'])}.")
    if v == "INCONCLUSIVE":
        s.append("The result is too uncertain to call yet.")
    s.append(f"Next, we should {step['plain']}.")
    return " ".join(s)


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
        warning = (f"The held-out loss was lowest at epoch {best_epoch} ({best:.3g}) and rose to {last:.3g} by epoch "
                   f"{last_epoch}: the model memorised its training data after that; fewer epochs would likely do "
                   "as well or better.")
        against = [(k, t) for k, t in (rationale or {}).items() if AGAINST_OVERFITTING.search(t)]
        if against:
            key, text = against[0]
            warning += (f" This contradicts the rationale for `{key}` (\"{text}\"): with {last_epoch} epochs the "
                        f"held-out loss still rose after its minimum at epoch {best_epoch}.")
    return {"best_epoch": best_epoch, "best": best, "last_epoch": last_epoch, "last": last, "warning": warning}
