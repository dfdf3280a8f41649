import click


@click.command("record")
@click.argument("hid")
@click.option("--scores", type=click.Path(), help="CSV: question,agent,factual,personality,complete")
@click.option("--responses", type=click.Path(), help='JSON: [{"question": "Q1", "response": "..."}]')
@click.option("--metric", "metrics", multiple=True, metavar="KEY=VALUE", help="A metric value (repeatable).")
@click.option("--supersede", multiple=True, metavar="RUN",
              help="Take an earlier result out of the evidence (repeatable; needs --reason; kept and shown).")
@click.option("--reason", default=None, help="Why the superseded results no longer count.")
@click.pass_context
def command(ctx, hid, scores, responses, metrics, supersede, reason):
    """Log results produced elsewhere and print the verdict."""
    from hyp.cli.console import lab_from, out
    from hyp.cli.render import print_verdict
    from hyp.errors import BadInput
    from hyp.experiments.record import record

    if sum(bool(x) for x in (scores, responses)) > 1:
        raise BadInput("hyp record: give one of --scores or --responses")
    lab = lab_from(ctx)
    run_id, judged = record(lab, hid, scores=scores, responses=responses, metrics=list(metrics),
                          supersede=list(supersede), reason=reason)
    out().print(f"Recorded run {run_id}.")
    print_verdict(judged)
