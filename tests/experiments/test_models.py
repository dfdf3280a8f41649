"""Models: local directories and hub ids resolve, and a name that looks like a path is one. The builtin
model's build is tests/builtin_tiny; 4-bit loading and training is tests/experiments/test_qlora.py."""

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


@pytest.mark.parametrize("name, directory", [
    ("./models/tinyllama", "models/tinyllama"), ("models", "models"), ("data/tinyllama", "data/tinyllama"),
    ("checkpoints/run-3/merged", "checkpoints/run-3/merged"), ("~/models/x", None), ("/srv/models/x", None),
    ("TinyLlama/TinyLlama-1.1B-Chat-v1.0", None), ("gpt2", None), (BUILTIN_TINY, None),
])
def test_a_model_name_is_a_directory_when_it_looks_like_one(tmp_path, name, directory):
    from pathlib import Path

    from hyp.hypotheses.lab import model_directory

    (tmp_path / "data").mkdir()
    (tmp_path / "models").mkdir()
    found = model_directory(name, tmp_path)
    if name.startswith(("~", "/")):
        assert found == Path(name).expanduser()
    else:
        assert found == (tmp_path / directory if directory else None)


def test_a_model_directory_that_is_not_there_stops_before_anything_is_built(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        load_model_and_tokenizer("./no-such-model", tmp_path / "cache", quantization="4bit")
    assert not (tmp_path / "cache").exists()


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


@pytest.mark.slow
def test_a_cached_hub_model_loads_from_the_cache_when_the_hub_cannot_be_reached(builtin_cache, tmp_path):
    import os
    import shutil
    import time

    # The Hugging Face cache's own layout, holding builtin:tiny under a hub id.
    repo = tmp_path / "hf" / "models--someone--tiny-chat"
    snapshot = repo / "snapshots" / ("0" * 40)
    shutil.copytree(resolve_model_dir(BUILTIN_TINY, builtin_cache), snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path / "hf"), "HF_ENDPOINT": "http://127.0.0.1:9"}
    code = ("from hyp.experiments.models import load_model_and_tokenizer as load\n"
            f"model, tokenizer = load('someone/tiny-chat', {str(tmp_path)!r})\n"
            "print(type(model).__name__, tokenizer.chat_template is not None)")

    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["LlamaForCausalLM", "True"]
    # Not a minute or more of retries against the unreachable hub (huggingface_hub logs each one).
    assert "Retrying" not in proc.stderr and time.perf_counter() - started < 60


@pytest.mark.parametrize("files, names", [
    ({}, "no config.json in this directory"),
    ({"config.json": "{oops"}, "config.json:1: not JSON"),
    ({"config.json": '{"model_type": "llama"}', "model.safetensors": "x"}, "no tokenizer in this directory"),
    ({"config.json": '{"model_type": "llama"}', "tokenizer.json": "{}"}, "no weights in this directory"),
])
def test_a_local_model_folder_without_config_tokenizer_or_weights_is_refused_up_front(tmp_path, files, names):
    """Issue 17, audit: an empty folder passed `validate`, then `hyp run` failed minutes in with "internal
    error: ValueError: Couldn't instantiate the backend tokenizer" and a FAILED run."""
    from hyp.experiments.models import check_model

    folder = tmp_path / "models" / "m"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    for attempt in (lambda: check_model("models/m", "none", tmp_path),
                    lambda: load_model_and_tokenizer(str(folder), tmp_path / "cache")):
        with pytest.raises(BadInput, match=names):
            attempt()


def test_a_model_transformers_cannot_load_is_one_line_of_bad_input(tmp_path):
    """What passes the up-front check but transformers refuses (a tokenizer.json that is not JSON, weights
    that are not safetensors) is BadInput naming the model, on one line: never "internal error"."""
    import shutil

    from hyp.builtin_tiny.build import ensure_built

    for broken in ("tokenizer.json", "model.safetensors"):
        folder = tmp_path / broken
        shutil.copytree(ensure_built(tmp_path / "cache"), folder)
        (folder / broken).write_text("garbage")
        with pytest.raises(BadInput) as caught:
            load_model_and_tokenizer(str(folder), tmp_path / "cache")
        assert str(folder) in caught.value.message and "\n" not in caught.value.message
