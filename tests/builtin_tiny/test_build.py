"""builtin:tiny: it builds the same every time, is a chat model with its own tokenizer, and its
tokenizer makes model directories of any shape that load."""

import subprocess
import sys
from pathlib import Path

import pytest

from hyp.builtin_tiny.build import write_random_llama
from hyp.experiments.models import BUILTIN_TINY, load_model_and_tokenizer, resolve_model_dir


@pytest.mark.slow
def test_builtin_tiny_builds_the_same_files_every_time_whatever_the_threads(builtin_cache, tmp_path):
    """Rebuilt in another process with one thread (the session's build had the machine's): every file
    is the same, byte for byte, because the build fixes its own thread count (issue 19)."""
    first = Path(resolve_model_dir(BUILTIN_TINY, builtin_cache))
    code = ("import sys, torch; torch.set_num_threads(1)\n"
            "from hyp.builtin_tiny.build import ensure_built; print(ensure_built(sys.argv[1]))")
    built = subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, capture_output=True, text=True)
    second = Path(built.stdout.strip())
    assert first != second and second.parent == tmp_path / "models"
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in second.iterdir()) and "model.safetensors" in files
    assert [f for f in files if (first / f).read_bytes() != (second / f).read_bytes()] == []
    # The build is atomic: nothing but the finished directory is left behind.
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["builtin-tiny-v2"]


def test_builtin_tiny_is_built_once_per_user_not_per_lab(tmp_path, monkeypatch):
    from hyp.builtin_tiny.build import user_cache

    monkeypatch.delenv("HYP_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache() == tmp_path / "xdg" / "hyp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache() == Path.home() / ".cache" / "hyp"
    monkeypatch.setenv("HYP_CACHE_DIR", str(tmp_path / "mine"))
    assert user_cache() == tmp_path / "mine"


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


@pytest.mark.slow
def test_a_model_directory_written_at_a_given_shape_loads(tmp_path):
    directory = write_random_llama(tmp_path / "small", hidden=64, layers=1, heads=4, kv_heads=2,
                                   intermediate=128, vocab=2304)
    model, tokenizer = load_model_and_tokenizer(str(directory), tmp_path / "cache")
    assert (model.config.hidden_size, model.config.num_key_value_heads, model.config.vocab_size) == (64, 2, 2304)
    assert tokenizer.chat_template is not None
    assert not (tmp_path / "cache").exists()  # a local directory never triggers a build


def test_builtin_tiny_imports_nothing_above_it_and_no_heavy_library():
    # `hyp estimate` reads its shape from here, so importing it must stay cheap, and it sits below
    # hyp.experiments: the training stack imports it, never the reverse.
    code = (
        "import sys, hyp.builtin_tiny.build\n"
        "above = ('hyp.experiments', 'hyp.sweeps', 'hyp.cli', 'hyp.reports', 'hyp.results', 'hyp.store')\n"
        "wrong = [m for m in sys.modules if m.startswith(above)]\n"
        "wrong += [m for m in ('torch', 'transformers', 'peft', 'tokenizers') if m in sys.modules]\n"
        "assert not wrong, wrong"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
