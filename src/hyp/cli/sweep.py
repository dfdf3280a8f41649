import click


@click.command("sweep")
@click.argument("hid")
@click.option("--trials", type=int, default=None,
              help="Trials the study should hold, counting earlier ones (default: the sweep block's `trials`).")
@click.option("--workers", type=int, default=1, show_default=True, help="Local worker processes on the same study.")
@click.option("--storage", default=None, metavar="URL",
              help="Optuna storage (default: hyp.toml [sweeps] storage); postgresql://... lets other machines "
                   "join with the same command.")
@click.option("--study", default=None, metavar="NAME", help="Study name (default: the hypothesis id).")
@click.option("--vram-limit", type=float, default=None, metavar="GB",
              help="Peak VRAM a configuration may need (default: hyp.toml [resources] vram_limit_gb). Without "
                   "CUDA it is checked against `hyp estimate` only.")
@click.pass_context
def command(ctx, hid, trials, workers, storage, study, vram_limit):
    """Search the sweep block's space with Optuna under the VRAM limit, each trial an MLflow child run.

    A worker that dies is noticed by its missing heartbeat and its trial is retried by the others;
    HYP_SWEEP_HEARTBEAT=INTERVAL,GRACE (seconds, default 20,120) sets how soon.
    """
    from hyp.cli.console import lab_from, out
    from hyp.sweeps.sweep import run_sweep

    lab = lab_from(ctx)
    summary = run_sweep(lab, hid, trials=trials, workers=workers, storage=storage, study=study,
                        vram_limit_gb=vram_limit, echo=lambda line: out().print(line, markup=False, soft_wrap=True))
    print_summary(summary)


def print_summary(summary) -> None:
    from rich.table import Table

    from hyp.cli.console import fmt, out

    console = out()
    c = summary.counts
    if summary.best:
        keys = list(summary.best[0].params)
        table = Table(title=f"Best feasible trials ({summary.direction} {summary.metric})", title_justify="left")
        for col in ("trial", summary.metric, *(k.rsplit(".", 1)[-1] for k in keys), "trained", "VRAM GB"):
            table.add_column(col)
        for r in summary.best:
            vram = r.peak_vram_gb if r.peak_vram_gb is not None else r.estimate_gb
            table.add_row(str(r.number), fmt(r.value), *(fmt(r.params.get(k)) for k in keys), fmt(r.epochs_trained),
                          f"{fmt(vram)}{'' if r.peak_vram_gb is not None else ' (est.)'}")
        console.print(table)
    else:
        console.print("No feasible trial completed.")
    console.print(f"{len(summary.trials)} trials: {c['complete']} complete, {c['infeasible']} infeasible, "
                  f"{c['pruned']} pruned, {c['failed']} failed" + (f", {c['running']} running" if c['running'] else ""))
    planned = summary.epochs_planned
    saved = summary.epochs_saved_by_pruning + summary.epochs_saved_by_estimate
    share = f" ({saved / planned:.0%})" if planned else ""
    console.print(f"Compute: {summary.epochs_spent} trial-epochs spent of {planned} planned; saved {saved}{share}: "
                  f"{summary.epochs_saved_by_pruning} by pruning, {summary.epochs_saved_by_estimate} by not "
                  f"launching configurations over the VRAM limit.")
    if summary.best:
        console.print(f"Next: hyp new H### --from-trial {summary.study}:{summary.best[0].number}", markup=False)
