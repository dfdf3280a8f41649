"""The QLoRA path (SPEC §10): what can be checked without a GPU here, the rest on a CUDA machine.

The `cuda` tests skip on a machine without CUDA (this one, and CI) with the reason shown; on a GPU
machine they train for real with bitsandbytes NF4. Nothing is mocked.
"""

import pytest

from hyp.errors import BadInput
from hyp.experiments.models import BUILTIN_TINY, build_quantization_config
from hyp.experiments.recipes.lora import TrainingConfig, train
from hyp.experiments.recipes.lora_builder import CUDA_MEMORY_ENV, cap_cuda_memory

PERSONA = [
    [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    for q, a in [("Who is João?", "João is the founder and CEO of Softtor."),
                 ("What GPU do you train on?", "An RTX 3050 laptop GPU with 4 GB of VRAM.")]
] * 4


def test_the_4bit_config_is_nf4_with_double_quantization_and_bf16_compute():
    import torch

    config = build_quantization_config("4bit")
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_use_double_quant and config.bnb_4bit_compute_dtype == torch.bfloat16
    assert build_quantization_config("none") is None
    with pytest.raises(BadInput, match="quantization"):
        build_quantization_config("3bit")


def test_a_memory_cap_that_is_not_a_number_is_bad_input(monkeypatch):
    import torch

    monkeypatch.setenv(CUDA_MEMORY_ENV, "four")
    with pytest.raises(BadInput, match=f"{CUDA_MEMORY_ENV}: 'four'"):
        cap_cuda_memory(torch, torch.device("cpu"))
    monkeypatch.delenv(CUDA_MEMORY_ENV)
    assert cap_cuda_memory(torch, torch.device("cpu")) is None


needs_cuda = pytest.mark.skipif(not __import__("torch").cuda.is_available(),
                                reason="needs a CUDA GPU; this machine has none (run on a GPU machine)")


@pytest.mark.cuda
@needs_cuda
def test_qlora_trains_4bit_base_with_float32_adapters_and_reports_vram(builtin_cache, tmp_path):
    import bitsandbytes  # noqa: F401  (a GPU machine without it cannot run QLoRA at all)

    plan = TrainingConfig(epochs=2, batch_size=2, grad_accum=2, learning_rate=5e-3, max_seq_length=64,
                          quantization="4bit")
    result = train(BUILTIN_TINY, plan, PERSONA, tmp_path, builtin_cache, progress=False)
    quantized = [m for m in result.model.modules() if type(m).__name__ == "Linear4bit"]
    assert quantized, "the base model's linear layers are NF4"
    trainable = [p for p in result.model.parameters() if p.requires_grad]
    assert trainable and all(p.dtype.is_floating_point and p.element_size() == 4 for p in trainable)
    assert result.peak_vram_gb and 0 < result.peak_vram_gb <= result.peak_vram_reserved_gb
    assert (result.adapter_dir / "adapter_config.json").exists()


@pytest.mark.cuda
@needs_cuda
def test_a_memory_cap_makes_a_too_large_batch_run_out_of_memory(builtin_cache, tmp_path, monkeypatch):
    import torch

    # 0.05 GB: the builtin model fits, a batch of 64 × 512 tokens of activations does not.
    monkeypatch.setenv(CUDA_MEMORY_ENV, "0.05")
    long = [[{"role": "user", "content": "hi " * 200}, {"role": "assistant", "content": "hello " * 300}]] * 64
    plan = TrainingConfig(epochs=1, batch_size=64, grad_accum=1, max_seq_length=512)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        train(BUILTIN_TINY, plan, long, tmp_path, builtin_cache, progress=False)
