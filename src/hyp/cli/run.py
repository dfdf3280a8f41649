import click


@click.command("run")
@click.argument("hid")
@click.option("--replicates", type=int, default=None, help="Independent training seeds (overrides the file).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override one experiment value for this run only (recorded as a deviation).")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint of an interrupted run.")
@click.option("--dry-run", is_flag=True, help="Check everything and show the plan; train nothing, log nothing.")
@click.option("--until-decided", is_flag=True,
              help="Add replicates one at a time until the primary criterion is decided (corrected for peeking).")
@click.option("--max-replicates", type=int, default=None, help="With --until-decided: at most this many (10).")
@click.option("--supersede", multiple=True, metavar="RUN",
              help="Take an earlier result out of the evidence (repeatable; needs --reason; kept and shown).")
@click.option("--reason", default=None, help="Why the superseded results no longer count.")
@click.pass_context
def command(ctx, hid, replicates, overrides, resume, dry_run, until_decided, max_replicates, supersede, reason):
    """Build the data, train, evaluate, log to MLflow, judge and write the report."""
    from hyp.cli.console import fmt, lab_from, out
    from hyp.cli.render import print_verdict
    from hyp.experiments.run import prepare, run_hypothesis

    lab = lab_from(ctx)
    if dry_run:
        p = prepare(lab, hid, replicates=replicates, overrides=list(overrides))
        t = p.hypothesis.experiment.training
        out().print(f"[bold]{hid}[/] would train {p.hypothesis.experiment.model.name} on {len(p.mix.examples)} "
                    f"examples ({p.mix.curated_count} curated + {p.mix.synthetic_count} synthetic), "
                    f"{t.epochs} epochs × {p.replicates} replicate(s); evaluate {len(p.suite.questions)} questions.")
        out().print("lint: " + ", ".join(f"{k.removeprefix('lint.')} {v}" for k, v in p.lint_counts.items()))
        for d in p.deviations:
            out().print(f"deviation: {d['key']}: registered {fmt(d['registered'])}, used {fmt(d['used'])}")
        if short := p.short_of_synthetic():
            out().print(f"warning: {short}")
        out().print(f"dataset digest {p.mix.digest[:16]} · nothing was trained or logged (--dry-run)")
        return
    import os

    outcome = run_hypothesis(lab, hid, replicates=replicates, overrides=list(overrides), resume=resume,
                             progress=not os.environ.get("HYP_NO_PROGRESS"), until_decided=until_decided,
                             max_replicates=max_replicates, supersede=list(supersede), reason=reason)
    m = outcome.metrics
    base = outcome.judged.verdict.observations.get("base_score")
    out().print(f"[bold]{hid}[/]: score {fmt(m.get('score'))} (base {fmt(base.estimate if base else None)}), "
                f"train {fmt(m.get('train_seconds'))} s, final loss {fmt(m.get('final_train_loss'))} · "
                f"MLflow run {outcome.parent_run_id}")
    print_verdict(outcome.judged)
    if outcome.report:
        out().print(f"Report: {outcome.report}")
