"""The training data of a hypothesis once read (hyp.experiments.sharegpt reads it): the quality score,
the curated/synthetic mix a run trains on (with its digest), and the lint findings `hyp data` shows
and a run logs. Pure: nothing here touches files."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hyp.errors import BadInput
from hyp.experiments.sharegpt import Conversation, to_chat
from hyp.experiments.sharegpt import read_conversations as read_conversations  # run and `hyp data` read via data
from hyp.hypotheses.schema import Scoring, synthetic_needed

# The weights of the `scoring` block in a hypothesis file, with its defaults.
DEFAULT_WEIGHTS: dict[str, float] = {name: f.default for name, f in Scoring.model_fields.items()}

LINT_KINDS = ("template_token", "agent_like", "empty_turn", "duplicate")


@dataclass(frozen=True)
class QualityScore:
    """The weighted score and the counts it was computed from."""

    score: float
    messages: int  # user and assistant messages; a system prompt is not counted
    assistant_chars: int
    persona_hits: int  # occurrences of persona markers in assistant messages
    questions: int  # "?" characters in user messages
    agent_hits: int  # occurrences of agent-like patterns in assistant messages


@dataclass(frozen=True)
class ScoredConversation:
    """One curated conversation as the mix saw it."""

    conversation: Conversation
    quality: QualityScore
    rank: int | None  # 1 = best among the distinct curated conversations; None for a duplicate
    selected: bool
    duplicate_of: int | None  # index of the earlier curated conversation it repeats


@dataclass(frozen=True)
class Mix:
    examples: tuple[Conversation, ...]  # selected curated in file order, then chosen synthetic in file order
    curated_count: int
    synthetic_count: int
    synthetic_requested: int  # what `ratio` asked for; more than synthetic_count when the file ran short
    achieved_ratio: float  # synthetic_count / len(examples)
    scores: tuple[ScoredConversation, ...]  # every curated conversation, in file order
    duplicates_removed: int  # from both candidate pools
    digest: str  # sha256 of the canonical JSON of `examples` (roles and contents, in order)

    def short_of_synthetic(self, ratio: float) -> str:
        """A warning when the synthetic file held fewer usable conversations than `ratio` asked for: every
        larger ratio then trains on this same data, so a sweep over it is flat there. "" when it did not."""
        if self.synthetic_requested <= self.synthetic_count:
            return ""
        return (f"synthetic ratio {ratio:g} asked for {self.synthetic_requested} synthetic conversations; the file "
                f"has {self.synthetic_count} usable, so {self.achieved_ratio:.2f} was reached and any larger "
                f"ratio trains on the same data")


@dataclass(frozen=True)
class Finding:
    source: str
    index: int
    kind: str  # one of LINT_KINDS
    detail: str


# --- matching ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    words = phrase.split()
    if not words:
        return None
    body = r"\s+".join(re.escape(word) for word in words)
    # Boundaries only where the phrase itself starts or ends with a word character: "Next.js" must not
    # match "Next.jsx", but "<|user|>" must still match "<|user|>Hello".
    head = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    tail = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    return re.compile(head + body + tail, re.IGNORECASE)


def count_phrase(text: str, phrase: str) -> int:
    """Occurrences of `phrase` in `text`: case-insensitive, on word boundaries, any run of whitespace
    matching a space in the phrase."""
    pattern = _phrase_pattern(phrase)
    return 0 if pattern is None else sum(1 for _ in pattern.finditer(text))


def contains_phrase(text: str, phrase: str) -> bool:
    pattern = _phrase_pattern(phrase)
    return pattern is not None and pattern.search(text) is not None


def find_phrase(text: str, phrase: str) -> list[re.Match[str]]:
    """Every occurrence of `phrase`, matched as `count_phrase` matches it."""
    pattern = _phrase_pattern(phrase)
    return [] if pattern is None else list(pattern.finditer(text))


# --- quality ----------------------------------------------------------------------------------------


def quality_score(
    conv: Conversation,
    weights: Mapping[str, float],
    persona_markers: Sequence[str],
    agent_patterns: Sequence[str],
) -> QualityScore:
    """message_count·messages + length_per_100·(assistant chars / 100) + personality·persona hits
    + questions·("?" in user turns) − agent_penalty·agent-like hits.

    Hits are occurrences, counted per message. Missing weights take DEFAULT_WEIGHTS."""
    w = _weights(weights)
    said = [m.content for m in conv.messages if m.role == "assistant"]
    asked = [m.content for m in conv.messages if m.role == "user"]
    messages = sum(1 for m in conv.messages if m.role != "system")
    assistant_chars = sum(len(text) for text in said)
    persona_hits = sum(count_phrase(text, marker) for text in said for marker in persona_markers)
    agent_hits = sum(count_phrase(text, pattern) for text in said for pattern in agent_patterns)
    questions = sum(text.count("?") for text in asked)
    score = (
        w["message_count"] * messages
        + w["length_per_100"] * assistant_chars / 100
        + w["personality"] * persona_hits
        + w["questions"] * questions
        - w["agent_penalty"] * agent_hits
    )
    return QualityScore(
        score=score,
        messages=messages,
        assistant_chars=assistant_chars,
        persona_hits=persona_hits,
        questions=questions,
        agent_hits=agent_hits,
    )


def _weights(weights: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(weights) - set(DEFAULT_WEIGHTS))
    if unknown:
        raise BadInput(f"scoring: unknown weight {', '.join(unknown)}; expected some of {', '.join(DEFAULT_WEIGHTS)}")
    return {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in weights.items()}}


# --- the mix ----------------------------------------------------------------------------------------


def build_mix(
    curated: Sequence[Conversation],
    synthetic: Sequence[Conversation],
    *,
    select_top: int | None,
    ratio: float,
    weights: Mapping[str, float],
    persona_markers: Sequence[str],
    agent_patterns: Sequence[str],
    seed: int = 0,
) -> Mix:
    """The examples a run trains on.

    Curated: duplicates dropped (the first one kept), the rest ranked by quality score (ties by file
    position), the best `select_top` kept (all when None). Synthetic: duplicates of a kept curated
    example or of an earlier synthetic one dropped, then round_half_up(n_curated · ratio / (1 − ratio))
    taken, so that synthetic is `ratio` of the final set, or all of them when there are too few.
    Which synthetic ones is decided by a seeded hash of each one's text, not by its quality score
    (the score was designed for the curated set): the choice does not move when other records are
    added to the file, and a larger ratio keeps every example a smaller one chose.

    `select_top` and `ratio` are a hypothesis's, whose schema holds their ranges.
    """
    _weights(weights)

    qualities = [quality_score(c, weights, persona_markers, agent_patterns) for c in curated]
    first_by_key: dict[str, int] = {}
    duplicate_of: list[int | None] = []
    for c in curated:
        key = _dedupe_key(c)
        duplicate_of.append(first_by_key.get(key))
        first_by_key.setdefault(key, c.index)
    distinct = [pos for pos in range(len(curated)) if duplicate_of[pos] is None]
    ranked = sorted(distinct, key=lambda pos: (-qualities[pos].score, curated[pos].index))
    keep = set(ranked if select_top is None else ranked[:select_top])
    rank = {pos: r for r, pos in enumerate(ranked, start=1)}
    scores = tuple(
        ScoredConversation(
            conversation=c,
            quality=qualities[pos],
            rank=rank.get(pos),
            selected=pos in keep,
            duplicate_of=duplicate_of[pos],
        )
        for pos, c in enumerate(curated)
    )
    chosen_curated = [curated[pos] for pos in sorted(keep)]
    curated_removed = len(curated) - len(distinct)

    seen = {_dedupe_key(c) for c in chosen_curated}
    pool: list[Conversation] = []
    for c in synthetic:
        key = _dedupe_key(c)
        if key not in seen:
            seen.add(key)
            pool.append(c)
    synthetic_removed = len(synthetic) - len(pool)

    requested = synthetic_needed(len(chosen_curated), ratio)
    by_lot = sorted(pool, key=lambda c: (_lot(seed, c), c.index))
    chosen_synthetic = sorted(by_lot[:requested], key=lambda c: c.index)

    examples = tuple(chosen_curated) + tuple(chosen_synthetic)
    return Mix(
        examples=examples,
        curated_count=len(chosen_curated),
        synthetic_count=len(chosen_synthetic),
        synthetic_requested=requested,
        achieved_ratio=len(chosen_synthetic) / len(examples) if examples else 0.0,
        scores=scores,
        duplicates_removed=curated_removed + synthetic_removed,
        digest=digest(examples),
    )


def heldout(candidates: Sequence[Conversation], mix: Mix) -> tuple[list[Conversation], int]:
    """The held-out conversations that are really held out: one that repeats a training example (or an
    earlier held-out one) would measure memory, not generalisation, so it is dropped and counted."""
    seen = {_dedupe_key(c) for c in mix.examples}
    kept, dropped = [], 0
    for c in candidates:
        key = _dedupe_key(c)
        if key in seen:
            dropped += 1
            continue
        seen.add(key)
        kept.append(c)
    return kept, dropped


def digest(examples: Iterable[Conversation]) -> str:
    """sha256 of the canonical JSON of the examples: roles and contents, in order; nothing else."""
    canonical = json.dumps([to_chat(c) for c in examples], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _normalize(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _dedupe_key(conv: Conversation) -> str:
    return "\x1e".join(f"{m.role}\x1f{_normalize(m.content)}" for m in conv.messages)


def _lot(seed: int, conv: Conversation) -> str:
    return hashlib.sha256(f"{seed}\x00{_dedupe_key(conv)}".encode()).hexdigest()


# --- lint -------------------------------------------------------------------------------------------


def lint(
    conversations: Iterable[Conversation],
    *,
    template_markers: Sequence[str],
    agent_patterns: Sequence[str],
) -> list[Finding]:
    """Problems worth seeing before training: one finding per message and marker or pattern, per empty
    message, and per conversation that repeats an earlier one (within or across sources)."""
    findings: list[Finding] = []
    first_seen: dict[str, Conversation] = {}
    for conv in conversations:
        for n, m in enumerate(conv.messages):
            where = f"message {n} ({m.role})"
            if not m.content.strip():
                findings.append(Finding(conv.source, conv.index, "empty_turn", f"{where} is empty"))
                continue
            for marker in template_markers:
                if contains_phrase(m.content, marker):
                    findings.append(Finding(conv.source, conv.index, "template_token", f"{where}: {marker!r}"))
            if m.role == "assistant":
                for pattern in agent_patterns:
                    if contains_phrase(m.content, pattern):
                        findings.append(Finding(conv.source, conv.index, "agent_like", f"{where}: {pattern!r}"))
        key = _dedupe_key(conv)
        if key in first_seen:
            earlier = first_seen[key]
            # Counted from 1, as `hyp data` numbers the findings themselves and the conversations' ids.
            findings.append(Finding(conv.source, conv.index, "duplicate",
                                    f"same as {earlier.source} #{earlier.index + 1}"))
        else:
            first_seen[key] = conv
    return findings


def lint_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Metric name → number of findings, every kind present (0 when none)."""
    counts = {f"lint.{kind}": 0 for kind in LINT_KINDS}
    for finding in findings:
        counts[f"lint.{finding.kind}"] += 1
    return counts
