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
    from hyp.results.index import load_results
    from hyp.results.judged import judge

    lab = lab_from(ctx)
    hyp = lab.load(hid)
    if check:
        # What decides an exit code is read from the store itself, never from the index alone.
        from hyp.results.index import store_results
        from hyp.store import open_tracker

        results = store_results(lab, open_tracker(lab), hid)
    else:
        results = load_results(lab).get(hid)
    judged = judge(lab, hyp, results)
    if as_json:
        print_json(verdict_json(judged))
    else:
        print_verdict(judged)
    if judged.lock.status == "broken":
        raise LockBroken(f"{hid}: the pre-registration lock is broken: {'; '.join(judged.lock.problems)}")
    if judged.lock.status == "amended-after-results":
        raise LockBroken(f"{hid}: pre-registered parts changed after results; run `hyp amend {hid} --reason ...`")
    if check and judged.verdict.verdict != "CONFIRMED":
        raise CheckFailed(f"{hid} is {judged.verdict.verdict}, not CONFIRMED")
