import click


@click.command("report")
@click.argument("hid")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Where to write (default reports/HID.md).")
@click.pass_context
def command(ctx, hid, output):
    """Write the Markdown report from what was logged."""
    from hyp.cli.console import lab_from, out
    from hyp.reports.report import write_report

    lab = lab_from(ctx)
    path = write_report(lab, hid, output=output)
    out().print(f"Wrote {path}")
