"""QLoRA on a CUDA GPU at TinyLlama-1.1B's shape (issue 7): measured peak VRAM against `hyp estimate`.

    python benchmarks/qlora_gpu.py [--out DIR] [--smoke]

Run it on the GPU machine (it needs bitsandbytes there: carry its wheel). It builds a model directory
with TinyLlama-1.1B's exact config and random weights (memory and speed depend on the shape, not on
the values; nothing is downloaded), then:

1. calibration: one short training per configuration (batch size × sequence length × LoRA rank,
   QLoRA and plain LoRA), every example filling max_seq_length so the peak is the one the estimate
   describes; each measured peak (torch.cuda.max_memory_allocated / max_memory_reserved) next to
   the estimate, written to DIR/vram_calibration.json (copy it to benchmarks/ with the date);
2. the user's run: 148 examples × 5 epochs, batch 2, sequence 512, r 16 through `hyp run`, with
   peak VRAM, wall time and tokens/s (their RTX 3050: 2.05 GB, about 9 minutes);
3. a 4 GB card: `hyp sweep` with HYP_CUDA_MEMORY_GB=4 over a space where some configurations do
   not fit; every such trial must be infeasible (by estimate or by a caught OOM), none FAILED.

`--smoke` runs the same code on the CPU at builtin:tiny's shape with quantization none and no
cap, to check the script itself where there is no GPU (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TINYLLAMA = dict(hidden=2048, layers=22, heads=32, kv_heads=4, intermediate=5632, vocab=32000)
SMOKE = dict(hidden=128, layers=2, heads=4, kv_heads=4, intermediate=512, vocab=2048)
# (quantization, batch_size, max_seq_length, lora_r)
CONFIGS = [("4bit", 1, 256, 8), ("4bit", 2, 512, 16), ("4bit", 4, 512, 16), ("4bit", 2, 1024, 16),
           ("4bit", 8, 256, 32), ("4bit", 2, 512, 64), ("none", 2, 512, 16), ("none", 1, 1024, 16)]

HYPOTHESIS = """id: H100
title: QLoRA at TinyLlama's shape on the user's configuration
statement: The user's run fits in 2.05 GB.
experiment:
  model: {{name: "{model}", quantization: {quantization}}}
  dataset:
    curated: {{path: data/curated.json, select_top: 148}}
  training: {{epochs: 5, batch_size: 2, grad_accum: 4, learning_rate: 2.0e-4, lora_r: 16, lora_alpha: 32,
             max_seq_length: 512, seed: 0}}
  eval: {{suite: evals/personality.yaml, max_new_tokens: 64, temperature: 0.0}}
success_criteria:
  primary: {{metric: peak_vram_gb, op: "<=", value: 2.05}}
sweep:
  trials: 8
  objective: {{metric: score, direction: maximize}}
  space:
    experiment.training.batch_size: {{type: int, low: 1, high: 32, log: true}}
    experiment.training.max_seq_length: {{type: int, low: 256, high: 2048, log: true}}
  pruner: none
"""


def filled_conversations(n: int, tokens: int) -> list[list[dict]]:
    """Conversations long enough to be cut at `tokens`, so every batch is max_seq_length wide."""
    words = " ".join(f"w{i % 97}" for i in range(tokens))
    return [[{"role": "user", "content": f"Tell me {k}."}, {"role": "assistant", "content": words}]
            for k in range(n)]


def calibrate(model_dir: Path, cache: Path, configs, smoke: bool) -> list[dict]:
    import torch

    from hyp.experiments.recipes.lora import TrainingConfig, train
    from hyp.vram import estimate_vram, model_shape

    shape = model_shape(str(model_dir), cache)
    rows = []
    for quantization, batch, seq, r in configs:
        if smoke:
            quantization = "none"
        plan = TrainingConfig(epochs=1, batch_size=batch, grad_accum=1, learning_rate=1e-4, lora_r=r,
                              lora_alpha=2 * r, max_seq_length=seq, quantization=quantization)
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            result = train(str(model_dir), plan, filled_conversations(3 * batch, seq), Path(out), cache,
                           progress=False)
            seconds = time.perf_counter() - started
        predicted = estimate_vram(shape, quantization=quantization, batch_size=batch, max_seq_length=seq, lora_r=r)
        row = {"quantization": quantization, "batch_size": batch, "max_seq_length": seq, "lora_r": r,
               "estimate_gb": round(predicted.vram_gb, 3), "peak_allocated_gb": result.peak_vram_gb,
               "peak_reserved_gb": result.peak_vram_reserved_gb, "seconds": round(seconds, 2),
               "tokens_per_second": round(result.train_tokens_per_second, 1)}
        if result.peak_vram_reserved_gb:
            row["error"] = round(predicted.vram_gb / result.peak_vram_reserved_gb - 1, 3)
        rows.append(row)
        print(json.dumps(row), flush=True)
        del result
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return rows


def hyp(lab: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "HYP_NO_PROGRESS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "hyp", *args], cwd=lab, env=full, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")))
    parser.add_argument("--smoke", action="store_true", help="check the script on the CPU at a tiny shape")
    args = parser.parse_args()
    import torch

    from hyp.builtin_tiny.build import write_random_llama
    from hyp.hypotheses.scaffold import init_lab

    if not args.smoke and not torch.cuda.is_available():
        sys.exit("no CUDA GPU here: run this on the GPU machine, or pass --smoke to check the script")
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="hyp-qlora-"))
    shape = SMOKE if args.smoke else TINYLLAMA
    model_dir = write_random_llama(work / "tinyllama-shape", **shape, dtype="float32" if args.smoke else "bfloat16")
    configs = CONFIGS[:2] if args.smoke else CONFIGS
    rows = calibrate(model_dir, work / "cache", configs, args.smoke)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu (smoke)"
    calibration = {"device": device, "torch": torch.__version__, "shape": shape, "date": time.strftime("%Y-%m-%d"),
                   "how": "benchmarks/qlora_gpu.py: one epoch of 3 batches filled to max_seq_length per row",
                   "rows": rows}
    (args.out / "vram_calibration.json").write_text(json.dumps(calibration, indent=1))

    lab = init_lab(work / "lab", example="persona")
    quantization = "none" if args.smoke else "4bit"
    (lab / "hypotheses" / "H100.yaml").write_text(HYPOTHESIS.format(model=model_dir, quantization=quantization))
    started = time.perf_counter()
    run = hyp(lab, "run", "H100", *(["--set", "training.epochs=1"] if args.smoke else []))
    wall = time.perf_counter() - started
    verdict = json.loads(hyp(lab, "verdict", "H100", "--json").stdout or "{}")
    summary = {"user_run": {"returncode": run.returncode, "wall_s": round(wall, 1),
                            "stderr_tail": run.stderr[-2000:], "observations": verdict.get("observations")}}
    sweep = hyp(lab, "sweep", "H100", "--trials", "2" if args.smoke else "8", "--vram-limit", "4",
                env=None if args.smoke else {"HYP_CUDA_MEMORY_GB": "4"})
    summary["capped_sweep"] = {"returncode": sweep.returncode, "stdout_tail": sweep.stdout[-4000:],
                               "stderr_tail": sweep.stderr[-2000:]}
    (args.out / "qlora_summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(json.dumps(summary, indent=1, default=str))


if __name__ == "__main__":
    main()
