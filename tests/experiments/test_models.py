"""Models: local directories and hub ids resolve, and 4bit stops with a clear message on a machine
without CUDA before doing any work. The builtin model's build is tests/builtin_tiny."""

import subprocess
import sys

import pytest

from hyp.errors import BadInput
from hyp.experiments.models import (
    BUILTIN_TINY,
    build_quantization_config,
    load_model_and_tokenizer,
    resolve_model_dir,
)


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


def test_a_local_directory_is_used_as_is_and_a_hub_id_is_passed_through(tmp_path):
    assert resolve_model_dir(str(tmp_path), tmp_path / "cache") == str(tmp_path)
    assert resolve_model_dir("TinyLlama/TinyLlama-1.1B-Chat-v1.0", tmp_path) == "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
    with pytest.raises(BadInput, match="does not exist"):
        resolve_model_dir(str(tmp_path / "missing"), tmp_path)


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
