"""Models: the builtin model builds the same every time, local directories load, and 4bit stops
with a clear message on a machine without CUDA before doing any work."""

import subprocess
import sys
from pathlib import Path

import pytest

from hyp.errors import BadInput
from hyp.experiments.models import (
    BUILTIN_TINY,
    build_quantization_config,
    load_model_and_tokenizer,
    resolve_model_dir,
    write_random_llama,
)


@pytest.fixture(scope="session")
def builtin_cache(tmp_path_factory) -> Path:
    # One build per test session, shared by every test module that names this directory.
    cache = tmp_path_factory.getbasetemp() / "hyp-builtin-cache"
    resolve_model_dir(BUILTIN_TINY, cache)
    return cache


def _no_cuda() -> bool:
    import torch

    return not torch.cuda.is_available()


def test_importing_the_model_modules_loads_no_heavy_library():
    code = (
        "import sys, hyp.experiments.models, hyp.experiments.recipes.lora, hyp.experiments.generation\n"
        "heavy = [m for m in ('torch', 'transformers', 'peft', 'tokenizers') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_builtin_tiny_builds_the_same_weights_every_time(builtin_cache, tmp_path):
    from safetensors.torch import load_file

    first = Path(resolve_model_dir(BUILTIN_TINY, builtin_cache))
    second = Path(resolve_model_dir(BUILTIN_TINY, tmp_path))
    assert first != second
    a, b = load_file(first / "model.safetensors"), load_file(second / "model.safetensors")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)
    assert (first / "tokenizer.json").read_bytes() == (second / "tokenizer.json").read_bytes()
    # The build is atomic: nothing but the finished directory is left behind.
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["builtin-tiny-v2"]


@pytest.mark.slow
def test_builtin_tiny_is_a_chat_model_with_its_own_tokenizer(builtin_cache):
    model, tokenizer = load_model_and_tokenizer(BUILTIN_TINY, builtin_cache)
    assert model.config.model_type == "llama"
    assert model.config.hidden_size == 128 and model.config.num_hidden_layers == 2
    assert len(tokenizer) == model.config.vocab_size == 2048
    text = tokenizer.apply_chat_template([{"role": "user", "content": "Who is João?"}], tokenize=False,
                                         add_generation_prompt=True)
    assert text == "<|user|>\nWho is João?</s>\n<|assistant|>\n"
    # Persona words are whole tokens, so the model can learn to say them.
    assert len(tokenizer.tokenize(" Softtor")) == 1


def test_a_local_directory_is_used_as_is_and_a_hub_id_is_passed_through(tmp_path):
    assert resolve_model_dir(str(tmp_path), tmp_path / "cache") == str(tmp_path)
    assert resolve_model_dir("TinyLlama/TinyLlama-1.1B-Chat-v1.0", tmp_path) == "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    with pytest.raises(BadInput, match="does not exist"):
        resolve_model_dir(str(tmp_path / "missing"), tmp_path)


@pytest.mark.slow
def test_a_model_directory_written_at_a_given_shape_loads(tmp_path):
    directory = write_random_llama(tmp_path / "small", hidden=64, layers=1, heads=4, kv_heads=2,
                                   intermediate=128, vocab=2304)
    model, tokenizer = load_model_and_tokenizer(str(directory), tmp_path / "cache")
    assert (model.config.hidden_size, model.config.num_key_value_heads, model.config.vocab_size) == (64, 2, 2304)
    assert tokenizer.chat_template is not None
    assert not (tmp_path / "cache").exists()  # a local directory never triggers a build


@pytest.mark.skipif(not _no_cuda(), reason="this machine has CUDA")
def test_4bit_without_cuda_stops_before_any_work(tmp_path):
    with pytest.raises(BadInput, match="4bit needs a CUDA GPU"):
        load_model_and_tokenizer(BUILTIN_TINY, tmp_path, quantization="4bit")
    assert not any(tmp_path.iterdir())  # nothing was built or downloaded


def test_4bit_means_nf4_with_double_quantization_and_bf16_compute():
    import torch

    config = build_quantization_config("4bit")
    assert config.load_in_4bit and not config.load_in_8bit
    assert config.bnb_4bit_quant_type == "nf4"
    assert config.bnb_4bit_use_double_quant is True
    assert config.bnb_4bit_compute_dtype == torch.bfloat16
    assert build_quantization_config("none") is None
    with pytest.raises(BadInput, match="quantization"):
        build_quantization_config("8bit")
