import click


@click.command("verdict")
@click.argument("hid")
@click.option("--check", is_flag=True, help="Exit 1 unless CONFIRMED.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def command(ctx, hid, check, as_json):
    """Recompute and print the verdict (exit 3 when the lock is broken)."""
    from hyp.cli.console import lab_from, print_json
    from hyp.cli.render import print_verdict, verdict_json
    from hyp.errors import CheckFailed, LockBroken
    from hyp.hypotheses.judged import judge_hypothesis
    from hyp.trackers.index import load_results

    lab = lab_from(ctx)
    hyp = lab.load(hid)
    judged = judge_hypothesis(hyp, load_results(lab).get(hid))
    if as_json:
        print_json(verdict_json(judged))
    else:
        print_verdict(judged)
    if judged.lock.status == "amended-after-results":
        raise LockBroken(f"{hid}: pre-registered parts changed after results; run `hyp amend {hid} --reason ...`")
    if check and judged.verdict.verdict != "CONFIRMED":
        raise CheckFailed(f"{hid} is {judged.verdict.verdict}, not CONFIRMED")
