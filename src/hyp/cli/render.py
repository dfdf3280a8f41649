"""Rich renderings shared by `show` and `verdict`, and their JSON twins."""

from __future__ import annotations

from hyp.cli.console import OUTCOME_STYLE, VERDICT_STYLE, fmt, out, styled
from hyp.hypotheses.agreement import TRUST_KAPPA, TRUST_MIN_ANSWERS
from hyp.hypotheses.criteria import CRITERIA
from hyp.results.judged import Judged


def verdict_json(j: Judged) -> dict:
    data = {"id": j.hypothesis.id, **j.verdict.to_json()}
    data["status"] = j.status
    data["lock"] = {"sha256": j.lock.sha256, "current": j.lock.current, "status": j.lock.status,
                    "changes": j.lock.changes,
                    "amendments": [a.__dict__ for a in j.lock.amendments]}
    if j.lock.problems:
        data["lock"]["problems"] = j.lock.problems
    data["result_run_id"] = j.results.result_run_id
    data["attempts"] = [a.__dict__ for a in j.results.attempts]
    data["flags"] = j.results.flags
    data["agreements"] = j.results.agreements
    return data


def interval_text(est) -> str:
    """"[low, high]", or "point" for a metric known only as one number (judged on that value)."""
    if est is None:
        return ""
    if est.point:
        return "point"
    return f"[{fmt(est.low)}, {fmt(est.high)}]"


