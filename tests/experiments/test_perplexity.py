"""Perplexity under the base model (SPEC §4, issue 14): with the real builtin:tiny, fluent text reads as
likelier than the same words shuffled or made-up words, a LoRA-wrapped model is scored with its adapters
off, the numbers are finite, and an empty answer has none."""

from __future__ import annotations

import math
import random

import pytest

from hyp.experiments.models import BUILTIN_TINY, load_model_and_tokenizer
from hyp.experiments.perplexity import answer_perplexities

PROMPT = "What do you do on weekends?"
FLUENT = "I like to fix a bug in the morning and then I read a book with my friend."
GIBBERISH = "Zorblat quenzil vrumble snarbic trobalix wimbrelt gribnak plovish zentrak."


def shuffled(text: str) -> str:
    words = text.rstrip(".").split()
    rng = random.Random(0)
    while True:
        out = words[:]
        rng.shuffle(out)
        if out != words:
            return " ".join(out) + "."


@pytest.fixture(scope="module")
def base(builtin_cache):
    return load_model_and_tokenizer(BUILTIN_TINY, builtin_cache)


def test_fluent_text_is_likelier_than_shuffled_words_or_made_up_words(base):
    model, tokenizer = base
    fluent, mixed, made_up = answer_perplexities(model, tokenizer, [PROMPT] * 3,
                                                 [FLUENT, shuffled(FLUENT), GIBBERISH])
    assert all(math.isfinite(p) and p >= 1.0 for p in (fluent, mixed, made_up))
    assert fluent < mixed < made_up
    assert 2 * fluent < mixed  # not a near tie


def test_an_empty_answer_has_no_perplexity_and_leaves_the_others_alone(base):
    model, tokenizer = base
    alone = answer_perplexities(model, tokenizer, [PROMPT], [FLUENT])
    out = answer_perplexities(model, tokenizer, [PROMPT, PROMPT, PROMPT], ["", FLUENT, "  \n "])
    assert out[0] is None and out[2] is None
    assert out[1] == pytest.approx(alone[0], rel=1e-5)
    assert answer_perplexities(model, tokenizer, [], []) == []


def test_the_model_is_left_in_the_mode_it_was_in(base):
    model, tokenizer = base
    for training in (True, False):
        model.train(training)
        answer_perplexities(model, tokenizer, [PROMPT], [FLUENT])
        assert model.training is training
    model.eval()


def test_a_lora_wrapped_model_is_scored_with_its_adapters_off(builtin_cache):
    import torch
    from peft import LoraConfig, get_peft_model

    model, tokenizer = load_model_and_tokenizer(BUILTIN_TINY, builtin_cache)  # its own copy: peft wraps in place
    answers = [FLUENT, shuffled(FLUENT)]
    plain = answer_perplexities(model, tokenizer, [PROMPT] * 2, answers)
    wrapped = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear",
                                               task_type="CAUSAL_LM"))
    # A fresh adapter changes nothing (its B is zero): give it weights that do, as training would.
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in wrapped.named_parameters():
            if "lora_B" in name:
                p.normal_(0.0, 0.5)
    ids = tokenizer(FLUENT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        on = wrapped(input_ids=ids).logits
        with wrapped.disable_adapter():
            off = wrapped(input_ids=ids).logits
    assert not torch.allclose(on, off)  # the adapter is live: a test of "off" means something

    scored = answer_perplexities(wrapped, tokenizer, [PROMPT] * 2, answers)
    assert scored == pytest.approx(plain, rel=1e-5)
    # ...and it is still on afterwards, for whatever the run does next.
    with torch.no_grad():
        assert torch.allclose(wrapped(input_ids=ids).logits, on)


def test_a_model_that_gives_no_finite_loss_gives_no_perplexity_rather_than_nan(builtin_cache):
    import torch

    model, tokenizer = load_model_and_tokenizer(BUILTIN_TINY, builtin_cache)  # its own copy: broken below
    with torch.no_grad():
        model.get_output_embeddings().weight.fill_(float("nan"))  # what an fp16 overflow leaves behind
    assert answer_perplexities(model, tokenizer, [PROMPT], [FLUENT]) == [None]
