"""The peak GPU memory (and a rough time) a training configuration needs, from the model's config
alone: what `hyp estimate` shows, and what `hyp sweep` checks against the VRAM limit before a trial.

Nothing here loads weights or imports torch: the shape (config.json) and the training values are
enough. The figure is for training on a CUDA GPU, the device the VRAM limit is about; every
constant that turns a shape into bytes sits in the block below, with where it comes from, so the
measurements of issue 7 can replace them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from hyp.builtin_tiny.build import NAME as BUILTIN_TINY
from hyp.builtin_tiny.build import SHAPE as BUILTIN_SHAPE
from hyp.errors import BadInput
from hyp.files import parse_json
from hyp.hypotheses.lab import model_directory
from hyp.hypotheses.schema import synthetic_needed

GB = 2**30  # hyp's "GB" everywhere (peak_vram_gb too) is torch's GiB: bytes / 2**30

# --- calibration -------------------------------------------------------------------------------
# Analytic values, not yet measured (issue 7 will fit them to torch.cuda.max_memory_* on a GPU).

# Weights. Without quantization hyp loads the model in bfloat16 on CUDA (float16 where bf16 is not
# supported: the same 2 bytes); float32 is only the CPU path, which has no VRAM.
BYTES_BF16 = 2.0
# bitsandbytes NF4 with double quantization: 4 bits a weight, one 8-bit absmax per 64-weight block,
# and one fp32 scale per 256 of those absmax values (bnb defaults: blocksize 64, nested 256). The
# weight figure is checked against a loaded 4-bit model's bytes (tests/experiments/test_qlora.py).
BYTES_NF4 = 0.5 + 1 / 64 + 4 / (64 * 256)
# prepare_model_for_kbit_training (peft) casts every parameter that is not 4-bit — embeddings,
# lm_head, norms — to float32, so in QLoRA those cost 4 bytes, twice their bf16 size.
BYTES_UNQUANTIZED_IN_4BIT = 4.0
# LoRA weights stay float32 (peft's autocast_adapter_dtype), and so do their gradients.
BYTES_ADAPTER = 4.0
BYTES_ADAPTER_GRAD = 4.0
# Optimizer state per trainable parameter: AdamW keeps two fp32 moments; the paged 8-bit AdamW of
# the QLoRA recipe keeps two 8-bit ones (its per-block scales are negligible).
BYTES_ADAMW = 8.0
BYTES_ADAMW_8BIT = 2.0

# Activations kept for backward, per token and per decoder layer, counted from what autograd
# saves in a Llama layer with LoRA on every linear layer (frozen base weights save no inputs) under
# the recipe's bf16 autocast:
#   2 RMSNorm inputs upcast to fp32                                      8·h
#   LoRA: each adapted input as autocast's bf16 copy, plus its 1-byte dropout mask;
#         q, k, v, gate, up read h, o reads the attention output, down reads i
#                                                                        3·(5·h + q_dim + i)
#   attention (SDPA, bf16): q, k, v (expanded to all heads), output      4·q_dim·2
#   MLP: gate output, SiLU output, up output, in the residual dtype a    3·i·a
# a is 4 bytes in QLoRA (peft's fp32 norms and embeddings make the residual stream fp32, and
# bitsandbytes returns its input's dtype) and 2 in bf16.
ACT_NORM_BYTES = 8.0
ACT_LORA_COPY_BYTES = 3.0
ACT_ATTENTION_BYTES = 8.0
ACT_MLP_TENSORS = 3.0
ACT_DTYPE_4BIT = 4.0
ACT_DTYPE_BF16 = 2.0
# With gradient checkpointing (the QLoRA recipe turns it on) only each layer's input is kept; in
# backward one layer at a time is recomputed, alive together with the gradients it produces.
CHECKPOINTED_LAYERS_ALIVE = 2.0
# Logits for every position: autocast's bf16 lm_head output (2), the shifted copy hyp's loss
# reshapes (2), its fp32 upcast (4) and log_softmax's fp32 output kept for backward (4).
LOGITS_BYTES = 12.0
# PyTorch's caching allocator reserves more than it hands out (block rounding, fragmentation).
ALLOCATOR_OVERHEAD = 0.05
# The CUDA context and cuBLAS workspace: memory a process holds before its first tensor, which
# torch.cuda.max_memory_allocated never shows but a 4 GB card still has to fit (~300 MB with lazy
# module loading on CUDA 12).
CUDA_CONTEXT_GB = 0.30

# Time. Training FLOPs per token and weight a token multiplies (linear layers and the head):
# forward 2 and backward 2 (input gradients only: the base is frozen, LoRA's own are negligible),
# and 2 more when gradient checkpointing recomputes the forward.
FLOPS_PER_WEIGHT = 4.0
FLOPS_PER_WEIGHT_CHECKPOINTED = 6.0
# Effective training throughput on the user's GPU (RTX 3050 laptop, 4 GB). Not measured: 3 TFLOP/s
# reproduces their report (148 conversations × 6 epochs of QLoRA in about 9 minutes) if their
# conversations average ~350 tokens. Issue 7 measures it.
REFERENCE_GPU = "an RTX 3050 laptop GPU"
REFERENCE_GPU_TFLOPS = 3.0
CHARS_PER_TOKEN = 4.0  # Llama-family tokenizers on English chat


@dataclass(frozen=True)
class Shape:
    """What memory depends on in a Llama-style decoder."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int
    tied_embeddings: bool = False

    @property
    def q_dim(self) -> int:
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    def linear_shapes(self) -> dict[str, tuple[int, int]]:
        """(in, out) of each linear layer in one decoder layer: those peft's "all-linear" adapts."""
        h, i = self.hidden, self.intermediate
        return {"q_proj": (h, self.q_dim), "k_proj": (h, self.kv_dim), "v_proj": (h, self.kv_dim),
                "o_proj": (self.q_dim, h), "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}

    @property
    def linear_params(self) -> int:
        return self.layers * sum(a * b for a, b in self.linear_shapes().values())

    @property
    def embedding_params(self) -> int:
        """Input embeddings plus the output head (counted once when they share weights)."""
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    @property
    def norm_params(self) -> int:
        return (2 * self.layers + 1) * self.hidden

    @property
    def params(self) -> int:
        return self.linear_params + self.embedding_params + self.norm_params


@dataclass(frozen=True)
class VramEstimate:
    vram_gb: float
    weights_gb: float
    adapter_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float
    overhead_gb: float  # CUDA context and allocator slack
    params: int
    trainable_params: int
    quantization: str
    gradient_checkpointing: bool
    time_s: float | None = None  # training time on REFERENCE_GPU, when the data could be counted

    def to_json(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def lora_params(shape: Shape, r: int) -> int:
    """Trainable parameters of LoRA rank r on every linear layer, as the recipe puts it."""
    return shape.layers * sum(r * (a + b) for a, b in shape.linear_shapes().values())


def estimate_vram(shape: Shape, *, quantization: str, batch_size: int, max_seq_length: int,
                  lora_r: int) -> VramEstimate:
    """Peak VRAM of one LoRA (none) or QLoRA (4bit) training step, as hyp's recipe runs it on CUDA.

    The sequence is taken at max_seq_length: the longest batch sets the peak.
    """
    qlora = quantization == "4bit"
    if qlora:
        weights = shape.linear_params * BYTES_NF4 + (shape.embedding_params + shape.norm_params) \
            * BYTES_UNQUANTIZED_IN_4BIT
    else:
        weights = shape.params * BYTES_BF16
    trainable = lora_params(shape, lora_r)
    adapter = trainable * BYTES_ADAPTER
    gradients = trainable * BYTES_ADAPTER_GRAD
    optimizer = trainable * (BYTES_ADAMW_8BIT if qlora else BYTES_ADAMW)

    a = ACT_DTYPE_4BIT if qlora else ACT_DTYPE_BF16
    h, i, q = shape.hidden, shape.intermediate, shape.q_dim
    per_layer = (ACT_NORM_BYTES * h + ACT_LORA_COPY_BYTES * (5 * h + q + i) + ACT_ATTENTION_BYTES * q
                 + ACT_MLP_TENSORS * i * a)
    tokens = batch_size * max_seq_length  # CUDA steps one micro-batch of batch_size at a time
    logits = tokens * shape.vocab * LOGITS_BYTES
    if qlora:
        # Checkpoints stay for the whole backward; the logits peak (its start) and a recomputed
        # layer (later, once the logits are freed) are not alive together.
        activations = tokens * shape.layers * h * a + max(logits, CHECKPOINTED_LAYERS_ALIVE * tokens * per_layer)
    else:
        activations = tokens * shape.layers * per_layer + logits
    allocated = weights + adapter + gradients + optimizer + activations
    overhead = allocated * ALLOCATOR_OVERHEAD + CUDA_CONTEXT_GB * GB
    return VramEstimate(
        vram_gb=(allocated + overhead) / GB, weights_gb=weights / GB, adapter_gb=adapter / GB,
        gradients_gb=gradients / GB, optimizer_gb=optimizer / GB, activations_gb=activations / GB,
        overhead_gb=overhead / GB, params=shape.params + trainable, trainable_params=trainable,
        quantization=quantization, gradient_checkpointing=qlora,
    )


def estimate_hypothesis(hyp, lab_root: Path, cache_dir: Path) -> VramEstimate:
    """The estimate for a hypothesis's experiment (with any sweep values already applied)."""
    from dataclasses import replace

    model, t = hyp.experiment.model, hyp.experiment.training
    shape = model_shape(model.name, cache_dir, Path(lab_root))
    memory = estimate_vram(shape, quantization=model.quantization, batch_size=t.batch_size,
                           max_seq_length=t.max_seq_length, lora_r=t.lora_r)
    tokens = tokens_per_epoch(hyp, Path(lab_root))
    if tokens is None:
        return memory
    return replace(memory, time_s=training_seconds(shape, tokens * t.epochs, memory.gradient_checkpointing))


def training_seconds(shape: Shape, tokens: float, checkpointed: bool) -> float:
    weights = shape.linear_params + shape.vocab * shape.hidden  # what each token multiplies
    flops = tokens * weights * (FLOPS_PER_WEIGHT_CHECKPOINTED if checkpointed else FLOPS_PER_WEIGHT)
    return flops / (REFERENCE_GPU_TFLOPS * 1e12)


def tokens_per_epoch(hyp, lab_root: Path) -> float | None:
    """Tokens one epoch trains on, counted roughly from the data files' characters (the mix is
    selected by quality score, but its mean length is close to the file's)."""
    ds, cap = hyp.experiment.dataset, hyp.experiment.training.max_seq_length
    curated = _conversation_tokens(lab_root / ds.curated.path, cap)
    if not curated:
        return None
    n_curated = min(ds.curated.select_top or len(curated), len(curated))
    total = n_curated * sum(curated) / len(curated)
    if ds.synthetic and ds.synthetic.ratio > 0:
        synthetic = _conversation_tokens(lab_root / ds.synthetic.path, cap)
        if synthetic:
            total += synthetic_needed(n_curated, ds.synthetic.ratio) * sum(synthetic) / len(synthetic)
    return total


def _conversation_tokens(path: Path, cap: int) -> list[float]:
    try:
        records = parse_json(path.read_text(encoding="utf-8"), str(path))
        return [min(cap, sum(len(turn["value"]) for turn in r["conversations"]) / CHARS_PER_TOKEN)
                for r in records]
    except (OSError, ValueError, TypeError, KeyError, BadInput):
        return []  # `hyp run` reports what is wrong with the file; an estimate just goes without time


# --- the model's shape -------------------------------------------------------------------------


def model_shape(name: str, cache_dir: Path, root: Path | None = None) -> Shape:
    """The shape of model `name` from its config.json, found locally; never downloads anything.
    Relative directories are taken from `root` (the lab's; the current directory when None)."""
    if name == BUILTIN_TINY:
        return _builtin_shape()
    path = model_directory(name, Path(root) if root is not None else Path.cwd())
    if path is not None and path.is_dir():
        config = path / "config.json"
        if not config.is_file():
            raise BadInput(f"model: {name}: no config.json in this directory")
        return shape_from_config(_read_config(config), str(config))
    if path is not None:
        raise BadInput(f"model: directory {name} does not exist")
    config = _cached_hub_config(name)
    if config is None:
        raise BadInput(f"model: {name}: its config.json is not on this machine, and hyp estimate never downloads; "
                       f"fetch it once (huggingface-cli download {name} config.json) or name a local directory")
    return shape_from_config(_read_config(config), str(config))


def shape_from_config(config: dict, source: str) -> Shape:
    """A Shape from a transformers config dict of a Llama-style model (llama, mistral, qwen2, ...)."""
    required = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size")
    missing = [k for k in required if not isinstance(config.get(k), int)]
    if missing:
        kind = config.get("model_type", "unknown")
        raise BadInput(f"{source}: {', '.join(missing)}: missing; hyp estimates Llama-style decoders "
                       f"(model_type {kind!r} lacks these keys)")
    heads = config["num_attention_heads"]
    return Shape(
        hidden=config["hidden_size"], layers=config["num_hidden_layers"], heads=heads,
        kv_heads=config.get("num_key_value_heads") or heads,
        head_dim=config.get("head_dim") or config["hidden_size"] // heads,
        intermediate=config["intermediate_size"], vocab=config["vocab_size"],
        # transformers' default is tied; Llama's own config says False explicitly.
        tied_embeddings=bool(config.get("tie_word_embeddings", True)),
    )


def _builtin_shape() -> Shape:
    # builtin:tiny's shape is fixed in code, so estimating it never needs the (slow) build.
    s = BUILTIN_SHAPE
    return Shape(hidden=s["hidden"], layers=s["layers"], heads=s["heads"], kv_heads=s["kv_heads"],
                 head_dim=s["hidden"] // s["heads"], intermediate=s["intermediate"], vocab=s["vocab"],
                 tied_embeddings=False)


def _read_config(path: Path) -> dict:
    try:
        data = parse_json(Path(path).read_text(encoding="utf-8"), str(path))  # BadInput when nested too deep
    except (OSError, ValueError) as e:
        raise BadInput(f"{path}: cannot read the model config: {e}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: not a model config (expected a JSON object)")
    return data


def _cached_hub_config(repo_id: str) -> Path | None:
    # try_to_load_from_cache only looks in the local Hugging Face cache; it never goes online.
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, "config.json")
    except ValueError:  # not a valid repo id
        raise BadInput(f"model: {repo_id!r} is neither a local directory nor a Hugging Face model id") from None
    return Path(found) if isinstance(found, str) else None
