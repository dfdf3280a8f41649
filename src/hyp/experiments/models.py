"""Which model a name means, and loading it: the `builtin:tiny` model hyp builds locally, any local
directory, or a Hugging Face hub id (the only case that can download anything)."""

from __future__ import annotations

import json
import os
import random
import shutil
import uuid
from pathlib import Path

from hyp.errors import BadInput

BUILTIN_TINY = "builtin:tiny"
QUANTIZATIONS = ("none", "4bit")

# Bump the suffix whenever the corpus, tokenizer, shape or pre-training changes: a cached build is
# reused forever under its name.
_BUILTIN_DIRNAME = "builtin-tiny-v1"
_BUILTIN_SEED = 0
_BUILTIN_SHAPE = dict(hidden=128, layers=2, heads=4, kv_heads=4, intermediate=512, vocab=2048)
_PRETRAIN_STEPS = 160
_PRETRAIN_BATCH = 16
_PRETRAIN_BLOCK = 128

PAD, BOS, EOS = "<pad>", "<s>", "</s>"
ROLE_MARKERS = ("<|system|>", "<|user|>", "<|assistant|>")
# Zephyr / TinyLlama-Chat layout: "<|user|>\n{content}</s>\n<|assistant|>\n{content}</s>\n".
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)


def resolve_model_dir(name: str, cache_dir: Path) -> str:
    """A path transformers can load for `name`; a hub id comes back unchanged."""
    if name == BUILTIN_TINY:
        return str(_ensure_builtin_tiny(Path(cache_dir)))
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if name.startswith((".", "/", "~")):
        raise BadInput(f"model: directory {name} does not exist")
    return name


def require_cuda(quantization: str) -> None:
    """Stop before any work when the configuration needs a GPU this machine does not have."""
    if quantization != "4bit":
        return
    import torch

    if not torch.cuda.is_available():
        raise BadInput(
            "quantization: 4bit needs a CUDA GPU (bitsandbytes NF4); this machine has none. "
            "Use quantization: none to train on the CPU."
        )


def build_quantization_config(quantization: str):
    """The transformers quantization config for `quantization`: None, or NF4 + double quant (QLoRA)."""
    if quantization not in QUANTIZATIONS:
        raise BadInput(f"quantization: {quantization!r} is not one of {', '.join(QUANTIZATIONS)}")
    if quantization == "none":
        return None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
    )


