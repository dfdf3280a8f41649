"""What the report's summary says in plain words, from data: what was missed, what to do next and
why, and whether training overfitted the held-out conversations. Pure."""

from __future__ import annotations

from hyp.display import fmt
from hyp.results.judged import Judged

OVERFIT_RATIO = 1.10  # a final held-out loss 10% above its best epoch's is worth a warning
SCORE_METRICS = ("score", "base_score", "rubric.score", "auto.score")


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


def missed(judged: Judged) -> list[str]:
    """Every criterion and prediction not met, undecided or without data, as one line each."""
    out = []
    for kind, items in (("criterion", judged.verdict.criteria), ("prediction", judged.verdict.predictions)):
        for j in items:
            if j.outcome == "met":
                continue
            actual = "no data" if j.estimate is None else fmt_metric(j.metric, j.estimate)
            name = f"{j.level} criterion" if kind == "criterion" else f"prediction \"{j.level}\""
            out.append(f"{name} `{j.metric} {j.op} {fmt(j.value)}`: {j.outcome} (actual {actual})")
    return out


def next_step(judged: Judged) -> str:
    """One recommended next step with its reason, whatever the verdict."""
    hyp, v = judged.hypothesis, judged.verdict
    primary = v.criteria[0]
    actual = fmt_metric(primary.metric, primary.estimate)
    if v.verdict == "PENDING":
        return f"Run it: `hyp run {hyp.id}` (no results yet)."
    if v.verdict == "INCONCLUSIVE":
        more = v.more_replicates
        if more:
            return (f"Add about {more} replicate(s) with `hyp run {hyp.id} --until-decided`: the primary criterion "
                    f"({primary.metric} {primary.op} {fmt(primary.value)}, now {actual}) is undecided, and the "
                    "spread between seeds is what keeps it open.")
        return (f"Add questions to the evaluation suite (a new hypothesis): `{primary.metric}` is undecided at "
                f"{actual} and the questions disagree with each other, so more runs of the same ones would not "
                "settle it.")
    if v.verdict == "REJECTED":
        failed = [j for j in v.criteria if j.outcome == "not met"]
        reason = "; ".join(f"{j.metric} {fmt_metric(j.metric, j.estimate)} against {j.op} {fmt(j.value)}"
                           for j in failed)
        if hyp.on_failure:
            o = _closest(hyp.on_failure, primary.value)
            expected = f", expected {fmt(o.expected)}" if o.expected is not None else ""
            return (f"Option {o.option}, {o.title.lower()}{expected}: it was planned for this failure ({reason}).")
        return f"Write the next hypothesis from what failed ({reason}); this one lists no on_failure options."
    if hyp.on_success:
        o = hyp.on_success[0]
        return f"Option {o.option}, {o.title.lower()}: confirmed at {actual}, so build on it as planned."
    low = judged.verdict.observations.get(primary.metric)
    margin = f" (its interval's low end is {fmt_metric(primary.metric, low.low)})" if low and not low.point else ""
    return (f"Confirmed at {actual}{margin}; it lists no on_success option: write the next hypothesis "
            f"(`hyp new H{int(hyp.id[1:]) + 1:03d} --from {hyp.id}`) to push the goal further.")


def _closest(options, goal):
    """The failure option whose expected outcome best reaches the goal (the first when none says)."""
    def reach(o):
        if o.expected is None or isinstance(goal, list | tuple):
            return float("-inf")
        top = max(o.expected) if isinstance(o.expected, list | tuple) else o.expected
        return -abs(top - goal) if top < goal else 0.0
    return max(options, key=reach)


def by_epoch(points: list[tuple[int, float]], epochs: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """A per-epoch metric logged at the last step of each epoch, as (epoch, value): `epochs` is the run's
    `epoch` history at those steps. Runs from before issue 19 logged it by epoch and have no `epoch` history."""
    if not epochs:
        return list(points)
    at = dict(epochs)
    return [(int(at[step]), value) for step, value in points if step in at]


def heldout(histories: dict[str, list[tuple[int, float]]]) -> dict | None:
    """The held-out loss per epoch (first replicate): its best epoch, and a warning when it rose since."""
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
    return {"best_epoch": best_epoch, "best": best, "last_epoch": last_epoch, "last": last, "warning": warning}
