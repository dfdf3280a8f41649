import click


@click.command("show")
@click.argument("hid")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of panels.")
@click.pass_context
def command(ctx, hid, as_json):
    """One hypothesis in full, with its verdict."""
    from hyp.cli.console import fmt, lab_from, out, print_json
    from hyp.cli.render import print_agreement, print_attempts, print_flags, print_verdict, verdict_json
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
    print_agreement(judged)
    _unfinished_scoring(lab, judged)
    for plan, options in (("If it fails", hyp.on_failure), ("If it succeeds", hyp.on_success)):
        for o in options:
            exp = f" expected {fmt(o.expected)}" if o.expected is not None else ""
            out().print(f"{plan}: option {o.option}: {o.title}{exp} · {fmt(o.effort)} · risk {fmt(o.risk)}")


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
