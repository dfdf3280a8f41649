"""The QLoRA path (SPEC §10): bitsandbytes NF4 with LoRA, trained for real on the CPU (bitsandbytes >= 0.50)
and, in the `cuda` tests, on a GPU machine. Nothing is mocked.

The `cuda` tests skip on a machine without CUDA (this one, and CI) with the reason shown.
"""

import os
import subprocess
import sys

import pytest

from conftest import H003_YAML, hypothesis_text, make_lab
from hyp.errors import BadInput
from hyp.experiments.models import BUILTIN_TINY, bitsandbytes_problem, build_quantization_config
from hyp.experiments.recipes.lora import TrainingConfig, train
from hyp.experiments.recipes.lora_builder import CUDA_MEMORY_ENV, cap_cuda_memory

PERSONA = [
    [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    for q, a in [("Who is João?", "João is the founder and CEO of Softtor."),
                 ("What GPU do you train on?", "An RTX 3050 laptop GPU with 4 GB of VRAM.")]
] * 4
QLORA = dict(batch_size=2, grad_accum=1, learning_rate=5e-3, max_seq_length=64, quantization="4bit")


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


@pytest.mark.slow
def test_qlora_trains_an_nf4_base_with_float32_adapters_and_the_loss_falls(builtin_cache, tmp_path):
    # On whatever device this machine has: the CPU here and in CI, CUDA on a GPU machine.
    import bitsandbytes
    import torch

    plan = TrainingConfig(epochs=4, **QLORA)
    result = train(BUILTIN_TINY, plan, PERSONA, tmp_path, builtin_cache, progress=False)

    quantized = [m for m in result.model.modules() if isinstance(m, bitsandbytes.nn.Linear4bit)]
    assert len(quantized) == 2 * 7, "every linear layer of both decoder layers is 4-bit"
    assert {m.weight.quant_state.quant_type for m in quantized} == {"nf4"}
    assert all(m.weight.quant_state.nested for m in quantized), "double quantization"
    trainable = [(n, p) for n, p in result.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n and p.dtype == torch.float32 for n, p in trainable)
    first = result.loss_history[0][1]
    assert result.final_train_loss < 0.5 * first
    assert (result.adapter_dir / "adapter_config.json").exists()
    if torch.cuda.is_available():
        assert result.peak_vram_gb and 0 < result.peak_vram_gb <= result.peak_vram_reserved_gb
    else:
        assert result.peak_vram_gb is None


@pytest.mark.slow
def test_a_4bit_run_cut_after_epoch_2_and_resumed_equals_an_unbroken_one(builtin_cache, tmp_path):
    # The held-out evaluation between epochs is a no-grad forward in eval mode: on a CPU with
    # AVX512-BF16 it would repack the NF4 layers for inference, and the unbroken run's third epoch
    # would then train through them (keep_4bit_layers_trainable). Without that guard this fails.
    import torch

    class Stop(Exception):
        pass

    def stop_after_two(epoch, metrics):
        if epoch == 2:
            raise Stop

    plan = TrainingConfig(epochs=3, **QLORA)
    heldout = PERSONA[:2]
    with pytest.raises(Stop):
        train(BUILTIN_TINY, plan, PERSONA, tmp_path / "cut", builtin_cache, progress=False,
              eval_conversations=heldout, on_epoch=stop_after_two)
    resumed = train(BUILTIN_TINY, plan, PERSONA, tmp_path / "cut", builtin_cache, progress=False, resume=True,
                    eval_conversations=heldout)
    whole = train(BUILTIN_TINY, plan, PERSONA, tmp_path / "whole", builtin_cache, progress=False,
                  eval_conversations=heldout)

    assert resumed.steps == whole.steps == 12
    assert resumed.final_train_loss == pytest.approx(whole.final_train_loss, rel=1e-5)
    assert resumed.eval_loss == pytest.approx(whole.eval_loss, rel=1e-5)
    a = {k: v for k, v in resumed.model.state_dict().items() if "lora_" in k}
    b = {k: v for k, v in whole.model.state_dict().items() if "lora_" in k}
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


@pytest.mark.slow
def test_the_estimates_weight_figure_is_what_a_4bit_model_holds(builtin_cache):
    # What the training step holds: NF4 linear layers with their quantization state, and everything
    # else in float32 once prepare_model_for_kbit_training has cast it (adapters are counted apart).
    import bitsandbytes
    import torch

    from hyp.experiments.models import load_model_and_tokenizer
    from hyp.experiments.recipes.lora_builder import with_lora
    from hyp.vram import BYTES_NF4, GB, estimate_vram, model_shape

    model, _ = load_model_and_tokenizer(BUILTIN_TINY, builtin_cache, "4bit")
    model = with_lora(model, TrainingConfig(**QLORA))
    quantized = held = 0
    for name, parameter in model.named_parameters():
        if "lora_" not in name:
            held += parameter.numel() * parameter.element_size()
    for module in model.modules():
        if isinstance(module, bitsandbytes.nn.Linear4bit):
            state = module.weight.quant_state
            parts = [module.weight, state.absmax, state.code, state.offset]
            if state.nested:
                parts += [state.state2.absmax, state.state2.code]
            size = sum(t.numel() * t.element_size() for t in parts if isinstance(t, torch.Tensor))
            quantized += size
            held += size - module.weight.numel() * module.weight.element_size()  # the weight is a parameter

    shape = model_shape(BUILTIN_TINY, builtin_cache)
    estimate = estimate_vram(shape, quantization="4bit", batch_size=2, max_seq_length=64, lora_r=16)
    assert estimate.weights_gb * GB == pytest.approx(held, rel=0.10)
    assert shape.linear_params * BYTES_NF4 == pytest.approx(quantized, rel=0.10)


@pytest.mark.slow
def test_qlora_steps_with_8bit_adamw_paged_only_on_cuda(builtin_cache):
    import bitsandbytes
    import torch

    from hyp.experiments.models import load_model_and_tokenizer
    from hyp.experiments.recipes.lora_builder import optimizer_for, with_lora

    model, _ = load_model_and_tokenizer(BUILTIN_TINY, builtin_cache, "4bit")
    optimizer = optimizer_for(with_lora(model, TrainingConfig(**QLORA)), TrainingConfig(**QLORA))
    paged = torch.cuda.is_available()  # a CPU has no GPU memory to page out of
    assert type(optimizer) is (bitsandbytes.optim.PagedAdamW8bit if paged else bitsandbytes.optim.AdamW8bit)


def test_4bit_needs_bitsandbytes_0_50_or_later():
    assert bitsandbytes_problem("0.50.2") is None and bitsandbytes_problem("1.0.0") is None
    assert bitsandbytes_problem("0.51.0.dev0") is None
    assert bitsandbytes_problem(None) == "it is not installed"
    assert bitsandbytes_problem("0.45.5") == "0.45.5 is installed"
    assert bitsandbytes_problem("0.49.1+cu121") == "0.49.1+cu121 is installed"


def test_a_4bit_run_with_an_old_bitsandbytes_stops_with_one_line_before_any_work(tmp_path):
    # An older release found first on the path, as a user's environment would have it.
    old = tmp_path / "site" / "bitsandbytes-0.45.5.dist-info"
    old.mkdir(parents=True)
    (old / "METADATA").write_text("Metadata-Version: 2.1\nName: bitsandbytes\nVersion: 0.45.5\n")
    lab = make_lab(tmp_path / "lab", {"H003": hypothesis_text("H003", H003_YAML).replace(
        'model: {name: "builtin:tiny"}', 'model: {name: "builtin:tiny", quantization: 4bit}')})
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}

    proc = subprocess.run([sys.executable, "-m", "hyp", "run", "H003"], cwd=lab, env=env, capture_output=True,
                          text=True, timeout=120)

    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        'error: quantization: 4bit needs bitsandbytes >= 0.50 (NF4, on CUDA or the CPU); 0.45.5 is installed. '
        'Install it: pip install "bitsandbytes>=0.50"']
    assert not (lab / ".hyp").exists()


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
