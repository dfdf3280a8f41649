"""Each answer's perplexity under the base model (adapters off): how likely the untrained model finds
the answer as a reply to its question. Word salad and made-up words read as very unlikely."""

from __future__ import annotations

import math

from hyp.chat import IGNORE, encode_conversation

MAX_TOKENS = 1024


def answer_perplexities(model, tokenizer, prompts: list[str], answers: list[str]) -> list[float | None]:
    """exp(mean negative log-likelihood) of each answer's tokens given its prompt; None for an empty answer
    or one the model gives no finite loss for.

    A PEFT model is scored with its adapters disabled, so the number speaks of the text, not of what
    training taught; the model is already in memory, so this costs one forward pass per answer.
    """
    import contextlib

    import torch

    disabled = model.disable_adapter() if hasattr(model, "disable_adapter") else contextlib.nullcontext()
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out: list[float | None] = []
    try:
        with disabled, torch.no_grad():
            for prompt, answer in zip(prompts, answers, strict=True):
                if not answer.strip():
                    out.append(None)
                    continue
                ids, labels = encode_conversation(tokenizer, [{"role": "user", "content": prompt},
                                                              {"role": "assistant", "content": answer}], MAX_TOKENS)
                if sum(label != IGNORE for label in labels[1:]) == 0:
                    out.append(None)
                    continue
                input_ids = torch.tensor([ids], device=device)
                target = torch.tensor([labels], device=device)
                loss = model(input_ids=input_ids, labels=target).loss.item()
                # Capped: exp of a diverged loss is no number to log; a NaN (an fp16 overflow) is none at all.
                out.append(math.exp(min(loss, 50.0)) if math.isfinite(loss) or loss > 0 else None)
    finally:
        model.train(was_training)
    return out
