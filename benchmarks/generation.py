"""Batched vs one-by-one generation of the eight evaluation answers on builtin:tiny.

    python benchmarks/generation.py [--cache DIR] [--max-new-tokens N] [--repeats R] [--base]

First fine-tunes builtin:tiny on the demo lab's curated data (about 10 s), so the answers have the
length of real persona answers rather than the base model's one-liners (--base skips that), then
prints both times and their ratio, measured in this one run on this machine (goal: >= 5x).

Decoding is greedy so that both ways do the same work: with sampling, one-by-one and batched draw
different random numbers, write different answers, and the ratio would compare unequal token
counts. The figures include how many answers came out identical both ways.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

PROMPTS = [
    "Who is João?",
    "What is Molting?",
    "What is Moltbook?",
    "What is your tech stack?",
    "What are you working on at Softtor?",
    "How do you approach testing?",
    "What GPU do you train on?",
    "Who are you? Introduce yourself.",
]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "hyp-benchmark-cache")
    parser.add_argument("--max-new-tokens", type=int, default=384)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--base", action="store_true", help="measure the base model, without fine-tuning")
    args = parser.parse_args(argv)

    from hyp.experiments.generation import generate_answers
    from hyp.experiments.models import BUILTIN_TINY, load_model_and_tokenizer

    started = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(BUILTIN_TINY, args.cache)
    print(f"model ready in {time.perf_counter() - started:.1f} s (builds once into {args.cache})")
    if not args.base:
        model, tokenizer = _fine_tuned(args.cache)
    settings = dict(max_new_tokens=args.max_new_tokens, temperature=0, seed=0)
    generate_answers(model, tokenizer, PROMPTS[:2], **settings)  # warm-up

    def batched():
        return generate_answers(model, tokenizer, PROMPTS, **settings)

    def one_by_one():
        return [generate_answers(model, tokenizer, [p], **settings)[0] for p in PROMPTS]

    timings, shapes, texts = {}, {}, {}
    # Alternated, so that load on the machine hits both alike.
    for _ in range(args.repeats):
        for name, run in (("batched", batched), ("one-by-one", one_by_one)):
            start = time.perf_counter()
            answers = run()
            timings.setdefault(name, []).append(time.perf_counter() - start)
            shapes[name] = (sum(a.new_tokens for a in answers), max(a.new_tokens for a in answers))
            texts[name] = [a.text for a in answers]
    medians = {name: statistics.median(seconds) for name, seconds in timings.items()}
    for name, seconds in medians.items():
        print(f"{name:>10}: {seconds:.3f} s for {len(PROMPTS)} answers, {shapes[name][0]} new tokens "
              f"(median of {args.repeats})")
    tokens, longest = shapes["batched"]
    same = sum(a == b for a, b in zip(texts["batched"], texts["one-by-one"], strict=True))
    print(f"{same} of {len(PROMPTS)} answers identical both ways")
    ratio = medians["one-by-one"] / medians["batched"]
    print(f"batched is {ratio:.1f}x faster than one-by-one (a batch runs as long as its longest answer: "
          f"{tokens} tokens in all, {longest} the longest, so {tokens / longest:.1f}x is the most batching "
          f"can win here)")
    return {"batched_s": medians["batched"], "one_by_one_s": medians["one-by-one"], "ratio": ratio,
            "tokens": tokens, "longest": longest, "bound": tokens / longest, "identical_answers": same}


def _fine_tuned(cache: Path):
    import hyp
    from hyp.experiments.recipes.lora import TrainingConfig, train

    roles = {"system": "system", "human": "user", "gpt": "assistant"}
    rows = json.loads((Path(hyp.__file__).parent / "examples/persona/data/curated.json").read_text())
    conversations = [[{"role": roles[m["from"]], "content": m["value"]} for m in row["conversations"]]
                     for row in rows[:100]]
    plan = TrainingConfig(epochs=20, batch_size=2, grad_accum=1, learning_rate=5e-3, max_seq_length=128)
    with tempfile.TemporaryDirectory() as out:
        result = train("builtin:tiny", plan, conversations, Path(out), cache, progress=False)
    print(f"fine-tuned on {len(conversations)} conversations in {result.train_seconds:.1f} s")
    return result.model, result.tokenizer


if __name__ == "__main__":
    main()