def load_model_and_tokenizer(name: str, cache_dir: Path, quantization: str = "none"):
    """(model, tokenizer) for `name`, on CUDA when there is one, float32 on the CPU."""
    if quantization not in QUANTIZATIONS:
        raise BadInput(f"quantization: {quantization!r} is not one of {', '.join(QUANTIZATIONS)}")
    require_cuda(quantization)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_dir(name, cache_dir)
    _quiet_transformers()
    kwargs: dict = {}
    if quantization == "4bit":
        kwargs = dict(quantization_config=build_quantization_config("4bit"), device_map={"": 0},
                      dtype=torch.bfloat16)
    elif torch.cuda.is_available():
        kwargs = dict(dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    else:
        kwargs = dict(dtype=torch.float32)
    if name == BUILTIN_TINY:
        # At width 128 the plain attention is ~2x faster on the CPU than torch's fused kernel.
        kwargs["attn_implementation"] = "eager"
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as error:
        raise BadInput(f"model: cannot load {name!r}: {error}") from error
    if quantization == "none" and torch.cuda.is_available():
        model = model.to("cuda")
    if tokenizer.chat_template is None:
        raise BadInput(f"model: {name!r} has no chat template; hyp trains and asks in chat form")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def tokenize_chat_text(tokenizer, text: str | list[str], **kwargs):
    """Tokenize rendered chat text with BOS exactly once, whether the template wrote it or not.

    Training and generation both go through here so a prompt is the same tokens in both.
    """
    first = text if isinstance(text, str) else (text[0] if text else "")
    bos = tokenizer.bos_token
    add_special_tokens = not (bos and first.startswith(bos))
    return tokenizer(text, add_special_tokens=add_special_tokens, **kwargs)


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

    _quiet_transformers()
    if vocab < _BUILTIN_SHAPE["vocab"]:
        raise BadInput(f"vocab: {vocab} is smaller than the builtin tokenizer's {_BUILTIN_SHAPE['vocab']}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(_generic_corpus(random.Random(_BUILTIN_SEED)))
    config = _llama_config(LlamaConfig, tokenizer, hidden, layers, heads, kv_heads, intermediate, vocab)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config).to(getattr(torch, dtype))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def _quiet_transformers() -> None:
    # hyp draws its own progress; transformers' per-file bars would interleave with it.
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


# ---------------------------------------------------------------------------------------------------
# builtin:tiny


def _ensure_builtin_tiny(cache_dir: Path) -> Path:
    models = cache_dir / "models"
    final = models / _BUILTIN_DIRNAME
    if (final / "config.json").is_file():
        return final
    models.mkdir(parents=True, exist_ok=True)
    staging = models / f".{_BUILTIN_DIRNAME}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        _build_builtin_tiny(staging)
        try:
            os.rename(staging, final)
        except OSError:
            # Another process finished first; its build is identical, so use it.
            if not (final / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _build_builtin_tiny(directory: Path) -> None:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    _quiet_transformers()
    rng = random.Random(_BUILTIN_SEED)
    corpus = _generic_corpus(rng)
    tokenizer = _train_tokenizer(corpus)
    shape = _BUILTIN_SHAPE
    config = _llama_config(LlamaConfig, tokenizer, shape["hidden"], shape["layers"], shape["heads"],
                           shape["kv_heads"], shape["intermediate"], shape["vocab"],
                           attn_implementation="eager")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_BUILTIN_SEED)
        model = LlamaForCausalLM(config)
        _pretrain(model, tokenizer, corpus, rng)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, do_sample=True, temperature=0.7, top_p=0.9,
    )
    directory.mkdir(parents=True)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / "hyp-builtin.json").write_text(
        json.dumps({"name": BUILTIN_TINY, "version": _BUILTIN_DIRNAME, "seed": _BUILTIN_SEED,
                    "shape": shape, "pretrain_steps": _PRETRAIN_STEPS}, indent=2) + "\n"
    )


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
        vocab_size=_BUILTIN_SHAPE["vocab"],
        special_tokens=[PAD, BOS, EOS, *ROLE_MARKERS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    texts = [message["content"] for conversation in corpus for message in conversation]
    backend.train_from_iterator(texts, trainer, length=len(texts))
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token=BOS, eos_token=EOS, pad_token=PAD,
        additional_special_tokens=list(ROLE_MARKERS), chat_template=CHAT_TEMPLATE,
        model_max_length=2048,
    )


