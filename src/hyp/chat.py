"""How a conversation becomes tokens: rendered through the model's chat template, BOS exactly once,
and labels only on what the assistant says. Training, generation and the builtin model's build share it."""

from __future__ import annotations

from hyp.errors import BadInput

IGNORE = -100  # label of a token the loss skips


def tokenize_chat_text(tokenizer, text: str | list[str], **kwargs):
    """Tokenize rendered chat text with BOS exactly once, whether the template wrote it or not.

    Training and generation both go through here so a prompt is the same tokens in both.
    """
    first = text if isinstance(text, str) else (text[0] if text else "")
    bos = tokenizer.bos_token
    add_special_tokens = not (bos and first.startswith(bos))
    return tokenizer(text, add_special_tokens=add_special_tokens, **kwargs)


def encode_conversation(tokenizer, conversation: list[dict], max_seq_length: int) -> tuple[list[int], list[int]]:
    """(input_ids, labels) for one conversation rendered exactly as at inference.

    Labels are IGNORE on every token but an assistant turn's content and the end-of-turn token
    after it, so the model learns what to answer and when to stop, never to write the user's part.
    """
    text = tokenizer.apply_chat_template(conversation, tokenize=False)
    eos = tokenizer.eos_token or ""
    spans = []
    for i, message in enumerate(conversation):
        if message["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(conversation[:i], tokenize=False, add_generation_prompt=True)
        through = tokenizer.apply_chat_template(conversation[: i + 1], tokenize=False)
        if not (through.startswith(prompt) and text.startswith(through)):
            raise BadInput("model: its chat template does not render a conversation turn by turn; "
                           "hyp cannot tell the assistant's tokens apart")
        answer = through[len(prompt) :]
        end = answer.find(eos, len(message["content"])) if eos else -1
        end = end + len(eos) if end >= 0 else len(answer.rstrip())
        spans.append((len(prompt), len(prompt) + end))
    encoded = tokenize_chat_text(tokenizer, text, return_offsets_mapping=True)
    ids = encoded["input_ids"][:max_seq_length]
    labels = [
        token if end > start and any(start < stop and end > begin for begin, stop in spans) else IGNORE
        for token, (start, end) in zip(ids, encoded["offset_mapping"], strict=False)
    ]
    return ids, labels
