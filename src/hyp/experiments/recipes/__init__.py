"""Training recipes, one readable module per method: `lora` (LoRA, and QLoRA on CUDA or the CPU) with its
builder and checkpoints."""