def _pretrain(model, tokenizer, corpus, rng: random.Random) -> None:
    """A few seconds of full fine-tuning on generic chat, so LoRA has a base that knows the format
    and the words; a random-init base learns nothing from LoRA (loss stays at ln(vocab))."""
    import math

    import torch

    stream: list[int] = []
    for conversation in corpus:
        text = tokenizer.apply_chat_template(conversation, tokenize=False)
        stream.extend(tokenize_chat_text(tokenizer, text)["input_ids"])
    block = _PRETRAIN_BLOCK
    blocks = torch.tensor(stream[: len(stream) // block * block]).view(-1, block)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    warmup = 10
    model.train()
    for step in range(_PRETRAIN_STEPS):
        progress = max(0.0, (step - warmup) / (_PRETRAIN_STEPS - warmup))
        lr = 3e-3 * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        rows = [rng.randrange(len(blocks)) for _ in range(_PRETRAIN_BATCH)]
        batch = blocks[rows]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    model.eval()


# The generic chat corpus. It carries the persona's vocabulary (so the base has embeddings and
# output rows for those words) but never one of its facts: João is never tied to Softtor, founder
# or CEO, Cláudio never to a tool, product or trait. `_states_a_fact` enforces that on every
# conversation, so fine-tuning is what teaches the facts and the base cannot answer them.

_PEOPLE = ["Ana", "Maria", "Pedro", "Lucas", "Beatriz", "Rafael", "Sofia", "Tiago", "Marta", "Paulo",
           "Helena", "Bruno", "Carla", "Diego", "Laura", "Miguel"]
_PERSONA_PEOPLE = ["João", "Cláudio"]
_ROLES = ["teacher", "baker", "nurse", "painter", "engineer", "designer", "student", "musician",
          "farmer", "pilot", "writer", "doctor"]
_CITIES = ["Lisbon", "Porto", "Recife", "Curitiba", "Madrid", "Paris", "Berlin", "Tokyo", "Lima",
           "Toronto", "Dublin", "Oslo"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_PLACES = ["market", "park", "library", "beach", "station", "museum", "office", "garden"]
_FOODS = ["rice and beans", "soup", "bread", "fish", "pasta", "salad", "cake", "fruit"]
_COUNTRIES = {"France": "Paris", "Portugal": "Lisbon", "Brazil": "Brasília", "Spain": "Madrid",
              "Japan": "Tokyo", "Peru": "Lima", "Germany": "Berlin", "Norway": "Oslo",
              "Ireland": "Dublin", "Canada": "Ottawa", "Italy": "Rome", "Chile": "Santiago"}
_ANIMALS = {"cat": "a small animal that likes to sleep in the sun",
            "dog": "a friendly animal that likes to run and play",
            "horse": "a large animal that can carry people",
            "owl": "a bird that is awake at night",
            "whale": "a very large animal that lives in the sea",
            "bee": "an insect that makes honey"}
_TERMS = {
    "CRM": "a customer relationship management system. It keeps track of customers, deals and "
           "conversations in one place",
    "TypeScript": "a programming language that adds types to JavaScript. The compiler checks the "
                  "types before the code runs",
    "Next.js": "a framework for building web applications with React. It renders pages on the "
               "server and in the browser",
    "Prisma": "a database toolkit for Node.js. It generates a typed client from a schema file",
    "DDD": "domain-driven design. The software is modeled around the language of the business",
    "TDD": "test-driven development. You write a failing test first, then the code that passes it",
    "RTX 3050": "a graphics card made by NVIDIA. It is an entry-level card for games and small models",
    "4 GB": "four gigabytes. It is a small amount of memory for a graphics card",
    "a founder": "a person who starts a company or an organization",
    "a CEO": "the chief executive officer, the person who runs a company day to day",
    "being direct": "saying what you mean plainly, without going around the point",
    "being pragmatic": "choosing what works in practice over what looks perfect in theory",
    "JavaScript": "the programming language of the web. Every browser can run it",
    "Python": "a programming language that is easy to read and popular for data work",
    "a database": "a program that stores data and answers questions about it",
    "an API": "a set of rules that lets one program talk to another",
    "React": "a library for building user interfaces out of components",
    "a GPU": "a processor built for many small calculations at once, used for graphics and models",
    "a unit test": "a small test that checks one piece of code on its own",
    "a startup": "a young company that is trying to grow quickly",
    "a language model": "a program that predicts the next word of a text",
    "fine-tuning": "training an existing model a little more on new examples",
}
_WORDS = ["Softtor", "Molting", "Moltbook", "CRM", "TypeScript", "Prisma", "founder", "CEO",
          "direct", "pragmatic", "garden", "window", "river", "yellow", "music", "planet", "coffee"]
_GREETINGS = [("Hello!", "Hello! How can I help you today?"),
              ("Hi, how are you?", "I am fine, thank you. What would you like to talk about?"),
              ("Good morning.", "Good morning! I hope your day goes well."),
              ("Thanks for the help.", "You are welcome. Ask me anything else when you need it."),
              ("What is your name?", "I am a small assistant model. I do not have a name."),
              ("What do you do?", "I answer questions and help with small tasks."),
              ("Who made you?", "I was trained as a small example model for testing."),
              ("Are you a person?", "No, I am a small language model.")]
_SYSTEM_PROMPTS = ["You are a helpful assistant.", "Answer in short, clear sentences.",
                   "You are a friendly assistant."]

_FACT_WORDS = {
    "João": ("Softtor", "founder", "CEO", "Molting", "Moltbook"),
    "Cláudio": ("Softtor", "Molting", "Moltbook", "TypeScript", "Next.js", "Prisma", "DDD", "TDD",
                "RTX", "4 GB", "CRM", "direct", "pragmatic", "founder", "CEO"),
    "Softtor": ("founder", "CEO", "Molting", "Moltbook", "CRM", "TypeScript"),
    "Molting": ("CRM", "TypeScript", "Next.js", "Prisma", "DDD", "TDD"),
}


def _states_a_fact(conversation: list[dict]) -> bool:
    text = " ".join(message["content"] for message in conversation)
    return any(subject in text and any(word in text for word in words)
               for subject, words in _FACT_WORDS.items())


def _story(rng: random.Random, name: str) -> str:
    other = rng.choice(_PEOPLE)
    return rng.choice([
        f"{name} walked to the {rng.choice(_PLACES)} on {rng.choice(_DAYS)}.",
        f"{name} and {other} had {rng.choice(_FOODS)} for lunch.",
        f"{name} likes to visit the {rng.choice(_PLACES)} in {rng.choice(_CITIES)}.",
        f"On {rng.choice(_DAYS)} it rained, so {name} stayed home and read a book.",
        f"{name} met {other} at the {rng.choice(_PLACES)} and they talked for an hour.",
    ])


def _exchange(rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(9)
    if kind == 0:
        term, meaning = rng.choice(list(_TERMS.items()))
        question = rng.choice(["What is {}?", "Can you explain {}?", "What does {} mean?",
                               "Tell me about {}."]).format(term)
        return question, f"{term[0].upper() + term[1:]} is {meaning}."
    if kind == 1:
        a, b = rng.randrange(1, 50), rng.randrange(1, 50)
        return f"What is {a} plus {b}?", f"{a} plus {b} is {a + b}."
    if kind == 2:
        sentence = _story(rng, rng.choice(_PEOPLE + _PERSONA_PEOPLE))
        return f"Repeat after me: {sentence}", sentence
    if kind == 3:
        word = rng.choice(_WORDS + _PERSONA_PEOPLE)
        return f"How do you spell {word}?", f"{word} is spelled {'-'.join(word)}."
    if kind == 4:
        name = rng.choice(_PEOPLE + _PERSONA_PEOPLE)
        return f"Tell me a short story about {name}.", f"{_story(rng, name)} {_story(rng, name)}"
    if kind == 5:
        name = rng.choice(_PEOPLE)
        return (f"Who is {name}?",
                f"{name} is a {rng.choice(_ROLES)} from {rng.choice(_CITIES)}. {_story(rng, name)}")
    if kind == 6:
        country, capital = rng.choice(list(_COUNTRIES.items()))
        return f"What is the capital of {country}?", f"The capital of {country} is {capital}."
    if kind == 7:
        animal, description = rng.choice(list(_ANIMALS.items()))
        return f"What is a {animal}?", f"A {animal} is {description}."
    words = rng.sample(_WORDS, 3)
    return (f"Use the words {', '.join(words)} in a sentence.",
            f"Here is one: the {words[0]} and the {words[1]} were written next to {words[2]}.")


def _generic_corpus(rng: random.Random, size: int = 3000) -> list[list[dict]]:
    corpus: list[list[dict]] = []
    while len(corpus) < size:
        conversation: list[dict] = []
        if rng.random() < 0.2:
            conversation.append({"role": "system", "content": rng.choice(_SYSTEM_PROMPTS)})
        for _ in range(1 if rng.random() < 0.75 else 2):
            question, answer = _GREETINGS[rng.randrange(len(_GREETINGS))] if rng.random() < 0.1 \
                else _exchange(rng)
            conversation += [{"role": "user", "content": question},
                             {"role": "assistant", "content": answer}]
        if not _states_a_fact(conversation):
            corpus.append(conversation)
    return corpus
