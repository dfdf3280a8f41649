"""hyp: a hypothesis registry and experiment tracker for fine-tuning language models."""

__version__ = "0.1.0"
