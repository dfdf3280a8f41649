import click


@click.command("show")
@click.argument("hid")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of panels.")
@click.pass_context
def command(ctx, hid, as_json):
    """One hypothesis in full, with its verdict."""
    from hyp.cli.console import fmt, lab_from, out, print_json
    from hyp.cli.render import print_attempts, print_flags, print_verdict, verdict_json
    from hyp.results.index import load_results
    from hyp.results.judged import judge

    lab = lab_from(ctx)
    hyp = lab.load(hid)
    judged = judge(lab, hyp, load_results(lab).get(hid))
    if as_json:
        print_json({"hypothesis": hyp.model_dump(mode="json"), **verdict_json(judged)})
        return
    from rich.panel import Panel

    e = hyp.experiment
    lines = [hyp.statement.strip(), ""]
    meta = [f"version {hyp.version}" if hyp.version else "", f"parent {hyp.parent}" if hyp.parent else "",
            f"by {hyp.author}" if hyp.author else "", f"created {hyp.created}" if hyp.created else ""]
    lines.append(" · ".join(m for m in meta if m))
    data = f"curated {e.dataset.curated.path}" + (f" top {e.dataset.curated.select_top}"
                                                   if e.dataset.curated.select_top else "")
    if e.dataset.synthetic:
        data += f" + synthetic {e.dataset.synthetic.path} at {fmt(e.dataset.synthetic.ratio)}"
    t = e.training
    lines += [f"model {e.model.name} ({e.model.quantization}) · {data}",
              f"training: {t.epochs} epochs, batch {t.batch_size}×{t.grad_accum}, lr {fmt(t.learning_rate)}, "
              f"LoRA r={t.lora_r} α={t.lora_alpha}, seq {t.max_seq_length}, seed {t.seed} · "
              f"{e.replicates} replicate(s)",
              f"eval: {e.eval.suite}, {e.eval.samples} sample(s), T={fmt(e.eval.temperature)}",
              f"lock: {judged.lock.status}" + (f" ({judged.lock.sha256[:12]})" if judged.lock.sha256 else "")
              + f" · runs: {judged.results.runs}"]
    out().print(Panel("\n".join(lines), title=f"{hyp.id} · {hyp.title}", title_align="left"))
    print_verdict(judged)
    print_attempts(judged)
    print_flags(judged)
    print_agreements(judged)
    _unfinished_scoring(lab, judged)
    for plan, options in (("If it fails", hyp.on_failure), ("If it succeeds", hyp.on_success)):
        for o in options:
            exp = f" expected {fmt(o.expected)}" if o.expected is not None else ""
            out().print(f"{plan}: option {o.option}: {o.title}{exp} · {fmt(o.effort)} · risk {fmt(o.risk)}")


DIFFERENCES_SHOWN = 12  # per pair and criterion; `--json` lists every one
SCORER_WORDS = {("hand", "judge"): "Hand vs automatic scores (the judge's); the hand scores count",
                ("hand", "rubric"): "Hand vs automatic scores (the rubric's); the hand scores count",
                ("hand", "automatic"): "Hand vs automatic scores; the hand scores count",
                ("judge", "rubric"): "Judge vs rubric scores; the judge's count"}


def print_agreements(judged) -> None:
    """Every pair of scorers that scored the same answers (hand, judge, rubric), pooled over the results
    that count: points, agreement, weighted κ with its interval and confusion matrix per criterion,
    then the answers they scored differently, each named uniquely, with its text shortened."""
    from rich.markup import escape
    from rich.table import Table

    from hyp.cli.console import fmt, out
    from hyp.hypotheses.agreement import TRUST_KAPPA, TRUST_MIN_ANSWERS
    from hyp.reports.evidence import untrusted

    found = judged.results.agreements
    pairs = list(dict.fromkeys((g.get("first"), g.get("second")) for g in found))
    for first, second in pairs:
        rows = [g for g in found if (g.get("first"), g.get("second")) == (first, second)]
        title = SCORER_WORDS.get((first, second), f"{first} vs {second} scores")
        table = Table(title=title, title_justify="left")
        for col in ("criterion", f"{first} points", f"{second} points", "agreement", "weighted κ", "κ 95% interval",
                    "answers", f"confusion (rows {first} 0-2, columns {second} 0-2)"):
            table.add_column(col)
        for g in rows:
            low, high = g.get("low"), g.get("high")
            table.add_row(g["criterion"], fmt(g.get("first_points")), fmt(g.get("second_points")),
                          f"{g['percent']:.0f}%", f"{g['kappa']:.2f}",
                          f"[{low:.2f}, {high:.2f}]" if low is not None and high is not None else "—",
                          str(g.get("n")), "  ".join("/".join(str(n) for n in row) for row in g.get("confusion", [])))
        out().print(table)
        for g in rows:
            differences = g.get("differences") or [{"answer": a} for a in g.get("disagreements", [])]
            if not differences:
                continue
            out().print(f"  {g['criterion']}: {first} and {second} differ on {len(differences)} of {g['n']} answer(s):")
            for d in differences[:DIFFERENCES_SHOWN]:
                scores = f" ({first} {d['first']}, {second} {d['second']})" if "first" in d else ""
                text = f": “{d['text']}”" if d.get("text") else ""
                out().print(f"    {escape(str(d['answer']))}{scores}{escape(text)}", highlight=False)
            if len(differences) > DIFFERENCES_SHOWN:
                out().print(f"    … and {len(differences) - DIFFERENCES_SHOWN} more (`hyp show "
                            f"{judged.hypothesis.id} --json` lists them all)")
    weak = untrusted(found)
    if weak:
        n = max(g["n"] for g in found if g["criterion"] in weak and g.get("checks_automatic", g.get("first") == "hand"))
        out().print(f"[bold red]The automatic scores are not trustworthy for this suite[/] on {', '.join(weak)}: "
                    f"on {n} hand-scored answers (at least {TRUST_MIN_ANSWERS} needed to say) their agreement with "
                    f"the person is below κ {TRUST_KAPPA}.")


def _unfinished_scoring(lab, judged) -> None:
    """A `hyp score` session left half done on one of this hypothesis's runs: say so, and how to go on."""
    from hyp.cli.console import out
    from hyp.errors import BadInput
    from hyp.files import parse_json
    from hyp.hypotheses.criteria import CRITERIA

    runs = {judged.results.result_run_id, *judged.results.child_run_ids, *(a.run_id for a in judged.results.attempts)}
    for path in sorted((lab.state_dir / "scoring").glob("*.json")):
        try:
            data = parse_json(path.read_text(), str(path))
            scored = sum(len(s) == len(CRITERIA) for s in data["scores"])
        except (OSError, ValueError, KeyError, TypeError, BadInput):
            continue
        if data.get("run_id") in runs and 0 < scored:
            out().print(f"[yellow]A hand-scoring session is half done[/]: {scored} of {len(data['scores'])} answers "
                        f"of run {data['run_id'][:8]} scored; `hyp score {judged.hypothesis.id}` goes on.")
