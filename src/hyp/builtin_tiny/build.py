"""Building builtin:tiny: its tokenizer, shape and pre-training; the copy of it that ships with hyp
(`model/`, package data: the first run loads it as fast as any later one), with a build cached once per
user and version when that copy is missing or of another version; and random Llama directories of any
shape with its tokenizer, for measuring memory and speed without a download.

    python -m hyp.builtin_tiny.build    # rewrite the shipped copy after changing the build (bump _DIRNAME)
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import sys
import uuid
from pathlib import Path

from hyp.builtin_tiny.corpus import COMMON_WORDS, WORD_LISTS, generic_corpus
from hyp.chat import IGNORE, encode_conversation
from hyp.errors import BadInput

NAME = "builtin:tiny"
# Fixed in code, so `hyp estimate` knows it without the (slow) build.
SHAPE = dict(hidden=128, layers=2, heads=4, kv_heads=4, intermediate=512, vocab=2048)

# Bump the suffix whenever the corpus, tokenizer, shape or pre-training changes: a cached build is
# reused forever under its name.
_DIRNAME = "builtin-tiny-v2"
_SEED = 0
_PRETRAIN_STEPS = 640
_PRETRAIN_BATCH = 8
_PRETRAIN_BLOCK = 128
_PRETRAIN_LR = 5e-3
# The build's CPU threads: one. More do not help a model this small (its matmuls are 1024×128 by
# 128×512; measured on a loaded 2-core machine, 60 s with one thread against 77 s with two), uncapped
# threads on a loaded machine spin against each other (15-30 minutes instead of 25 s), one is within any
# share of the cores a process is given (OMP_NUM_THREADS, CPU affinity), and a single thread keeps the
# float reductions in one order, so two builds on one machine write the same bytes. Across machines MKL
# and ATen pick kernels by CPU (AVX2, AVX-512) and training carries a last-bit difference far, so a test
# holds a rebuild to the shipped copy's files byte for byte and its weights to the same held-out loss
# (tests/builtin_tiny/test_build.py).
_BUILD_THREADS = 1

# The copy that ships with hyp: what _build writes (a test rebuilds it and compares it).
SHIPPED = Path(__file__).resolve().parent / "model"
_NEEDED = ("hyp-builtin.json", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")

PAD, BOS, EOS = "<pad>", "<s>", "</s>"
ROLE_MARKERS = ("<|system|>", "<|user|>", "<|assistant|>")
# Zephyr / TinyLlama-Chat layout: "<|user|>\n{content}</s>\n<|assistant|>\n{content}</s>\n".
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


def user_cache() -> Path:
    """Where builtin:tiny is built, once per user rather than once per lab: $HYP_CACHE_DIR, else
    $XDG_CACHE_HOME/hyp, else ~/.cache/hyp."""
    if os.environ.get("HYP_CACHE_DIR"):
        return Path(os.environ["HYP_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "hyp"


def shipped() -> Path | None:
    """The copy of builtin:tiny that came with hyp, when it is whole and of this build's version."""
    try:
        version = json.loads((SHIPPED / "hyp-builtin.json").read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    if version != _DIRNAME or not all((SHIPPED / name).is_file() for name in _NEEDED):
        return None
    return SHIPPED


def ensure_built(cache_dir: Path | None = None, *, use_shipped: bool = True) -> Path:
    """The directory of builtin:tiny: the copy shipped with hyp when it is there and of this version
    (nothing is built or written), else the one under cache_dir/models (default: the user's cache),
    built there first if it is not yet. use_shipped=False always takes the cache's."""
    if use_shipped and (found := shipped()) is not None:
        return found
    models = Path(cache_dir if cache_dir is not None else user_cache()) / "models"
    final = models / _DIRNAME
    if (final / "config.json").is_file():
        return final
    models.mkdir(parents=True, exist_ok=True)
    staging = models / f".{_DIRNAME}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        _build(staging)
        try:
            os.rename(staging, final)
        except OSError:
            # Another process finished first; its build is identical, so use it.
            if not (final / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def write_random_llama(
    directory: Path,
    hidden: int,
    layers: int,
    heads: int,
    kv_heads: int,
    intermediate: int,
    vocab: int,
    *,
    seed: int = 0,
    dtype: str = "float32",
) -> Path:
    """A Llama model directory of the given shape with random weights and the builtin tokenizer.

    For measuring memory and speed at a real model's shape (TinyLlama: 2048, 22, 32, 4, 5632, 32000)
    without downloading it. It has learned nothing.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    quiet_transformers()
    if vocab < SHAPE["vocab"]:
        raise BadInput(f"vocab: {vocab} is smaller than the builtin tokenizer's {SHAPE['vocab']}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(generic_corpus(random.Random(_SEED)))
    config = _llama_config(LlamaConfig, tokenizer, hidden, layers, heads, kv_heads, intermediate, vocab)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config).to(getattr(torch, dtype))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def quiet_transformers() -> None:
    # hyp draws its own progress; transformers' per-file bars would interleave with it.
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


def _build(directory: Path) -> None:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    quiet_transformers()
    rng = random.Random(_SEED)
    corpus = generic_corpus(rng)
    tokenizer = _train_tokenizer(corpus)
    shape = SHAPE
    config = _llama_config(LlamaConfig, tokenizer, shape["hidden"], shape["layers"], shape["heads"],
                           shape["kv_heads"], shape["intermediate"], shape["vocab"],
                           attn_implementation="eager")
    threads = torch.get_num_threads()
    torch.set_num_threads(_BUILD_THREADS)
    try:
        with torch.random.fork_rng(devices=[]), _build_progress(directory) as advance:
            torch.manual_seed(_SEED)
            model = LlamaForCausalLM(config)
            _pretrain(model, tokenizer, corpus, rng, advance)
    finally:
        torch.set_num_threads(threads)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, do_sample=True, temperature=0.7, top_p=0.9,
    )
    directory.mkdir(parents=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / "hyp-builtin.json").write_text(
        json.dumps({"name": NAME, "version": _DIRNAME, "seed": _SEED,
                    "shape": shape, "pretrain_steps": _PRETRAIN_STEPS}, indent=2) + "\n"
    )


@contextlib.contextmanager
def _build_progress(directory: Path):
    """A bar on a terminal for the one-time build (tens of seconds); elsewhere a line every few seconds,
    unless HYP_NO_PROGRESS is set."""
    if not sys.stderr.isatty():
        from hyp.progress import Ticker

        quiet = bool(os.environ.get("HYP_NO_PROGRESS"))
        with Ticker(None if quiet else lambda line: print(line, file=sys.stderr, flush=True)) as ticker:
            done = [0]
            ticker.begin(f"building builtin:tiny (once, into {directory.parent}): step 0/{_PRETRAIN_STEPS}")

            def advance() -> None:
                done[0] += 1
                ticker.update(f"building builtin:tiny (once): step {done[0]}/{_PRETRAIN_STEPS}")

            yield advance
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("building builtin:tiny (once)"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("build", total=_PRETRAIN_STEPS)
        yield lambda: progress.advance(task)


def _llama_config(LlamaConfig, tokenizer, hidden, layers, heads, kv_heads, intermediate, vocab, **extra):
    return LlamaConfig(
        vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        num_key_value_heads=kv_heads, intermediate_size=intermediate, max_position_embeddings=2048,
        rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **extra,
    )


def _train_tokenizer(corpus: list[list[dict]]):
    """Byte-level BPE trained on the message texts, with the chat special tokens and template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=SHAPE["vocab"],
        special_tokens=[PAD, BOS, EOS, *ROLE_MARKERS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    texts = [message["content"] for conversation in corpus for message in conversation]
    texts += [" ".join(words) for words in WORD_LISTS for _ in range(20)]
    texts += [" ".join(word.capitalize() for word in COMMON_WORDS)] * 20
    backend.train_from_iterator(texts, trainer, length=len(texts))
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=BOS, eos_token=EOS, pad_token=PAD,
        additional_special_tokens=list(ROLE_MARKERS), chat_template=CHAT_TEMPLATE,
        model_max_length=2048,
    )


def _pretrain(model, tokenizer, corpus, rng: random.Random, advance=lambda: None) -> None:
    """Full training on generic chat (about 20 s on two cores), so LoRA has a base that answers from
    the question and has said the persona's words: LoRA on a random-init base learns nothing (loss
    stays at ln(vocab)), and one that never saw a word cannot be taught to say it. Measured with
    LoRA (1000 steps) on the demo lab: 160 steps here taught 2 of 8 facts, 320 taught 5, 640 taught 7."""
    import math

    import torch

    # Whole conversations packed into rows (an answer cut from its question would teach answering
    # nothing in particular), loss on the assistant's tokens only, as in fine-tuning.
    block = _PRETRAIN_BLOCK
    rows_ids, rows_labels, ids, labels = [], [], [], []
    for conversation in corpus:
        conversation_ids, conversation_labels = encode_conversation(tokenizer, conversation, block)
        if len(ids) + len(conversation_ids) > block:
            rows_ids.append(ids + [tokenizer.pad_token_id] * (block - len(ids)))
            rows_labels.append(labels + [IGNORE] * (block - len(labels)))
            ids, labels = [], []
        ids, labels = ids + conversation_ids, labels + conversation_labels
    inputs, targets = torch.tensor(rows_ids), torch.tensor(rows_labels)[:, 1:]

    optimizer = torch.optim.AdamW(model.parameters(), lr=_PRETRAIN_LR, weight_decay=0.0)
    warmup = 10
    model.train()
    for step in range(_PRETRAIN_STEPS):
        progress = max(0.0, (step - warmup) / (_PRETRAIN_STEPS - warmup))
        lr = _PRETRAIN_LR * min(1.0, (step + 1) / warmup) * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        rows = [rng.randrange(len(inputs)) for _ in range(_PRETRAIN_BATCH)]
        hidden = model.model(input_ids=inputs[rows]).last_hidden_state[:, :-1]
        wanted = targets[rows] != IGNORE
        # The output layer only where there is a target: a fifth less work per step.
        loss = torch.nn.functional.cross_entropy(model.lm_head(hidden[wanted]), targets[rows][wanted])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        advance()
    model.eval()


def write_shipped() -> Path:
    """Build builtin:tiny afresh and put it in place as the shipped copy (for hyp's developers, after a
    change to the build: bump _DIRNAME first)."""
    staging = SHIPPED.parent / f".model.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _build(staging)
        for path in staging.iterdir():
            path.chmod(0o644)  # safetensors writes 0600; package data is read by whoever installs it
        shutil.rmtree(SHIPPED, ignore_errors=True)
        os.rename(staging, SHIPPED)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SHIPPED


if __name__ == "__main__":
    print(write_shipped())
