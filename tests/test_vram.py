"""The VRAM estimate and `hyp estimate`: peak VRAM from a model's config alone, in SPEC §5's JSON shape."""

from __future__ import annotations

import json

import pytest

from conftest import H003_YAML, hypothesis_text, make_lab, run_hyp
from hyp.vram import estimate_vram, shape_from_config

# TinyLlama-1.1B's config.json as published (the fields memory depends on).
TINYLLAMA = {"model_type": "llama", "hidden_size": 2048, "num_hidden_layers": 22, "num_attention_heads": 32,
             "num_key_value_heads": 4, "intermediate_size": 5632, "vocab_size": 32000, "tie_word_embeddings": False}

SPEC_KEYS = {"vram_gb", "weights_gb", "adapter_gb", "optimizer_gb", "activations_gb", "params", "trainable_params"}


def qlora_hypothesis(model: str) -> str:
    """H003 with the user's configuration: QLoRA 4bit, batch 2, sequence 512, LoRA r 16 on all linear layers."""
    return hypothesis_text("H003", H003_YAML).replace(
        'model: {name: "builtin:tiny"}', f'model: {{name: "{model}", quantization: 4bit}}').replace(
        "training: {epochs: 6, learning_rate: 2.0e-4}",
        "training: {epochs: 6, learning_rate: 2.0e-4, batch_size: 2, max_seq_length: 512, lora_r: 16}")


def test_tinyllama_qlora_estimate_is_near_the_users_measured_peak(tmp_path):
    # The user's report: QLoRA of TinyLlama-1.1B at batch 2 × 512 tokens peaked at 2.05 GB on an RTX 3050.
    # The estimate: 0.95 GB of weights (0.46 GB of NF4 linear layers, and 0.49 GB of embeddings and lm_head
    # that peft upcasts to fp32), 0.12 GB of LoRA weights, gradients and 8-bit optimizer state, 0.54 GB of
    # activations (checkpointed layer inputs plus the logits at 2 × 512 × 32000) and 0.38 GB of CUDA context
    # and allocator slack: 1.99 GB. Issue 7 calibrates the constants on a GPU; until then ±25% is the promise.
    model = tmp_path / "tinyllama"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(TINYLLAMA))
    lab = make_lab(tmp_path / "lab", {"H003": qlora_hypothesis(str(model))})

    result = run_hyp("estimate", "H003", "--json", lab=lab)  # on a CPU-only machine: the estimate needs no GPU

    assert result.code == 0, result.err
    data = result.json
    assert SPEC_KEYS <= set(data)
    assert data["vram_gb"] == pytest.approx(2.05, rel=0.25)
    assert 1_050_000_000 < data["params"] < 1_150_000_000  # TinyLlama is "1.1B"
    # r 16 on q, k, v, o, gate, up, down of 22 layers: 22 × 16 × (4096 + 2304 + 2304 + 4096 + 3 × 7680).
    assert data["trainable_params"] == 12_615_680
    parts = sum(data[k] for k in ("weights_gb", "adapter_gb", "gradients_gb", "optimizer_gb", "activations_gb",
                                  "overhead_gb"))
    assert parts == pytest.approx(data["vram_gb"], abs=1e-3)
    assert data["time_s"] > 0  # a rough training time on the user's GPU class, from FLOPs


def test_quantization_batch_and_sequence_move_the_estimate_the_right_way():
    shape = shape_from_config(TINYLLAMA, "config.json")
    qlora = estimate_vram(shape, quantization="4bit", batch_size=2, max_seq_length=512, lora_r=16)
    bf16 = estimate_vram(shape, quantization="none", batch_size=2, max_seq_length=512, lora_r=16)
    longer = estimate_vram(shape, quantization="4bit", batch_size=4, max_seq_length=1024, lora_r=16)
    wider = estimate_vram(shape, quantization="4bit", batch_size=2, max_seq_length=512, lora_r=64)

    # bf16 weights take 2 bytes a parameter: 2.05 GiB for TinyLlama, twice QLoRA's.
    assert bf16.weights_gb == pytest.approx(shape.params * 2 / 2**30)
    assert bf16.weights_gb > 2 * qlora.weights_gb * 0.99
    assert not bf16.gradient_checkpointing and bf16.activations_gb > 4 * qlora.activations_gb
    assert longer.activations_gb > 3.5 * qlora.activations_gb  # 4× the tokens
    assert wider.trainable_params == 4 * qlora.trainable_params
    assert wider.weights_gb == qlora.weights_gb


def test_training_time_follows_the_users_report():
    from hyp.vram import training_seconds

    # 148 conversations × 6 epochs took about 9 minutes on the user's RTX 3050; ~350 tokens each.
    seconds = training_seconds(shape_from_config(TINYLLAMA, "config.json"), 148 * 6 * 350, checkpointed=True)

    assert 7 * 60 < seconds < 12 * 60


def test_estimate_reads_builtin_tiny_without_building_it(lab):
    result = run_hyp("estimate", "H003", lab=lab)

    assert result.code == 0, result.err
    assert "fits the 4 GB limit" in result.out
    assert not (lab / ".hyp" / "models").exists()  # the config is known; nothing was built or downloaded


@pytest.mark.parametrize("model, message", [
    ("{dir}/empty", "no config.json in this directory"),
    ("{dir}/missing", "does not exist"),
    ("nobody/not-a-cached-model", "not on this machine, and hyp estimate never downloads"),
])
def test_estimate_without_a_local_config_says_so_and_exits_2(tmp_path, model, message):
    (tmp_path / "empty").mkdir()
    lab = make_lab(tmp_path / "lab", {"H003": qlora_hypothesis(model.format(dir=tmp_path))})

    result = run_hyp("estimate", "H003", lab=lab)

    assert result.code == 2
    assert message in result.err
