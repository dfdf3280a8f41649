"""What the report's summary says in plain words, from data: the goal (and how an amendment moved it),
what was missed or never measured, one next step and why, what moved from the parent and whether the
statement was about it, and whether training overfitted the held-out conversations. Pure."""

from __future__ import annotations

import re

from hyp.display import fmt
from hyp.reports.evidence import fmt_change, fmt_metric, fmt_score, gain
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


def judgement_name(j, kind: str) -> str:
    return f"{j.level} criterion" if kind == "criterion" else f"prediction \"{j.level}\""


def _not_met(judged: Judged) -> list[tuple[str, object]]:
    return [(kind, j) for kind, items in (("criterion", judged.verdict.criteria),
                                          ("prediction", judged.verdict.predictions))
            for j in items if j.outcome != "met"]


def missed(judged: Judged) -> list[str]:
    """Every criterion and prediction not met, undecided or without data, as one line each; not the primary
    criterion, which the verdict itself (and the Result row) states."""
    out = []
    for kind, j in others_missed(judged):
        if j.estimate is None:
            out.append(f"{judgement_name(j, kind)} `{j.metric} {j.op} {fmt(j.value)}`: no data (never measured)")
        else:
            out.append(f"{judgement_name(j, kind)} `{j.metric} {j.op} {fmt(j.value)}`: {j.outcome} "
                       f"(actual {fmt_metric(j.metric, j.estimate)})")
    return out


def others_missed(judged: Judged) -> list[tuple[str, object]]:
    """What was not met besides the primary criterion (which the verdict follows alone)."""
    primary = judged.verdict.criteria[0]
    return [(kind, j) for kind, j in _not_met(judged) if j is not primary]


def condition_text(metric: str, op: str, value) -> str:
    return f"{metric} {op} {fmt(list(value) if isinstance(value, tuple) else value)}"


def goal_text(judged: Judged) -> str:
    """The primary criterion the verdict was judged against. When `hyp amend` moved it after results: the
    registered goal → the amended one, with when and why, so a lowered bar never reads as the plan. An edit
    nobody recorded is named too: it is not what the verdict used."""
    p = judged.verdict.criteria[0]
    text = condition_text(p.metric, p.op, p.value)
    locked = ((judged.results.locked or {}).get("success_criteria") or {}).get("primary")
    if locked and condition_text(locked.get("metric"), locked.get("op"), locked.get("value")) != text:
        touched = [a for a in judged.lock.amendments
                   if any(str(c.get("field", "")).startswith("success_criteria.primary") for c in a.changes)]
        a = (touched or judged.lock.amendments or [None])[-1]
        registered = condition_text(locked.get("metric"), locked.get("op"), locked.get("value"))
        text = f"{registered} → {text}" + (f" (amended {a.time[:10]}: {a.reason})" if a else " (amended)")
    if any(str(c.get("field", "")).startswith("success_criteria.primary") for c in judged.lock.changes):
        now = judged.hypothesis.success_criteria.primary
        text += (f"; the file now says {condition_text(now.metric, now.op, now.value)}, changed after results without "
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


def prediction_labels(judged: Judged, metric: str) -> list[str]:
    return [p.label for p in judged.hypothesis.predictions if p.metric == metric]


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
        words = words_of(j.metric, prediction_labels(child, j.metric))
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
        rows.append({"metric": j.metric, "name": judgement_name(j, kind), "change": change, "moved": moved,
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
    label = next(iter(prediction_labels(judged, metric)), None)
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
    others = others_missed(judged)
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
