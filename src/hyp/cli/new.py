import click


@click.command("new")
@click.argument("hid")
@click.option("--from", "parent", default=None, help="Start from this hypothesis and record it as the parent.")
@click.option("--option", default=None, help="Apply this on_failure/on_success option of the parent.")
@click.option("--from-trial", default=None, metavar="H004:12", help="Start from a sweep trial's parameters.")
@click.pass_context
def command(ctx, hid, parent, option, from_trial):
    """Write hypotheses/HID.yaml."""
    from hyp.cli.console import lab_from, out
    from hyp.errors import BadInput
    from hyp.hypotheses.scaffold import new_hypothesis

    lab = lab_from(ctx)
    if option and not parent:
        raise BadInput("--option needs --from (the hypothesis whose option to apply)")
    if from_trial:
        from hyp.sweeps.from_trial import trial_changes

        source, changes = trial_changes(lab, from_trial)
        path = new_hypothesis(lab, hid, parent=source, changes=changes, note=f"sweep trial {from_trial}")
    else:
        path = new_hypothesis(lab, hid, parent=parent, option=option)
    out().print(f"Wrote [bold]{path.relative_to(lab.root)}[/]. Edit it, then: hyp validate {hid}")
