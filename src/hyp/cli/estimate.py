import click


@click.command("estimate")
@click.argument("hid")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def command(ctx, hid, as_json):
    """Predicted peak VRAM for training HID on a CUDA GPU, from the model's config alone."""
    from hyp.cli.console import lab_from, out, print_json
    from hyp.vram import REFERENCE_GPU, REFERENCE_GPU_TFLOPS, estimate_hypothesis

    lab = lab_from(ctx)
    hyp = lab.load(hid)
    estimate = estimate_hypothesis(hyp, lab.root, lab.state_dir)
    limit = lab.settings.vram_limit_gb
    if as_json:
        print_json({**estimate.to_json(), "vram_limit_gb": limit, "fits": estimate.vram_gb <= limit})
        return
    from rich.table import Table

    t = hyp.experiment.training
    table = Table(title=f"{hid}: {hyp.experiment.model.name}, quantization {estimate.quantization}, batch "
                        f"{t.batch_size} × {t.max_seq_length} tokens, LoRA r {t.lora_r}", title_justify="left")
    table.add_column("part")
    table.add_column("GB", justify="right")
    rows = [("weights", estimate.weights_gb), ("LoRA adapter", estimate.adapter_gb),
            ("its gradients", estimate.gradients_gb), ("optimizer state", estimate.optimizer_gb),
            ("activations" + (" (gradient checkpointing)" if estimate.gradient_checkpointing else ""),
             estimate.activations_gb),
            ("CUDA context and allocator", estimate.overhead_gb)]
    for name, gb in rows:
        table.add_row(name, f"{gb:.3f}")
    table.add_row("[bold]peak[/]", f"[bold]{estimate.vram_gb:.2f}[/]")
    console = out()
    console.print(table)
    verdict = "fits" if estimate.vram_gb <= limit else "[red]does not fit[/]"
    console.print(f"{estimate.params:,} parameters, {estimate.trainable_params:,} trainable; {verdict} the "
                  f"{limit:g} GB limit of hyp.toml.")
    if estimate.time_s is not None:
        console.print(f"Training: {_duration(estimate.time_s)} on {REFERENCE_GPU} ({t.epochs} epochs; a rough "
                      f"figure from FLOPs at {REFERENCE_GPU_TFLOPS:g} TFLOP/s, not yet measured).")
    measured = _measured_seconds(lab, hid)
    if measured is not None:
        console.print(f"On this machine: {_duration(measured)} per replicate, measured by its last `hyp run`.")
    else:
        console.print("On this machine: not measured yet; a first `hyp run` logs `train_seconds`, which this "
                      "command then shows (on a CPU, small models spend their time in overheads FLOPs do not see).")


def _measured_seconds(lab, hid: str) -> float | None:
    """Training time per replicate as the runs of this hypothesis logged it, from the status index."""
    from hyp.results.index import load_results

    results = load_results(lab).get(hid)
    times = [u["train_seconds"] for u in (results.evidence if results else []) if "train_seconds" in u]
    return sum(times) / len(times) if times else None


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"about {max(1, round(seconds))} s"
    if seconds < 3600:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"