def print_attempts(j: Judged) -> None:
    """Every result, with its date and what it scored; superseded and deviating ones say why they don't count."""
    import datetime as dt

    if not j.results.attempts:
        return
    from rich.table import Table

    table = Table(title="Attempts (all pooled into the evidence unless marked)", title_justify="left")
    for col in ("run", "kind", "date", "units", "score", "counts"):
        table.add_column(col)
    for a in j.results.attempts:
        when = dt.datetime.fromtimestamp(a.start_time / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
        if a.superseded_by:
            why = f"superseded by {a.superseded_by[:8]}: {a.supersede_reason}"
        elif a.deviations:
            why = "deviates: " + ", ".join(f"{d.get('key')}={fmt(d.get('used'))}" for d in a.deviations)
        else:
            why = "yes"
        table.add_row(a.run_id[:8], a.kind, when, str(a.units), fmt(a.score), why)
    out().print(table)


def print_verdict(j: Judged) -> None:
    from rich.table import Table

    console = out()
    head = styled(j.shown_verdict, VERDICT_STYLE)
    console.print(f"[bold]{j.hypothesis.id}[/] {j.hypothesis.title}: {head}")
    from rich.markup import escape

    for line in caveats(j):  # beside the verdict word, where the eye already is
        console.print(f"[bold yellow]![/] [yellow]{escape(line)}[/]", highlight=False)
    if j.lock.status == "broken":
        console.print("[bold red]The pre-registration lock is broken:[/] " + "; ".join(j.lock.problems))
    if j.lock.status == "amended-after-results":
        console.print(f"[magenta]Pre-registered parts changed after results (verdict below is judged against "
                      f"what was registered). Record it with `hyp amend {j.hypothesis.id} --reason ...`:[/]")
        for c in j.lock.changes:
            console.print(f"  {c['field']}: {fmt(c['old'])} → {fmt(c['new'])}")
    obs = j.verdict.observations
    for title, items in (("Success criteria", j.verdict.criteria), ("Predictions", j.verdict.predictions)):
        if not items:
            continue
        table = Table(title=title, title_justify="left")
        for col in ("", "metric", "expected", "actual", "95% interval", "outcome"):
            table.add_column(col)
        for it in items:
            table.add_row(it.level, it.metric, f"{it.op} {fmt(it.value)}", fmt(it.estimate),
                          interval_text(obs.get(it.metric)), styled(it.outcome, OUTCOME_STYLE))
        console.print(table)
    score = obs.get("score")
    if score is not None:
        console.print(f"Evidence: {score.n} result(s)" + (f" × {score.questions} questions" if score.questions else "")
                      + f", {score.method} interval at {j.verdict.level:.0%}")
    if j.verdict.verdict == "INCONCLUSIVE":
        more = j.verdict.more_replicates
        console.print(f"About {more} more replicate(s) would likely decide it (`hyp run {j.hypothesis.id} "
                      f"--until-decided`)." if more else "More replicates alone would likely not decide it: the "
                      "questions disagree with each other; more questions would.")
    if j.lock.amendments:
        for a in j.lock.amendments:
            console.print(f"amended {a.time}: {a.reason}")


def caveats(j: Judged) -> list[str]:
    """What a decided verdict does not say: criteria it could not judge for want of data, criteria
    beside the primary that were not met, and predictions missed or without data. The verdict rests on
    the primary criterion alone (SPEC §7); these are why a CONFIRMED may still not be the whole story."""
    v = j.verdict
    if v.verdict == "PENDING":
        return []

    def listed(items) -> str:
        return "; ".join(f"{it.level}: {it.metric} {it.op} {fmt(it.value)}"
                         + (f", actual {fmt(it.estimate)}" if it.estimate is not None else "") for it in items)

    lines = []
    if nodata := [c for c in v.criteria if c.outcome == "no data"]:
        lines.append(f"No data for {len(nodata)} of {len(v.criteria)} success criteria ({listed(nodata)}): "
                     "the verdict rests on the primary criterion alone.")
    if unmet := [c for c in v.criteria if c.outcome == "not met" and c.level != "primary"]:
        lines.append(f"Not met beside the primary: {listed(unmet)}.")
    if missed := [p for p in v.predictions if p.outcome == "not met"]:
        lines.append(f"{len(missed)} of {len(v.predictions)} prediction(s) missed: {listed(missed)}.")
    if unknown := [p for p in v.predictions if p.outcome == "no data"]:
        lines.append(f"No data for {len(unknown)} of {len(v.predictions)} prediction(s): "
                     f"{', '.join(p.level for p in unknown)}.")
    return lines


def print_agreement(j: Judged) -> None:
    """Hand against rubric scores per criterion, when both scored the same answers."""
    obs = j.verdict.observations
    criteria = [c for c in CRITERIA if f"agreement.{c}" in obs]
    if not criteria:
        return
    from rich.table import Table

    table = Table(title="Hand vs automatic scores (the hand scores count)", title_justify="left")
    for col in ("criterion", "hand points", "automatic points", "agreement", "weighted κ", "κ 95% interval"):
        table.add_column(col)
    for c in criteria:
        hand, rubric, kappa = obs.get(f"{c}_points"), obs.get(f"auto.{c}_points"), obs.get(f"kappa.{c}")
        low, high = obs.get(f"kappa.{c}.low"), obs.get(f"kappa.{c}.high")
        table.add_row(c, fmt(hand.estimate if hand else None), fmt(rubric.estimate if rubric else None),
                      f"{obs[f'agreement.{c}'].estimate:.0%}", f"{kappa.estimate:.2f}" if kappa else "—",
                      f"[{low.estimate:.2f}, {high.estimate:.2f}]" if low and high else "—")
    out().print(table)
    for g in j.results.agreements:
        if g.get("disagreements"):
            matrix = " ".join("/".join(str(n) for n in row) for row in g["confusion"])
            out().print(f"  {g['criterion']}: {g['first']} vs {g['second']} differ on "
                        f"{', '.join(g['disagreements'])} (confusion, rows {g['first']} 0-2: {matrix})")
    weak = [c for c in criteria if (k := obs.get(f"kappa.{c}")) is not None and k.estimate < TRUST_KAPPA
            and (n := obs.get("points_max")) is not None and n.estimate / 8 >= TRUST_MIN_ANSWERS]
    if weak:
        out().print(f"[bold red]The automatic scores are not trustworthy for this suite[/] on {', '.join(weak)}: "
                    f"their agreement with the hand scores is below κ {TRUST_KAPPA}.")


def print_flags(j: Judged) -> None:
    """The coherence checks' findings on the latest result's answers: these lost their factual and
    personality points (SPEC §4)."""
    if not j.results.flags:
        return
    out().print(f"[yellow]Coherence flags[/] ({len(j.results.flags)} answer(s) scored 0 for facts and personality):")
    for answer, flags in j.results.flags.items():
        out().print(f"  {answer}: {'; '.join(flags)}")
