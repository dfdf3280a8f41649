"""Generation: batched answers that match one-by-one ones, seeded sampling, and an honest
`truncated` flag."""


import pytest

from hyp.experiments.generation import generate_answers
from hyp.experiments.models import BUILTIN_TINY, load_model_and_tokenizer

PROMPTS = ["What is the capital of France?", "Who is Ana?", "What is TypeScript?", "Hello!"]


@pytest.fixture(scope="session")
def model_and_tokenizer(builtin_cache):
    return load_model_and_tokenizer(BUILTIN_TINY, builtin_cache)


@pytest.mark.slow
def test_an_answer_cut_at_max_new_tokens_is_marked_truncated(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    short = generate_answers(model, tokenizer, PROMPTS, max_new_tokens=3, temperature=0.0)
    assert [(g.truncated, g.new_tokens) for g in short] == [(True, 3)] * len(PROMPTS)

    full = generate_answers(model, tokenizer, PROMPTS, max_new_tokens=96, temperature=0.0)
    assert all(not g.truncated and 0 < g.new_tokens < 96 and g.text for g in full)
    # The cut answers are the beginnings of the whole ones, and no end token leaks into the text.
    assert all(whole.text.startswith(cut.text) for cut, whole in zip(short, full, strict=True))
    assert not any("</s>" in g.text for g in full)


@pytest.mark.slow
def test_batched_greedy_answers_equal_one_by_one_answers(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    batched = generate_answers(model, tokenizer, PROMPTS, max_new_tokens=48, temperature=0.0)
    alone = [generate_answers(model, tokenizer, [p], max_new_tokens=48, temperature=0.0)[0] for p in PROMPTS]
    assert [g.text for g in batched] == [g.text for g in alone]  # left padding changes nothing


@pytest.mark.slow
def test_sampling_is_repeatable_with_a_seed(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    sample = dict(max_new_tokens=32, temperature=1.0, top_p=0.95)
    first = generate_answers(model, tokenizer, PROMPTS, seed=3, **sample)
    again = generate_answers(model, tokenizer, PROMPTS, seed=3, **sample)
    others = [generate_answers(model, tokenizer, PROMPTS, seed=seed, **sample) for seed in (4, 5, 6)]
    assert first == again
    assert any(other != first for other in others)


@pytest.mark.slow
def test_a_system_prompt_reaches_the_model(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    plain = generate_answers(model, tokenizer, PROMPTS, max_new_tokens=24, temperature=0.0)
    steered = generate_answers(model, tokenizer, PROMPTS, max_new_tokens=24, temperature=0.0,
                               system_prompt="Answer in short, clear sentences. Repeat the question first.")
    assert plain != steered


def test_no_prompts_no_answers():
    assert generate_answers(None, None, []) == []
