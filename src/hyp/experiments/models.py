"""Which model a name means, and loading it: `builtin:tiny` (shipped with hyp.builtin_tiny, built only
without that copy), any local directory, or a Hugging Face hub id (the only case that can download
anything); and what 4-bit (bitsandbytes NF4, on CUDA or the CPU) needs installed."""

from __future__ import annotations

import threading
from pathlib import Path

from hyp.builtin_tiny.build import NAME as BUILTIN_TINY  # the name users write stays importable from here
from hyp.errors import BadInput
from hyp.hypotheses.lab import model_directory, model_problem

QUANTIZATIONS = ("none", "4bit")
# NF4 and 8-bit AdamW on the CPU arrived in 0.50 (0.45 has no CPU 4-bit; 0.47-0.49 fail in the 8-bit
# optimizers there). One minimum for both devices: the `qlora` extra installs it.
MIN_BITSANDBYTES = (0, 50)
INSTALL_BITSANDBYTES = 'pip install "bitsandbytes>=0.50"'
# How long hyp waits for the Hugging Face hub before saying it cannot be reached; transformers would
# retry for a minute or more.
HUB_TIMEOUT_S = 5.0


def resolve_model_dir(name: str, cache_dir: Path, root: Path | None = None) -> str:
    """A path transformers can load for `name`; a hub id comes back unchanged. Relative directories
    are taken from `root` (the lab's; the current directory when None)."""
    if name == BUILTIN_TINY:
        from hyp.builtin_tiny.build import ensure_built

        # The copy shipped with hyp (nothing built or written); cache_dir only when that copy is missing.
        return str(ensure_built(Path(cache_dir)))
    path = model_directory(name, Path(root) if root is not None else Path.cwd())
    if path is None:
        return name
    if not path.is_dir():
        raise BadInput(f"model: directory {name} does not exist")
    return str(path)


def model_source(name: str, root: Path) -> str:
    """What to load for `name` in the lab at `root`: a local directory as an absolute path (a relative
    name is the lab's, whatever the current directory), anything else unchanged."""
    path = model_directory(name, Path(root))
    return name if path is None else str(path)


def is_hub_id(name: str, root: Path | None = None) -> bool:
    return name != BUILTIN_TINY and model_directory(name, Path(root) if root is not None else Path.cwd()) is None


def check_model(name: str, quantization: str, root: Path) -> None:
    """Everything about the model that can be wrong, checked before any work and within seconds: a
    bitsandbytes for 4bit, a local directory with a config, a tokenizer and weights (an empty folder failed
    minutes into a run, leaving a FAILED run), a hub id the hub or the cache has."""
    require_bitsandbytes(quantization)
    if is_hub_id(name, root):
        check_hub_model(name)
    elif name != BUILTIN_TINY:
        problem = model_problem(name, Path(root), complete=True)
        if problem:
            raise BadInput(f"model: {problem}")


def require_bitsandbytes(quantization: str) -> None:
    """Stop before any work when 4-bit needs a bitsandbytes this environment does not have."""
    if quantization != "4bit":
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("bitsandbytes")
    except PackageNotFoundError:
        installed = None
    if problem := bitsandbytes_problem(installed):
        raise BadInput(f"quantization: 4bit needs bitsandbytes >= {'.'.join(map(str, MIN_BITSANDBYTES))} "
                       f"(NF4, on CUDA or the CPU); {problem}. Install it: {INSTALL_BITSANDBYTES}")


def bitsandbytes_problem(installed: str | None) -> str | None:
    """What is wrong with the installed bitsandbytes version for hyp's 4-bit path, or None."""
    if installed is None:
        return "it is not installed"
    numbers = [int(part) for part in installed.split("+")[0].split(".")[:2] if part.isdigit()]
    if tuple(numbers) < MIN_BITSANDBYTES:
        return f"{installed} is installed"
    return None


def check_hub_model(name: str) -> bool:
    """For a hub id: True when it must load from the local cache only (offline, or the hub does not
    answer but the model is cached); BadInput, within seconds, when it can be had neither way."""
    from huggingface_hub import constants, try_to_load_from_cache

    try:
        cached = isinstance(try_to_load_from_cache(name, "config.json"), str)
    except ValueError:  # not a valid repo id
        raise BadInput(f"model: {name!r} is neither a local directory nor a Hugging Face model id") from None
    if constants.HF_HUB_OFFLINE:
        if cached:
            return True
        raise BadInput(f"model: {name!r} is not in the Hugging Face cache and HF_HUB_OFFLINE is set; download "
                       f"it once with the network on, or name a local directory")
    answered, problem = _ask_hub(name)
    if answered and problem:
        raise BadInput(f"model: {name!r}: {problem}")
    if answered or cached:
        return not answered
    raise BadInput(f"model: {name!r}: the Hugging Face hub cannot be reached ({problem}) and the model is not in "
                   f"the local cache; connect, or download it once and set HF_HUB_OFFLINE=1, or name a local directory")


