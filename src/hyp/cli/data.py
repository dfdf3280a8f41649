import click


@click.command("data")
@click.argument("hid")
@click.option("--all", "show_all", is_flag=True, help="List every curated conversation, not only the top and bottom.")
@click.pass_context
def command(ctx, hid, show_all):
    """The dataset mix a run would train on, with quality scores and lint findings."""
    from rich.table import Table

    from hyp.cli.console import fmt, lab_from, out
    from hyp.experiments.data import lint_counts
    from hyp.experiments.run import prepare, source_findings

    lab = lab_from(ctx)
    p = prepare(lab, hid)
    mix = p.mix
    console = out()
    synthetic = p.hypothesis.experiment.dataset.synthetic
    console.print(f"[bold]{hid}[/] mix: {len(mix.examples)} examples = {mix.curated_count} curated + "
                  f"{mix.synthetic_count} synthetic (ratio {fmt(mix.achieved_ratio)}, asked "
                  f"{fmt(synthetic.ratio if synthetic else 0.0)}); "
                  f"{mix.duplicates_removed} duplicates removed; digest {mix.digest[:16]}")
    # Narrow terminals drop the longest column rather than wrap every cell to one word a line.
    table = Table(title="Curated conversations by quality score", expand=False)
    wide = console.width >= 110
    for col in ("rank", "id", "score", "msgs", "chars", "persona", "questions", "agent", "kept",
                *(["first user turn"] if wide else [])):
        table.add_column(col, no_wrap=col != "first user turn")
    rows = sorted(mix.scores, key=lambda s: (s.rank is None, s.rank or 0))
    shown = rows if show_all or len(rows) <= 20 else rows[:10] + rows[-10:]
    for s in shown:
        c, q = s.conversation, s.quality
        first = next((m.content for m in c.messages if m.role == "user"), "")[:50]
        table.add_row(fmt(s.rank), c.id or str(c.index + 1), fmt(q.score), str(q.messages), str(q.assistant_chars),
                      str(q.persona_hits), str(q.questions), str(q.agent_hits),
                      "yes" if s.selected else ("dup" if s.duplicate_of is not None else "no"),
                      *([first] if wide else []))
    console.print(table)
    findings = source_findings(lab, p)
    counts = lint_counts(findings)
    console.print("Lint of both sources: " + ", ".join(f"{k.removeprefix('lint.')} {v}" for k, v in counts.items())
                  + " · in the mix: " + ", ".join(f"{k.removeprefix('lint.')} {v}" for k, v in p.lint_counts.items()))
    for f in findings[: 40 if not show_all else None]:
        console.print(f"  {f.source} #{f.index + 1}: {f.kind}: {f.detail}")  # counted from 1, as ids are
    if len(findings) > 40 and not show_all:
        console.print(f"  … {len(findings) - 40} more (--all)")
