"""Rich renderings shared by `show` and `verdict`, and their JSON twins."""

from __future__ import annotations

from hyp.cli.console import OUTCOME_STYLE, VERDICT_STYLE, fmt, out, styled
from hyp.hypotheses.judged import Judged


def verdict_json(j: Judged) -> dict:
    data = {"id": j.hypothesis.id, **j.verdict.to_json()}
    data["status"] = j.status
    data["lock"] = {"sha256": j.lock.sha256, "current": j.lock.current, "status": j.lock.status,
                    "changes": j.lock.changes,
                    "amendments": [a.__dict__ for a in j.lock.amendments]}
    data["result_run_id"] = j.results.result_run_id
    return data


def _interval(low, high, n) -> str:
    if low is None:
        return ""
    return "" if n in (None, 1) or low == high else f"[{fmt(low)}, {fmt(high)}]"


def print_verdict(j: Judged) -> None:
    from rich.table import Table

    console = out()
    head = styled(j.shown_verdict, VERDICT_STYLE)
    console.print(f"[bold]{j.hypothesis.id}[/] {j.hypothesis.title}: {head}")
    if j.lock.status == "amended-after-results":
        console.print(f"[magenta]Pre-registered parts changed after results (verdict below is judged against "
                      f"what was registered). Record it with `hyp amend {j.hypothesis.id} --reason ...`:[/]")
        for c in j.lock.changes:
            console.print(f"  {c['field']}: {fmt(c['old'])} → {fmt(c['new'])}")
    n = {m: e.n for m, e in j.verdict.observations.items()}
    for title, items in (("Success criteria", j.verdict.criteria), ("Predictions", j.verdict.predictions)):
        if not items:
            continue
        table = Table(title=title, title_justify="left")
        for col in ("", "metric", "expected", "actual", "95% interval", "outcome"):
            table.add_column(col)
        for it in items:
            table.add_row(it.level, it.metric, f"{it.op} {fmt(it.value)}", fmt(it.estimate),
                          _interval(it.low, it.high, n.get(it.metric)), styled(it.outcome, OUTCOME_STYLE))
        console.print(table)
    if j.lock.amendments:
        for a in j.lock.amendments:
            console.print(f"amended {a.time}: {a.reason}")


def print_agreement(j: Judged) -> None:
    """Hand against rubric scores per criterion, when both scored the same answers."""
    obs = j.verdict.observations
    criteria = [c for c in ("agent", "factual", "personality", "complete") if f"agreement.{c}" in obs]
    if not criteria:
        return
    from rich.table import Table

    table = Table(title="Hand vs rubric scores (the hand scores count)", title_justify="left")
    for col in ("criterion", "hand points", "rubric points", "agreement", "Cohen's κ"):
        table.add_column(col)
    for c in criteria:
        hand, rubric, kappa = obs.get(f"{c}_points"), obs.get(f"auto.{c}_points"), obs.get(f"kappa.{c}")
        table.add_row(c, fmt(hand.estimate if hand else None), fmt(rubric.estimate if rubric else None),
                      f"{obs[f'agreement.{c}'].estimate:.0%}", f"{kappa.estimate:.2f}" if kappa else "—")
    out().print(table)
