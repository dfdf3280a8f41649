import click


@click.command("validate")
@click.argument("hids", nargs=-1)
@click.pass_context
def command(ctx, hids):
    """Check hypothesis files (all of them when none is named)."""
    from hyp.cli.console import error, lab_from, out
    from hyp.errors import BadInput

    lab = lab_from(ctx)
    ids = list(hids) or lab.ids()
    problems = []
    for hid in ids:
        problems += lab.problems(hid)
    if problems:
        raise BadInput("\n".join(problems))
    if not ids:
        error("no hypotheses found in hypotheses/")
        return
    out().print(f"[green]ok[/] {len(ids)} hypothes{'is' if len(ids) == 1 else 'es'} valid: {', '.join(ids)}")
