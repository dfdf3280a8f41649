import click


@click.command("amend")
@click.argument("hid")
@click.option("--reason", required=True, help="Why the pre-registered parts changed.")
@click.pass_context
def command(ctx, hid, reason):
    """Record a change to pre-registered parts made after results exist."""
    from hyp.cli.console import lab_from, out
    from hyp.results.amend import amend

    lab = lab_from(ctx)
    judged, amendment = amend(lab, hid, reason)
    out().print(f"Recorded amendment of {hid} ({len(amendment.changes)} change(s)): verdict now "
                f"{judged.verdict.verdict}")
