"""LoRA fine-tuning of a chat model on conversations: LoRA in float32 on the CPU, bf16 on CUDA, and QLoRA
(4bit NF4, 8-bit AdamW, gradient checkpointing) on either. Read top to bottom: config, setup, train, cleanup.

Why a plain PyTorch loop (nanoGPT style) and not transformers.Trainer: on the 2-core dev machine
`from transformers import Trainer` costs ~0.5 s more than the model and peft imports it needs anyway
(3.6 s vs 3.1 s), and the loop is the part we must control exactly: labels only on assistant turns,
loss normalised over the whole accumulated batch, an exact epoch checkpoint (adapter, optimizer,
schedule step, RNG) that resumes to the same result, and callbacks that may raise to prune a trial.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import resource
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hyp.chat import IGNORE, encode_conversation
from hyp.errors import BadInput
from hyp.experiments.models import QUANTIZATIONS, load_model_and_tokenizer, require_bitsandbytes
from hyp.experiments.recipes.checkpoints import last_checkpoint, load_checkpoint, save_adapter, save_checkpoint
from hyp.experiments.recipes.lora_builder import cap_cuda_memory, compute_precision, optimizer_for, with_lora
from hyp.hypotheses.schema import Training

ROLES = ("system", "user", "assistant")
# A hypothesis's `training` block owns every default and range; TrainingConfig takes them from there.
_SCHEMA = Training.model_fields


@dataclass(frozen=True)
class TrainingConfig:
    """What one LoRA run trains with: the hypothesis's `training` values, the replicate's seed and
    the model's quantization."""

    epochs: int = _SCHEMA["epochs"].default
    batch_size: int = _SCHEMA["batch_size"].default
    grad_accum: int = _SCHEMA["grad_accum"].default
    learning_rate: float = _SCHEMA["learning_rate"].default
    lora_r: int = _SCHEMA["lora_r"].default
    lora_alpha: int = _SCHEMA["lora_alpha"].default
    max_seq_length: int = _SCHEMA["max_seq_length"].default
    seed: int = _SCHEMA["seed"].default
    lora_dropout: float = 0.05
    quantization: str = "none"

    def __post_init__(self):
        try:
            Training(**{name: getattr(self, name) for name in _SCHEMA})
        except ValidationError as error:
            problem = error.errors()[0]
            raise BadInput(f"training.{problem['loc'][0]}: {problem['msg']}, got {problem['input']!r}") from None
        if self.quantization not in QUANTIZATIONS:
            raise BadInput(f"model.quantization: {self.quantization!r} is not one of {', '.join(QUANTIZATIONS)}")


@dataclass
class TrainResult:
    adapter_dir: Path
    final_train_loss: float
    train_seconds: float
    train_tokens_per_second: float
    peak_rss_gb: float
    peak_vram_gb: float | None
    peak_vram_reserved_gb: float | None
    steps: int
    model: Any = field(repr=False)
    tokenizer: Any = field(repr=False)
    loss_history: list[tuple[int, float]] = field(default_factory=list, repr=False)
    eval_loss: float | None = None


StepCallback = Callable[[int, dict], None]


