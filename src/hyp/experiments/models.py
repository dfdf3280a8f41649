"""Which model a name means, and loading it: `builtin:tiny` (built locally by hyp.builtin_tiny), any
local directory, or a Hugging Face hub id (the only case that can download anything)."""

from __future__ import annotations

from pathlib import Path

from hyp.builtin_tiny.build import NAME as BUILTIN_TINY  # the name users write stays importable from here
from hyp.errors import BadInput

QUANTIZATIONS = ("none", "4bit")


def resolve_model_dir(name: str, cache_dir: Path) -> str:
    """A path transformers can load for `name`; a hub id comes back unchanged."""
    if name == BUILTIN_TINY:
        from hyp.builtin_tiny.build import ensure_built

        return str(ensure_built(Path(cache_dir)))
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

    # One switch for transformers' logging, shared with the builtin build.
    from hyp.builtin_tiny.build import quiet_transformers

    path = resolve_model_dir(name, cache_dir)
    quiet_transformers()
    kwargs: dict = {}
    if quantization == "4bit":
        kwargs = dict(quantization_config=build_quantization_config("4bit"), device_map={"": 0},
                      dtype=torch.bfloat16)
    elif torch.cuda.is_available():
        kwargs = dict(dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    else:
        kwargs = dict(dtype=torch.float32)
    if name == BUILTIN_TINY:
        # At width 128 plain attention beats torch's fused kernel on the CPU (up to 1.6x per step).
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
