"""Overlap with a question's reference answer (SPEC §4): ROUGE-L F1, from Google's `rouge-score`."""

from __future__ import annotations

from functools import cache


@cache
def _scorer():
    from rouge_score import rouge_scorer

    # No stemmer: the answers mix Portuguese names and English, where an English stemmer only adds noise.
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(reference: str, answer: str) -> float:
    """ROUGE-L F1 between a reference and an answer, 0 for an empty answer."""
    if not answer.strip() or not reference.strip():
        return 0.0
    return float(_scorer().score(reference, answer)["rougeL"].fmeasure)
