"""Answers from a chat model to evaluation prompts: batched, left-padded, seeded, and honest about
answers that were cut at max_new_tokens."""

from __future__ import annotations

from dataclasses import dataclass

from hyp.chat import tokenize_chat_text


@dataclass(frozen=True)
class Generation:
    text: str
    truncated: bool  # hit max_new_tokens before the end-of-turn token
    new_tokens: int  # generated tokens, the end-of-turn token included


def generate_answers(
    model,
    tokenizer,
    prompts: list[str],
    *,
    max_new_tokens: int = 384,
    temperature: float = 0.7,
    top_p: float = 0.9,
    seed: int = 0,
    batch_size: int | None = None,
    system_prompt: str | None = None,
) -> list[Generation]:
    """One answer per prompt, in order. temperature 0 is greedy; otherwise the same seed (and
    batch_size) gives the same answers."""
    import torch

    if not prompts:
        return []
    size = batch_size or len(prompts)
    stop_ids = _stop_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop_ids[0]
    texts = [_render(tokenizer, prompt, system_prompt) for prompt in prompts]
    sampling = (
        dict(do_sample=True, temperature=temperature, top_p=top_p)
        if temperature > 0
        else dict(do_sample=False, temperature=None, top_p=None, top_k=None)
    )
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    answers: list[Generation] = []
    try:
        for chunk, start in enumerate(range(0, len(texts), size)):
            encoded = tokenize_chat_text(tokenizer, texts[start : start + size], padding=True,
                                         padding_side="left", return_tensors="pt").to(device)
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []), torch.no_grad():
                torch.manual_seed(seed + chunk)
                output = model.generate(
                    input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"],
                    max_new_tokens=max_new_tokens, eos_token_id=stop_ids, pad_token_id=pad_id, use_cache=True,
                    **sampling,
                )
            new = output[:, encoded["input_ids"].shape[1] :].tolist()
            answers += [_answer(tokenizer, row, stop_ids, max_new_tokens) for row in new]
    finally:
        model.train(was_training)
    return answers


def _render(tokenizer, prompt: str, system_prompt: str | None) -> str:
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": prompt})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def _stop_ids(model, tokenizer) -> list[int]:
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    ids = [i for i in [*ids, tokenizer.eos_token_id] if i is not None]
    return list(dict.fromkeys(ids))


def _answer(tokenizer, row: list[int], stop_ids: list[int], max_new_tokens: int) -> Generation:
    end = next((i for i, token in enumerate(row) if token in stop_ids), None)
    if end is None:
        kept, used, truncated = row, len(row), len(row) >= max_new_tokens
    else:
        kept, used, truncated = row[:end], end + 1, False
    # Special tokens stay in the text: a role marker the model writes is a template leak the
    # rubric must see, not something to hide.
    return Generation(text=tokenizer.decode(kept, skip_special_tokens=False).strip(),
                      truncated=truncated, new_tokens=used)
