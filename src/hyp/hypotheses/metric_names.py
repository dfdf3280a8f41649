"""Metric names: the rule a name must follow to be logged at all (MLflow's), and the one list of the
names hyp's evaluations, training and data log (SPEC §4), so a misspelt criterion is caught early."""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable

from hyp.hypotheses.criteria import CRITERIA

MAX_KEY = 250  # MLflow's limit on a metric or param key
MAX_QUESTION_ID = 100  # its metrics (`Q1.personality`, `auto.Q1.personality`) must stay under MAX_KEY
# MLflow's rule (mlflow/utils/validation.py): letters, digits, _ - . / : and spaces. `\w` is Unicode, as there.
_KEY = re.compile(r"[/\w.\- :]+")
_QUESTION_ID = re.compile(r"[\w-]+")  # no dot: `Q1.agent` is read back as question `Q1`, criterion `agent`

# What every evaluation logs (the contract), then training and data; `base_score` is the model before tuning.
EVALUATION = ("score", "points", "points_max", *(f"{c}_points" for c in CRITERIA), "agent_like_responses",
              "factual_responses", "personality_responses", "complete_responses", "truncated_responses",
              "template_leaks", "hallucinations", "flagged_responses", "perplexity", "rouge_l")
TRAINING = ("train_loss", "eval_loss", "final_train_loss", "final_eval_loss", "train_seconds",
            "train_tokens_per_second", "peak_rss_gb", "peak_vram_gb", "peak_vram_reserved_gb", "eval_seconds",
            "scoring_seconds", "base_score", "epoch")
DATA = ("dataset.size", "dataset.curated", "dataset.synthetic", "dataset.duplicates_removed", "dataset.heldout",
        "dataset.heldout_dropped", "dataset.synthetic_ratio_achieved", "dataset.synthetic_requested")
PER_QUESTION = (*CRITERIA, "total", "perplexity", "rouge_l")
# `rubric.score` (the rubric beside a judge), `auto.score` (the rubric beside hand scores), `base.score`.
SCORED_AS = ("rubric.", "auto.", "base.")
# Families whose members vary with the data and the scorers (lint kinds, agreement per criterion).
OPEN_FAMILIES = ("dataset.", "lint.", "agreement.", "kappa.")


def key_problem(name: str) -> str | None:
    """Why MLflow would refuse `name` as a metric key, or None (so hyp refuses it first, creating nothing)."""
    if not name:
        return "is empty"
    if len(name) > MAX_KEY:
        return f"is {len(name)} characters long; MLflow takes at most {MAX_KEY}"
    if not _KEY.fullmatch(name):
        return "may hold only letters, digits, spaces and _ - . / : (what MLflow accepts)"
    norm = posixpath.normpath(name)
    if norm != name or norm.startswith(("..", "/")) or norm == ".":
        return "must not read as a path to somewhere else (no '..', leading '/', './' or '//')"
    return None


def question_id_problem(qid: str) -> str | None:
    """Why a suite's question id cannot name metrics (`Q1.total`), or None."""
    if len(qid) > MAX_QUESTION_ID:
        return f"is {len(qid)} characters long; at most {MAX_QUESTION_ID}"
    if not _QUESTION_ID.fullmatch(qid):
        return "may hold only letters, digits, _ and - (it names metrics such as Q1.total)"
    return None


def known_names(questions: Iterable[str] = ()) -> frozenset[str]:
    """Every metric name hyp logs for a suite with these question ids (open families aside)."""
    return _known(tuple(questions))


@functools.lru_cache(maxsize=32)
def _known(questions: tuple[str, ...]) -> frozenset[str]:
    # Every hypothesis of a lab asks with the same suite: `hyp list` over thousands builds this once.
    names = {*EVALUATION, *TRAINING, *DATA}
    names |= {f"{q}.{x}" for q in questions for x in PER_QUESTION}
    names |= {f"{prefix}{n}" for prefix in SCORED_AS for n in EVALUATION}
    names |= {f"auto.{q}.{x}" for q in questions for x in PER_QUESTION}
    return frozenset(names)


def typo_of(name: str, questions: Iterable[str] = ()) -> str | None:
    """The known metric `name` was most likely meant to be, when it is unknown but within a typo of one;
    None for a known name and for a custom one (`hyp record --metric bleu=0.3` stays possible)."""
    return _typo_of(name, tuple(questions))


@functools.lru_cache(maxsize=1024)
def _typo_of(name: str, questions: tuple[str, ...]) -> str | None:
    known = _known(questions)
    if name in known or name.startswith(OPEN_FAMILIES):
        return None  # the common case, at the cost of a set lookup
    allowed = 1 if len(name) <= 4 else 2
    best = min(sorted(known), key=lambda k: _distance(name.lower(), k.lower()))
    return best if _distance(name.lower(), best.lower()) <= allowed else None


def _distance(a: str, b: str) -> int:
    """Levenshtein distance, with a swap of neighbours as one edit (`socre` for `score`)."""
    if abs(len(a) - len(b)) > 2:
        return 3  # more than any typo allowed here: skip the table
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, prev2[j - 2] + 1)
            row.append(cost)
        prev2, prev = prev, row
    return prev[-1]
