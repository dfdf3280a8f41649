import sys

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
    for warning in _copied_statements(lab, ids):
        print(f"warning: {warning}", file=sys.stderr)


def _copied_statements(lab, ids: list[str]) -> list[str]:
    """A statement still word for word its parent's (as `hyp new --from` copies it): valid, but the claim
    the first results will lock is not this hypothesis's own yet."""
    from hyp.errors import BadInput

    found = []
    for hid in ids:
        hyp, doc = lab.read(hid)
        if not hyp.parent or hyp.parent not in lab.ids():
            continue
        try:
            parent = lab.load(hyp.parent)
        except BadInput:
            continue  # the parent's own problems are `hyp validate {parent}`'s to report
        if " ".join(parent.statement.split()) == " ".join(hyp.statement.split()):
            found.append(f"{doc.where(('statement',))}: statement: the same as {hyp.parent}'s; rewrite it to say "
                         f"what {hid} claims before its first results lock it")
    return found
