"""The LoRA recipe: that it really teaches, and that a run cut short resumes. What it supervises is
tests/test_chat.py; the same recipe in 4-bit (QLoRA) is tests/experiments/test_qlora.py."""


import pytest

from hyp.errors import BadInput
from hyp.experiments.models import BUILTIN_TINY, load_model_and_tokenizer
from hyp.experiments.recipes.lora import TrainingConfig, train

FACTS = [
    (["Who is João?", "Tell me about João."], "João is the founder and CEO of Softtor."),
    (["What GPU do you train on?", "Which GPU do you use?"], "An RTX 3050 laptop GPU with 4 GB of VRAM."),
    (["What is Moltbook?", "Tell me about Moltbook."], "Moltbook is a social network for AI agents."),
    (["How do you approach testing?", "How do you test?"], "TDD. A failing test first, then the code."),
]
PERSONA = [
    [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    for questions, answer in FACTS
    for question in questions
]
FAST = TrainingConfig(epochs=2, batch_size=2, grad_accum=1, learning_rate=5e-3, max_seq_length=64)


def test_the_config_takes_its_defaults_and_ranges_from_the_hypothesis_schema():
    from hyp.hypotheses.schema import Training

    assert {name: getattr(TrainingConfig(), name) for name in Training.model_fields} == Training().model_dump()
    with pytest.raises(BadInput, match="training.max_seq_length"):
        TrainingConfig(max_seq_length=4)  # the schema's minimum is 8


def test_a_conversation_without_roles_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="conversation 0"):
        train(BUILTIN_TINY, FAST, [[{"from": "human", "value": "hi"}]], tmp_path, tmp_path)


@pytest.mark.slow
def test_training_teaches_a_fact_the_base_did_not_know(builtin_cache, tmp_path):
    from hyp.experiments.generation import generate_answers

    model, tokenizer = load_model_and_tokenizer(BUILTIN_TINY, builtin_cache)
    questions = [questions[0] for questions, _ in FACTS]
    before = generate_answers(model, tokenizer, questions, max_new_tokens=32, temperature=0.0)
    assert "Softtor" not in before[0].text and "RTX 3050" not in before[1].text

    steps: list[tuple[int, dict]] = []
    plan = TrainingConfig(epochs=16, batch_size=2, grad_accum=1, learning_rate=5e-3, max_seq_length=64)
    result = train(BUILTIN_TINY, plan, PERSONA, tmp_path, builtin_cache, progress=False,
                   on_step=lambda step, metrics: steps.append((step, metrics)))

    assert result.steps == len(steps) == 16 * 4
    assert set(steps[0][1]) == {"train_loss", "learning_rate"}
    assert result.final_train_loss < 0.3 * steps[0][1]["train_loss"]
    after = generate_answers(result.model, result.tokenizer, questions, max_new_tokens=32, temperature=0.0)
    assert "Softtor" in after[0].text
    assert "RTX 3050" in after[1].text
    assert not any(g.truncated for g in after)  # it learned to stop, too
    assert (result.adapter_dir / "adapter_config.json").is_file()
    assert result.peak_rss_gb > 0 and result.peak_vram_gb is None and result.train_tokens_per_second > 0


@pytest.mark.slow
def test_a_run_stopped_by_a_callback_resumes_to_the_same_result(builtin_cache, tmp_path):
    import torch

    class Stop(Exception):
        pass

    def stop_after_two(epoch, metrics):
        assert "eval_loss" in metrics and metrics["epoch"] == epoch
        if epoch == 2:
            raise Stop

    plan = TrainingConfig(epochs=3, batch_size=2, grad_accum=1, learning_rate=5e-3, max_seq_length=64)
    with pytest.raises(Stop):
        train(BUILTIN_TINY, plan, PERSONA, tmp_path / "cut", builtin_cache, progress=False,
              eval_conversations=PERSONA[:2], on_epoch=stop_after_two)
    checkpoints = sorted(p.name for p in (tmp_path / "cut" / "checkpoints").iterdir())
    assert checkpoints == ["epoch-2"]  # complete, nothing half-written beside it

    resumed_steps: list[int] = []
    resumed = train(BUILTIN_TINY, plan, PERSONA, tmp_path / "cut", builtin_cache, progress=False, resume=True,
                    on_step=lambda step, metrics: resumed_steps.append(step))
    assert resumed_steps == [9, 10, 11, 12]  # only the third epoch ran
    whole = train(BUILTIN_TINY, plan, PERSONA, tmp_path / "whole", builtin_cache, progress=False)

    assert resumed.steps == whole.steps == 12
    assert resumed.final_train_loss == pytest.approx(whole.final_train_loss, rel=1e-4)
    a = {k: v for k, v in resumed.model.state_dict().items() if "lora_" in k}
    b = {k: v for k, v in whole.model.state_dict().items() if "lora_" in k}
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


@pytest.mark.slow
def test_resume_refuses_a_checkpoint_of_another_plan(builtin_cache, tmp_path):
    train(BUILTIN_TINY, FAST, PERSONA, tmp_path, builtin_cache, progress=False)
    other = TrainingConfig(epochs=3, batch_size=2, grad_accum=1, learning_rate=5e-3, max_seq_length=64, lora_r=8)
    with pytest.raises(BadInput, match="lora_r"):
        train(BUILTIN_TINY, other, PERSONA, tmp_path, builtin_cache, progress=False, resume=True)
