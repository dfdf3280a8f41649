"""The LoRA recipe's builder: turns a TrainingConfig into the peft and bitsandbytes objects it trains
with (the adapter-wrapped model, the optimizer), the compute precision, and the CUDA memory cap."""

from __future__ import annotations

import contextlib
import os
import random
import warnings

from hyp.errors import BadInput

CUDA_MEMORY_ENV = "HYP_CUDA_MEMORY_GB"


def with_lora(model, config):
    """`model` with LoRA on every linear layer but the output head; under 4bit, prepared for k-bit
    training first (gradient checkpointing on). Seeds the adapter's initial weights from config.seed."""
    import torch

    from hyp.experiments.models import quiet_bitsandbytes

    quiet_bitsandbytes()
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if config.quantization == "4bit":
        with warnings.catch_warnings():
            # peft still calls a transformers method deprecated for v6; nothing for a user to act on.
            warnings.filterwarnings("ignore", category=FutureWarning)
            # Non-reentrant checkpointing, transformers' own default: torch warns when it is left unsaid.
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True,
                                                    gradient_checkpointing_kwargs={"use_reentrant": False})
        keep_4bit_layers_trainable(model)
    model.config.use_cache = False
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        bias="none",
        task_type="CAUSAL_LM",
    )
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        # peft still calls a transformers method deprecated for v6; nothing for a user to act on.
        warnings.filterwarnings("ignore", category=FutureWarning)
        torch.manual_seed(config.seed)  # the adapter's initial weights are part of the replicate
        model = get_peft_model(model, lora)
    torch.manual_seed(config.seed)  # dropout masks
    random.seed(config.seed)
    return model


def keep_4bit_layers_trainable(model) -> None:
    """Keep every NF4 layer in the layout backward can go through.

    On a CPU with AVX512-BF16, bitsandbytes (0.50) repacks a Linear4bit's weight into an
    inference-only layout at its first forward in eval mode under no-grad, which is what the held-out
    evaluation between epochs is. Backward through a repacked layer passes no (or a vanishing) gradient
    to its input, with no error. Saving a checkpoint unpacks the layers again, but only approximately
    (the block scales come back rounded to bf16), so without this an unbroken run drifts from a resumed
    one (tests/experiments/test_qlora.py).
    """
    import bitsandbytes

    for module in model.modules():
        if isinstance(module, bitsandbytes.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False


def optimizer_for(model, config):
    """AdamW over the trainable (LoRA) parameters; under QLoRA bitsandbytes' 8-bit AdamW, paged on CUDA
    (its pages move to host memory when the GPU runs short; a CPU has nothing to page to)."""
    import torch

    parameters = [p for p in model.parameters() if p.requires_grad]
    if config.quantization == "4bit":
        import bitsandbytes

        on_cuda = any(p.device.type == "cuda" for p in parameters)
        adamw = bitsandbytes.optim.PagedAdamW8bit if on_cuda else bitsandbytes.optim.AdamW8bit
        return adamw(parameters, lr=config.learning_rate, weight_decay=0.0)
    return torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=0.0)


def compute_precision(torch, device):
    """bf16 autocast on CUDA, as the Trainer's `bf16=True` does: the LoRA weights (and, under QLoRA,
    the norms peft keeps in float32) stay float32 for the optimizer while the matmuls run in bf16.
    The CPU trains in float32 throughout: bf16 there is slower and less exact."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def cap_cuda_memory(torch, device) -> float | None:
    """Cap this process's share of the GPU at $HYP_CUDA_MEMORY_GB, to reproduce a smaller card (the
    user's 4 GB RTX 3050) on a large one: past the cap PyTorch raises OutOfMemoryError as that card
    would. Returns the cap in GB, or None when the variable is unset."""
    value = os.environ.get(CUDA_MEMORY_ENV)
    if not value:
        return None
    try:
        cap = float(value)
    except ValueError:
        raise BadInput(f"{CUDA_MEMORY_ENV}: {value!r} is not a number of GB") from None
    total = torch.cuda.get_device_properties(device).total_memory / 2**30
    if not 0 < cap <= total:
        raise BadInput(f"{CUDA_MEMORY_ENV}: {cap} GB, expected more than 0 and at most this GPU's {total:.1f} GB")
    torch.cuda.set_per_process_memory_fraction(cap / total, device)
    return cap