def train(
    model_name: str,
    config: TrainingConfig,
    conversations: list[list[dict]],
    output_dir: Path,
    cache_dir: Path,
    *,
    eval_conversations: list[list[dict]] | None = None,
    on_step: StepCallback | None = None,
    on_epoch: StepCallback | None = None,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Fine-tune `model_name` with LoRA on `conversations`; the adapter lands in output_dir/adapter."""
    require_bitsandbytes(config.quantization)  # before any work, as promised to the user
    _check_conversations(conversations, "dataset")
    if eval_conversations:
        _check_conversations(eval_conversations, "eval dataset")
    output_dir = Path(output_dir)

    # --- setup ---------------------------------------------------------------------------------
    import torch

    _use_the_cpus_we_have(torch)
    model, tokenizer = load_model_and_tokenizer(model_name, cache_dir, config.quantization)
    examples = _encode_all(tokenizer, conversations, config.max_seq_length)
    if not examples:
        raise BadInput("dataset: no conversation has an assistant turn within max_seq_length to learn from")
    eval_examples = _encode_all(tokenizer, eval_conversations or [], config.max_seq_length)
    device = next(model.parameters()).device
    model = with_lora(model, config)
    optimizer = optimizer_for(model, config)

    per_step = config.batch_size * config.grad_accum
    steps_per_epoch = math.ceil(len(examples) / per_step)
    total_steps = steps_per_epoch * config.epochs
    digest = _digest(model_name, conversations)
    checkpoints = output_dir / "checkpoints"
    done_epochs, step, loss_history, epoch_losses = 0, 0, [], []
    if resume and (last := last_checkpoint(checkpoints)) is not None:
        done_epochs, step, loss_history, epoch_losses = load_checkpoint(last, model, optimizer, config, digest)
    elif not resume:
        shutil.rmtree(checkpoints, ignore_errors=True)
    if device.type == "cuda":
        cap_cuda_memory(torch, device)
        torch.cuda.reset_peak_memory_stats(device)

    # --- train ---------------------------------------------------------------------------------
    tokens_seen, eval_loss = 0, None
    started = time.perf_counter()
    with _progress_bar(progress, total_steps, step) as advance:
        for epoch in range(done_epochs + 1, config.epochs + 1):
            model.train()
            order = _epoch_order(len(examples), config.seed, epoch)
            loss_sum, supervised = 0.0, 0
            for start in range(0, len(order), per_step):
                batch = [examples[i] for i in order[start : start + per_step]]
                lr = learning_rate_at(step, total_steps, config.learning_rate)
                batch_loss, batch_supervised, batch_tokens = _optimizer_step(
                    torch, model, optimizer, batch, config, lr, device, tokenizer.pad_token_id
                )
                step += 1
                loss_sum += batch_loss * batch_supervised
                supervised += batch_supervised
                tokens_seen += batch_tokens
                loss_history.append((step, batch_loss))
                advance(batch_loss)
                if on_step is not None:
                    on_step(step, {"train_loss": batch_loss, "learning_rate": lr})
            epoch_losses.append(loss_sum / supervised)
            metrics: dict = {"epoch": epoch, "epoch_train_loss": epoch_losses[-1]}
            if eval_examples:
                eval_loss = _eval_loss(torch, model, eval_examples, device, tokenizer.pad_token_id)
                metrics["eval_loss"] = eval_loss
            save_checkpoint(checkpoints, epoch, model, optimizer, config, digest, step, total_steps,
                             loss_history, epoch_losses)
            if on_epoch is not None:
                on_epoch(epoch, metrics)
    train_seconds = time.perf_counter() - started

    # --- cleanup -------------------------------------------------------------------------------
    adapter_dir = save_adapter(model, output_dir / "adapter")
    model.eval()
    model.config.use_cache = True  # off for training; generation wants its KV cache back
    peak_vram = peak_reserved = None
    if device.type == "cuda":
        peak_vram = torch.cuda.max_memory_allocated(device) / 2**30
        peak_reserved = torch.cuda.max_memory_reserved(device) / 2**30
    return TrainResult(
        adapter_dir=adapter_dir,
        final_train_loss=epoch_losses[-1],
        train_seconds=train_seconds,
        train_tokens_per_second=tokens_seen / train_seconds if train_seconds > 0 else 0.0,
        peak_rss_gb=_peak_rss_gb(),
        peak_vram_gb=peak_vram,
        peak_vram_reserved_gb=peak_reserved,
        steps=step,
        model=model,
        tokenizer=tokenizer,
        loss_history=loss_history,
        eval_loss=eval_loss,
    )


def learning_rate_at(step: int, total_steps: int, peak: float) -> float:
    """Linear warmup over the first 3% of steps, then cosine decay to a tenth of the peak."""
    warmup = max(1, round(0.03 * total_steps))
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


# ---------------------------------------------------------------------------------------------------
# setup


def _check_conversations(conversations, what: str) -> None:
    if not conversations:
        raise BadInput(f"{what}: no conversations to train on")
    for n, conversation in enumerate(conversations):
        for message in conversation:
            if not isinstance(message, dict) or message.get("role") not in ROLES \
                    or not isinstance(message.get("content"), str):
                raise BadInput(f"{what}: conversation {n}: each message needs a role "
                               f"({', '.join(ROLES)}) and a text content, got {message!r}")


def _use_the_cpus_we_have(torch) -> None:
    # torch counts the host's cores; in a container or under taskset fewer may be ours, and
    # oversubscribed threads make small matrix products several times slower.
    if hasattr(os, "sched_getaffinity"):
        torch.set_num_threads(max(1, min(torch.get_num_threads(), len(os.sched_getaffinity(0)))))


def _encode_all(tokenizer, conversations, max_seq_length):
    encoded = (encode_conversation(tokenizer, c, max_seq_length) for c in conversations)
    return [(ids, labels) for ids, labels in encoded if any(label != IGNORE for label in labels)]


def _digest(model_name: str, conversations) -> str:
    payload = json.dumps([model_name, conversations], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------
# train


def _epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    # A function of (seed, epoch) alone, so a resumed run sees the same batches as an unbroken one.
    order = list(range(n))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    return order


def _collate(torch, batch, pad_id: int, device):
    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(labs)] = torch.tensor(labs)
        attention[row, : len(ids)] = 1
    return input_ids.to(device), labels.to(device), attention.to(device)


def _summed_loss(torch, model, input_ids, labels, attention):
    logits = model(input_ids=input_ids, attention_mask=attention).logits[:, :-1]
    targets = labels[:, 1:]
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=IGNORE, reduction="sum"
    )


def _optimizer_step(torch, model, optimizer, batch, config, lr, device, pad_id):
    """One optimizer step over up to batch_size × grad_accum examples; (mean loss, supervised, tokens).

    The loss is summed over every supervised token of the whole step and divided once by their
    count, so each token weighs the same whatever micro-batch it fell in.
    """
    supervised = sum(sum(label != IGNORE for label in labels[1:]) for _, labels in batch)
    tokens = sum(len(ids) for ids, _ in batch)
    # On the CPU the accumulated micro-batches run as one: the gradient is the same sum, and one
    # larger product is faster than four small ones. On CUDA micro-batches bound the memory.
    micro = len(batch) if device.type == "cpu" else config.batch_size
    total = 0.0
    for start in range(0, len(batch), micro):
        input_ids, labels, attention = _collate(torch, batch[start : start + micro], pad_id, device)
        with compute_precision(torch, device):
            loss = _summed_loss(torch, model, input_ids, labels, attention) / supervised
        loss.backward()
        total += loss.item()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total, supervised, tokens


def _eval_loss(torch, model, examples, device, pad_id, batch_size: int = 8) -> float:
    model.eval()
    loss_sum, count = 0.0, 0
    with torch.no_grad(), compute_precision(torch, device):
        for start in range(0, len(examples), batch_size):
            input_ids, labels, attention = _collate(torch, examples[start : start + batch_size], pad_id, device)
            loss_sum += _summed_loss(torch, model, input_ids, labels, attention).item()
            count += int((labels[:, 1:] != IGNORE).sum())
    model.train()
    return loss_sum / count


class _progress_bar:
    """A rich bar over optimizer steps on stderr, or nothing when progress is off."""

    def __init__(self, enabled: bool, total: int, completed: int):
        self.enabled, self.total, self.completed = enabled, total, completed

    def __enter__(self):
        if not self.enabled:
            return lambda loss: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
            TimeRemainingColumn(), console=Console(stderr=True), transient=False,
        )
        self.progress.__enter__()
        task = self.progress.add_task("train", total=self.total, completed=self.completed, loss="-")
        return lambda loss: self.progress.update(task, advance=1, loss=f"{loss:.3f}")

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.__exit__(*exc)
        return False


# ---------------------------------------------------------------------------------------------------
# cleanup


def _peak_rss_gb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20  # bytes on macOS, KiB elsewhere