def _ask_hub(name: str) -> tuple[bool, str | None]:
    """(whether the hub answered within HUB_TIMEOUT_S, what is wrong: the model missing, or why it did not answer)."""
    from huggingface_hub import model_info
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    outcome: list[tuple[bool, str | None]] = []

    def ask() -> None:
        try:
            model_info(name, timeout=HUB_TIMEOUT_S)
            outcome.append((True, None))
        except GatedRepoError:
            outcome.append((True, None))  # it exists; the download says what access it needs
        except RepositoryNotFoundError:
            outcome.append((True, "not found on the Hugging Face hub (a private model needs HF_TOKEN)"))
        except Exception as error:  # whatever the network raised: hyp only reports it
            outcome.append((False, (str(error).splitlines() or [type(error).__name__])[0][:160]))

    # A thread bounds name resolution too, which no socket timeout covers.
    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    asker.join(HUB_TIMEOUT_S + 1)
    return outcome[0] if outcome else (False, f"no answer in {HUB_TIMEOUT_S:g} s")


def quiet_bitsandbytes() -> None:
    # On CPUs with AVX512-BF16 bitsandbytes looks for the optional `kernels` package at import and
    # warns that it is missing; its own kernel serves hyp, so there is nothing for a user to act on.
    # peft imports bitsandbytes whenever it is installed, so 16-bit runs would show it too.
    import logging

    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)


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


def load_error(error: BaseException) -> str:
    """transformers' reason, on one line and short enough to read (its messages run to paragraphs)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def load_model_and_tokenizer(name: str, cache_dir: Path, quantization: str = "none"):
    """(model, tokenizer) for `name`, on CUDA when there is one, float32 on the CPU; under 4bit the
    linear layers are NF4 on either device."""
    if quantization not in QUANTIZATIONS:
        raise BadInput(f"quantization: {quantization!r} is not one of {', '.join(QUANTIZATIONS)}")
    require_bitsandbytes(quantization)
    path = resolve_model_dir(name, cache_dir)
    if name != BUILTIN_TINY and (problem := model_problem(name, Path.cwd(), complete=True)):
        raise BadInput(f"model: {problem}")  # before torch and transformers are imported
    if is_hub_id(name) and check_hub_model(name):
        # The cached snapshot's directory: transformers given the hub id would still ask the hub for
        # an adapter config even with local_files_only, and retry for half a minute.
        from huggingface_hub import snapshot_download

        path = snapshot_download(name, local_files_only=True)
    quiet_bitsandbytes()  # before transformers or peft import it, which they do whenever it is installed
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # One switch for transformers' logging, shared with the builtin build.
    from hyp.builtin_tiny.build import quiet_transformers

    quiet_transformers()
    kwargs: dict = {}
    if quantization == "4bit":
        device = 0 if torch.cuda.is_available() else "cpu"
        kwargs |= dict(quantization_config=build_quantization_config("4bit"), device_map={"": device},
                       dtype=torch.bfloat16)
    elif torch.cuda.is_available():
        kwargs["dtype"] = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        kwargs["dtype"] = torch.float32
    if name == BUILTIN_TINY:
        # At width 128 plain attention beats torch's fused kernel on the CPU (up to 1.6x per step).
        kwargs["attn_implementation"] = "eager"
    from pickle import UnpicklingError

    from safetensors import SafetensorError

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except (OSError, ValueError, KeyError, SafetensorError, UnpicklingError) as error:
        # A folder transformers cannot make a model of (no tokenizer, a config of an unknown model type,
        # weights that do not fit) is the user's input: one line, not "internal error" and a traceback.
        raise BadInput(f"model: cannot load {name!r}: {load_error(error)}") from error
    if quantization == "none" and torch.cuda.is_available():
        model = model.to("cuda")
    if tokenizer.chat_template is None:
        raise BadInput(f"model: {name!r} has no chat template; hyp trains and asks in chat form")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer
