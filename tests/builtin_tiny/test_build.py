"""builtin:tiny: it ships with hyp as exactly what its build makes, is built only without that copy, is a
chat model with its own tokenizer, and its tokenizer makes model directories of any shape that load."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyp.builtin_tiny.build import SHIPPED, write_random_llama
from hyp.experiments.models import BUILTIN_TINY, load_model_and_tokenizer, resolve_model_dir


def _tensors(directory: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(directory / "model.safetensors"))


def _heldout_loss(directory: Path) -> float:
    """Mean loss on the assistant's tokens of 200 generic conversations the build did not draw (another seed)."""
    import random

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hyp.builtin_tiny.corpus import generic_corpus
    from hyp.chat import IGNORE, encode_conversation

    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModelForCausalLM.from_pretrained(directory).eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for conversation in generic_corpus(random.Random(12345), size=200):
            ids, labels = encode_conversation(tokenizer, conversation, 128)
            logits = model(input_ids=torch.tensor([ids])).logits[0, :-1]
            targets = torch.tensor(labels[1:])
            wanted = targets != IGNORE
            if wanted.any():
                total += torch.nn.functional.cross_entropy(logits[wanted], targets[wanted], reduction="sum").item()
                count += int(wanted.sum())
    return total / count


def test_the_build_is_deterministic_byte_for_byte(tmp_path, monkeypatch):
    """Two builds on one machine write the same bytes (a short pre-training keeps this test fast)."""
    import hyp.builtin_tiny.build as build

    monkeypatch.setattr(build, "_PRETRAIN_STEPS", 12)
    monkeypatch.setenv("HYP_NO_PROGRESS", "1")
    first, second = tmp_path / "a", tmp_path / "b"
    build._build(first)
    build._build(second)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert [n for n in names if (first / n).read_bytes() != (second / n).read_bytes()] == []
    assert {k: v.shape for k, v in _tensors(first).items()} == {k: v.shape for k, v in _tensors(SHIPPED).items()}


@pytest.mark.slow
def test_the_shipped_builtin_tiny_is_what_the_build_makes(tmp_path):
    """Issue 19: builtin:tiny ships with hyp, so a first run loads it as fast as a later one, and it is
    provably what the code builds: rebuilt from the corpus in another process, which asked torch for 3
    threads (the build takes one, its own), every shipped file is the same byte for byte. The rebuild goes
    through the fallback: a shipped copy of another version is not used, the build goes to the cache."""
    import json
    import shutil

    older = tmp_path / "shipped-older"
    shutil.copytree(SHIPPED, older)
    meta = json.loads((older / "hyp-builtin.json").read_text())
    (older / "hyp-builtin.json").write_text(json.dumps({**meta, "version": "builtin-tiny-v1"}))
    code = ("import json, sys, torch; from pathlib import Path; torch.set_num_threads(3)\n"
            "import hyp.builtin_tiny.build as b; b.SHIPPED = Path(sys.argv[2]); seen, pretrain = [], b._pretrain\n"
            "def counted(*a, **k): seen.append(torch.get_num_threads()); return pretrain(*a, **k)\n"
            "b._pretrain = counted\n"
            "built = b.ensure_built(Path(sys.argv[1]))\n"
            "print(json.dumps({'dir': str(built), 'threads': seen, 'after': torch.get_num_threads()}))")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "cache"), str(older)], capture_output=True,
                          text=True, env={**env, "HYP_NO_PROGRESS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    built = Path(out["dir"])
    assert built == tmp_path / "cache" / "models" / "builtin-tiny-v2"
    assert out["threads"] == [1] and out["after"] == 3  # capped to one for the build, given back after
    files = sorted(p.name for p in SHIPPED.iterdir())
    assert files == sorted(p.name for p in built.iterdir()) and "model.safetensors" in files
    different = [f for f in files if (SHIPPED / f).read_bytes() != (built / f).read_bytes()]
    assert set(different) <= {"model.safetensors"}, \
        f"{different} differ from a rebuild: `python -m hyp.builtin_tiny.build` rewrites them"
    # The weights are the same byte for byte when rebuilt with the same float kernels (the next test), but
    # MKL and ATen pick their kernels by CPU (AVX2, AVX-512, another vendor), and 640 steps of training
    # carry a last-bit difference far (up to 0.4 in a weight between two x86 machines here). What must hold
    # on any machine: the same tensors, trained as far (held-out loss within 10%; untrained is ln 2048 = 7.6).
    shipped_loss, rebuilt_loss = _heldout_loss(SHIPPED), _heldout_loss(built)
    assert shipped_loss < 2.5 and abs(shipped_loss - rebuilt_loss) <= 0.1 * max(shipped_loss, rebuilt_loss), \
        (shipped_loss, rebuilt_loss)
    # The build is atomic: nothing but the finished directory is left behind.
    assert [p.name for p in (tmp_path / "cache" / "models").iterdir()] == ["builtin-tiny-v2"]


def test_a_first_run_loads_the_shipped_builtin_tiny_and_builds_nothing(tmp_path, monkeypatch):
    """Issue 19: an empty user cache (a new user, a new lab) builds nothing and writes nothing."""
    import hyp.builtin_tiny.build as build

    def no_build(directory):
        raise AssertionError(f"built builtin:tiny into {directory}")

    monkeypatch.setattr(build, "_build", no_build)
    assert resolve_model_dir(BUILTIN_TINY, tmp_path / "cache") == str(build.SHIPPED)
    model, tokenizer = load_model_and_tokenizer(BUILTIN_TINY, tmp_path / "cache")
    assert model.config.hidden_size == 128 and len(tokenizer) == 2048
    assert not (tmp_path / "cache").exists()
    assert 3_000_000 < (build.SHIPPED / "model.safetensors").stat().st_size < 6_000_000


@pytest.mark.parametrize("damage", ["missing", "another version", "no weights", "unreadable manifest"])
def test_without_a_whole_shipped_copy_of_this_version_builtin_tiny_is_built_into_the_cache(tmp_path, monkeypatch,
                                                                                            damage):
    import json
    import shutil

    import hyp.builtin_tiny.build as build

    copy = tmp_path / "shipped"
    if damage != "missing":
        shutil.copytree(build.SHIPPED, copy)
    if damage == "another version":
        (copy / "hyp-builtin.json").write_text(json.dumps({"name": "builtin:tiny", "version": "builtin-tiny-v1"}))
    elif damage == "no weights":
        (copy / "model.safetensors").unlink()
    elif damage == "unreadable manifest":
        (copy / "hyp-builtin.json").write_text("{not json")
    monkeypatch.setattr(build, "SHIPPED", copy)
    staged = []

    class Building(Exception):
        pass

    def start_build(directory):
        staged.append(directory)
        raise Building

    monkeypatch.setattr(build, "_build", start_build)
    with pytest.raises(Building):
        build.ensure_built(tmp_path / "cache")
    assert [p.parent for p in staged] == [tmp_path / "cache" / "models"]
    assert build.shipped() is None


def test_the_shipped_copy_is_package_data():
    """A wheel without `model/` would quietly build on every new machine: pyproject must list it."""
    import tomllib
    from fnmatch import fnmatch

    from hyp.builtin_tiny.build import SHIPPED

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["hyp"]
    package = root / "src" / "hyp"
    for path in SHIPPED.iterdir():
        rel = path.relative_to(package).as_posix()
        assert any(fnmatch(rel, pattern) for pattern in patterns), f"{rel} is not package data: {patterns}"


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
