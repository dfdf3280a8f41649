import click


@click.command("score")
@click.argument("hid")
@click.option("--run", "run_id", default=None, metavar="ID",
              help="Score this run's answers (again); default: the latest answers not yet scored by hand.")
@click.pass_context
def command(ctx, hid, run_id):
    """Score the latest answers by hand, criterion by criterion (0-2); resumable, Ctrl-C loses nothing."""
    from rich.markup import escape
    from rich.panel import Panel

    from hyp.cli.console import fmt, lab_from, out
    from hyp.cli.render import print_agreement, print_verdict
    from hyp.experiments.hand_scoring import score_hypothesis
    from hyp.results.index import load_results
    from hyp.results.judged import judge

    lab = lab_from(ctx)

    def show(text: str) -> None:
        out().print(Panel(escape(text), expand=False) if "\n" in text else escape(text))

    def ask(prompt: str) -> int:
        while True:
            answer = click.prompt(prompt, default="", show_default=False).strip()
            if answer in ("0", "1", "2"):
                return int(answer)
            out().print(f"{escape(answer) or 'nothing'}: type 0, 1 or 2 (Ctrl-C stops and keeps what you scored)")

    done = score_hypothesis(lab, hid, run_id=run_id, show=show, ask=ask)
    if not done:
        out().print(f"Every answer of {hid}'s latest results is already scored by hand "
                    "(`--run ID` scores a run again).")
        return
    for run, logged in done:
        rubric = f" (the rubric gave {fmt(logged['auto.score'])})" if "auto.score" in logged else ""
        out().print(f"Logged hand scores to run {run.run_id} ({run.name}): score {fmt(logged['score'])}{rubric}.")
    judged = judge(lab, lab.load(hid), load_results(lab).get(hid))
    print_agreement(judged)
    print_verdict(judged)
