"""Chat encoding: which tokens a conversation's loss supervises, and where max_seq_length cuts it."""

import pytest

from hyp.chat import IGNORE, encode_conversation
from hyp.experiments.models import BUILTIN_TINY, load_model_and_tokenizer

WHO_IS_JOAO = [{"role": "user", "content": "Who is João?"},
               {"role": "assistant", "content": "João is the founder and CEO of Softtor."}]


@pytest.fixture(scope="session")
def tokenizer(builtin_cache):
    return load_model_and_tokenizer(BUILTIN_TINY, builtin_cache)[1]


def _supervised_text(tokenizer, ids, labels) -> str:
    return tokenizer.decode([t for t, label in zip(ids, labels, strict=True) if label != IGNORE])


@pytest.mark.slow
def test_only_the_assistant_turns_and_their_end_token_are_supervised(tokenizer):
    conversation = [
        {"role": "system", "content": "You are Cláudio."},
        {"role": "user", "content": "Who is João?"},
        {"role": "assistant", "content": "The founder of Softtor."},
        {"role": "user", "content": "And you?"},
        {"role": "assistant", "content": "A developer there."},
    ]
    ids, labels = encode_conversation(tokenizer, conversation, max_seq_length=512)
    assert tokenizer.decode(ids) == tokenizer.apply_chat_template(conversation, tokenize=False)
    assert _supervised_text(tokenizer, ids, labels) == "The founder of Softtor.</s>A developer there.</s>"
    assert sum(label == tokenizer.eos_token_id for label in labels) == 2  # the model learns to stop
    supervised = {label for label in labels if label != IGNORE}
    assert not supervised & {tokenizer.convert_tokens_to_ids(m) for m in ("<|user|>", "<|assistant|>", "<|system|>")}


@pytest.mark.slow
def test_max_seq_length_cuts_the_conversation(tokenizer):
    ids, labels = encode_conversation(tokenizer, WHO_IS_JOAO, max_seq_length=12)
    assert len(ids) == len(labels) == 12
