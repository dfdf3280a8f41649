import click

from hyp.cli.console import VERDICT_STYLE, fmt, lab_from, out, print_json, styled


@click.command("compare")
@click.argument("ids", nargs=-1, required=True, metavar="HID HID [HID ...]")
@click.option("--all", "all_rows", is_flag=True, help="Show every param and metric, not only those that differ.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def command(ctx, ids, all_rows, as_json):
    """Params and metrics of the latest results side by side; changes from the first are highlighted."""
    from hyp.reports.compare import compare

    if len(ids) < 2:
        raise click.UsageError("give at least two hypotheses to compare, e.g. `hyp compare H002 H003`")
    comparison = compare(lab_from(ctx), list(ids), all_rows=all_rows)
    if as_json:
        print_json(comparison.to_json())
        return
    if not comparison.params and not comparison.metrics:
        out().print("Params and metrics are the same in every run (--all shows them).")
        return
    out().print(_table(comparison))


def _table(c):
    from rich.markup import escape
    from rich.table import Table

    def param(value, first) -> str:
        return escape(fmt(value)) if value == first else f"[bold yellow]{escape(fmt(value))}[/]"

    def metric(value, first, gain=None) -> str:
        if gain is not None:
            if gain["low"] is None:
                delta = f" ({gain['estimate']:+.4g}, no interval)"
            else:
                words = "better" if gain["low"] > 0 else "worse" if gain["high"] < 0 else "no clear difference"
                delta = f" ({gain['estimate']:+.4g} [{gain['low']:+.3g}, {gain['high']:+.3g}] {words})"
        elif value is not None and first is not None and value != first:
            delta = f" ({value - first:+.4g})"
        else:
            delta = ""
        return fmt(value) + delta if value == first else f"[bold yellow]{fmt(value)}{delta}[/]"

    table = Table(caption_justify="left")
    table.add_column("")
    for head in c.runs:
        version = f" {head['version']}" if head["version"] else ""
        table.add_column(f"{head['id']}{escape(version)}\n{styled(head['verdict'], VERDICT_STYLE)}")
    for title, rows in (("params", c.params), ("metrics", c.metrics)):
        if not rows:
            continue
        table.add_section()
        table.add_row(f"[bold]{title}[/]")
        for key, values in rows.items():
            if title == "metrics":
                gains = c.differences.get(key) or [None] * len(values)
                others = (metric(v, values[0], g) for v, g in zip(values[1:], gains[1:], strict=True))
            else:
                others = (param(v, values[0]) for v in values[1:])
            table.add_row(escape(key), fmt(values[0]), *others)
    table.caption = ("changes from the first column in yellow; differences of pooled results with a paired 95% "
                     "interval, better/worse only when it excludes 0")
    return table
