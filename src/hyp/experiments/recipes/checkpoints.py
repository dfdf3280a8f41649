"""The LoRA recipe's epoch checkpoints (adapter, optimizer, schedule step, RNG) that resume to the same
result as an unbroken run, and the final adapter; each written beside its place and renamed into it."""

from __future__ import annotations

import os
import random
import shutil
from dataclasses import asdict
from pathlib import Path

from hyp.errors import BadInput
from hyp.files import give_new_file_modes

# The config values a checkpoint must agree on to be resumed; `epochs` may grow.
RESUMABLE_FIELDS = ("batch_size", "grad_accum", "learning_rate", "lora_r", "lora_alpha", "max_seq_length",
                    "seed", "lora_dropout", "quantization")


def save_checkpoint(checkpoints: Path, epoch, model, optimizer, config, digest, step, total_steps,
                    loss_history, epoch_losses) -> None:
    """output_dir/checkpoints/epoch-N, complete or absent: written beside it, then renamed."""
    import torch

    checkpoints.mkdir(parents=True, exist_ok=True)
    staging = checkpoints / f".epoch-{epoch}.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    give_new_file_modes(staging)  # safetensors writes the adapter 0600 whatever the umask
    torch.save(
        {
            "epoch": epoch,
            "step": step,
            "scheduler": {"step": step, "total_steps": total_steps},  # learning_rate_at is pure
            "optimizer": optimizer.state_dict(),
            "rng": {
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "python": random.getstate(),
            },
            "plan": asdict(config),  # the key checkpoints written before TrainingConfig's rename use
            "digest": digest,
            "loss_history": loss_history,
            "epoch_losses": epoch_losses,
        },
        staging / "training_state.pt",
    )
    final = checkpoints / f"epoch-{epoch}"
    shutil.rmtree(final, ignore_errors=True)
    os.rename(staging, final)
    for older in checkpoints.glob("epoch-*"):  # only the newest is needed to resume
        if older != final:
            shutil.rmtree(older, ignore_errors=True)


def last_checkpoint(checkpoints: Path) -> Path | None:
    complete = [p for p in checkpoints.glob("epoch-*") if (p / "training_state.pt").is_file()]
    return max(complete, key=lambda p: int(p.name.split("-")[1]), default=None)


def load_checkpoint(path: Path, model, optimizer, config, digest):
    """Restore the adapter, optimizer and RNG from `path`; (epochs done, step, loss history, epoch losses)."""
    import torch
    from peft import set_peft_model_state_dict
    from peft.utils import load_peft_weights

    state = torch.load(path / "training_state.pt", weights_only=False)
    saved = state["plan"]
    changed = [f"{key} {saved.get(key)!r} → {getattr(config, key)!r}" for key in RESUMABLE_FIELDS
               if saved.get(key) != getattr(config, key)]
    if changed:
        raise BadInput(f"resume: {path} was trained with another plan ({'; '.join(changed)}); "
                       "run without resume to start over")
    if state["digest"] != digest:
        raise BadInput(f"resume: {path} was trained on another model or dataset; run without resume")
    device = next(model.parameters()).device
    set_peft_model_state_dict(model, load_peft_weights(str(path), device=str(device)))
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"]["torch"])
    if state["rng"]["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    random.setstate(state["rng"]["python"])
    return state["epoch"], state["step"], list(state["loss_history"]), list(state["epoch_losses"])


def save_adapter(model, adapter_dir: Path) -> Path:
    staging = adapter_dir.with_name(f".{adapter_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    # safetensors writes the adapter 0600 whatever the umask; MLflow's copy in .hyp/artifacts keeps that mode.
    give_new_file_modes(staging)
    shutil.rmtree(adapter_dir, ignore_errors=True)
    os.rename(staging, adapter_dir)
    return adapter_dir
