"""Training recipes, one readable module per method: `lora` (LoRA on the CPU, QLoRA on CUDA) with its
builder and checkpoints."""
