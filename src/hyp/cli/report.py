import click


@click.command("report")
@click.argument("hid")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Where to write (default reports/HID.md).")
@click.pass_context
def command(ctx, hid, output):
    """Write the Markdown report from what was logged."""
    from hyp.cli.console import err, lab_from, out
    from hyp.reports.report import NotLogged, write_report

    # What the report read from the store is kept in .hyp/reports/ only where the lab can be written
    # (files.write_cache): a read-only lab still gets its report, read from the store each time.
    try:
        path = write_report(lab_from(ctx), hid, output=output)
    except NotLogged as e:
        path = e.path
        err().print(f"note: {e}", markup=False, highlight=False, soft_wrap=True)
    out().print(f"Wrote {path}")
