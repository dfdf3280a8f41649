import click


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def command(ctx, as_json):
    """Table of hypotheses with status and latest score."""
    from hyp.cli.console import VERDICT_STYLE, err, fmt, lab_from, out, print_json, styled
    from hyp.errors import BadInput
    from hyp.results.index import load_results
    from hyp.results.judged import judge

    lab = lab_from(ctx)
    results = load_results(lab)
    rows, broken = [], []
    for hid in lab.ids():
        try:
            hyp = lab.load(hid)
        except BadInput as e:
            broken.append(e.message)
            continue
        rows.append(judge(lab, hyp, results.get(hid)))
    lab.save_parsed()
    for message in broken:
        err().print(f"[yellow]skipped[/] {message}")
    if as_json:
        print_json([{"id": j.hypothesis.id, "title": j.hypothesis.title, "parent": j.hypothesis.parent,
                     "version": j.hypothesis.version, "status": j.status, "score": j.score,
                     "point": bool((e := j.verdict.observations.get("score")) and e.point),
                     "lock": j.lock.status} for j in rows])
        return
    from rich.table import Table

    table = Table(title=f"Hypotheses in {lab.root.name}")
    for col in ("id", "version", "title", "parent", "status", "score"):
        table.add_column(col, justify="right" if col == "score" else "left")
    for j in rows:
        status = j.shown_verdict if j.lock.status in ("amended-after-results", "broken") else j.status
        est = j.verdict.observations.get("score")
        score = fmt(j.score) + (" (point)" if est and est.point else "")
        table.add_row(j.hypothesis.id, j.hypothesis.version or "", j.hypothesis.title, j.hypothesis.parent or "",
                      styled(status, VERDICT_STYLE), score)
    out().print(table)
