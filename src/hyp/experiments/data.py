"""The training data of a hypothesis: reading ShareGPT files, the quality score, the curated/synthetic
mix a run trains on (with its digest), and the lint findings `hyp data` shows and a run logs.

Everything here is pure except `read_conversations`, which is the only place that touches files and the
only place that imports `datasets` (slow to import, so it loads at first use).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hyp.errors import BadInput

Role = Literal["system", "user", "assistant"]

# ShareGPT's speaker names, and the chat roles a trainer's template expects.
ROLES_BY_SPEAKER: dict[str, Role] = {"system": "system", "human": "user", "gpt": "assistant"}

# A single conversation above this is almost certainly a broken export (a whole log pasted into one
# turn); it would be truncated to max_seq_length anyway, and it makes the quality score meaningless.
MAX_CONVERSATION_CHARS = 1_000_000

# The weights of the `scoring` block in a hypothesis file, with the values the spec shows.
DEFAULT_WEIGHTS: dict[str, float] = {
    "message_count": 2.0,
    "length_per_100": 1.0,
    "personality": 3.0,
    "questions": 0.5,
    "agent_penalty": 10.0,
}

LINT_KINDS = ("template_token", "agent_like", "empty_turn", "duplicate")


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Conversation:
    messages: tuple[Message, ...]
    source: str  # "curated", "synthetic", or the file it came from
    index: int  # position in its file, from 0
    id: str | None = None  # the record's optional "id", as text


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


# --- reading ----------------------------------------------------------------------------------------


def read_conversations(path: Path | str, *, source: str | None = None) -> list[Conversation]:
    """Read a ShareGPT JSON file (a list of {"conversations": [{"from", "value"}], "id"?}).

    The structure is checked with the stdlib first, so every error names the file, the line and the
    field; then `datasets` reads the rows, with its cache in a temporary directory so that nothing is
    written into the lab or the user's home.
    """
    path = Path(path)
    text = _read_text(path)
    records = _parse(path, text)
    for i, record in enumerate(records):
        _check_record(path, text, i, record)
    rows = _load_rows(path)
    if len(rows) != len(records):
        raise BadInput(f"{path}: datasets read {len(rows)} records where the file holds {len(records)}")
    label = str(path) if source is None else source
    return [_conversation(row, label, i) for i, row in enumerate(rows)]


def _read_text(path: Path) -> str:
    if not path.exists():
        raise BadInput(f"{path}: no such file")
    if path.is_dir():
        raise BadInput(f"{path}: is a directory, expected a JSON file")
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise BadInput(f"{path}:{line}: not valid UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start})") from None
    if not text.strip():
        raise BadInput(f"{path}: is empty, expected a JSON list of conversations")
    return text


def _parse(path: Path, text: str) -> list:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        hint = ""
        if e.msg == "Extra data" and text.lstrip().startswith("{"):
            hint = " (one object per line? hyp reads a JSON list of conversations)"
        raise BadInput(f"{path}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}{hint}") from None
    if not isinstance(data, list):
        raise BadInput(f"{path}: the top level must be a list of conversations, not {_kind(data)}")
    if not data:
        raise BadInput(f"{path}: holds no conversations (an empty list)")
    return data


def _check_record(path: Path, text: str, i: int, record: object) -> None:
    def fail(field: str, problem: str) -> BadInput:
        where = f"record {i}" + (f", {field}" if field else "")
        return BadInput(f"{path}:{_record_line(text, i)}: {where}: {problem}")

    if not isinstance(record, dict):
        raise fail("", f"expected an object with 'conversations', got {_kind(record)}")
    if "conversations" not in record:
        hint = " (found 'messages': hyp reads ShareGPT from/value turns)" if "messages" in record else ""
        raise fail("", f"missing field 'conversations'{hint}")
    turns = record["conversations"]
    if not isinstance(turns, list):
        raise fail("conversations", f"expected a list of turns, got {_kind(turns)}")
    if not turns:
        raise fail("conversations", "is empty")
    chars = 0
    for j, turn in enumerate(turns):
        if not isinstance(turn, dict):
            raise fail(f"conversations[{j}]", f"expected an object with 'from' and 'value', got {_kind(turn)}")
        speaker = turn.get("from")
        if speaker not in ROLES_BY_SPEAKER:
            got = "missing" if "from" not in turn else repr(speaker)
            raise fail(f"conversations[{j}].from", f"{got}, expected one of {', '.join(ROLES_BY_SPEAKER)}")
        value = turn.get("value")
        if not isinstance(value, str):
            got = "missing" if "value" not in turn else f"got {_kind(value)}"
            raise fail(f"conversations[{j}].value", f"{got}, expected a string")
        chars += len(value)
    if chars > MAX_CONVERSATION_CHARS:
        raise fail("conversations", f"{chars:,} characters of text, more than the limit of {MAX_CONVERSATION_CHARS:,}")


def _record_line(text: str, index: int) -> int:
    """The line on which record `index` of a valid top-level JSON list starts (only on the error path)."""
    decoder = json.JSONDecoder()
    skip = re.compile(r"[ \t\n\r]*")
    pos = skip.match(text, text.index("[") + 1).end()
    for _ in range(index):
        _, pos = decoder.raw_decode(text, pos)
        pos = skip.match(text, pos).end() + 1  # past the comma
        pos = skip.match(text, pos).end()
    return text.count("\n", 0, pos) + 1


def _kind(value: object) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _load_rows(path: Path) -> list[dict]:
    import tempfile

    import datasets

    bars_were_on = datasets.is_progress_bar_enabled()
    verbosity = datasets.logging.get_verbosity()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    try:
        with tempfile.TemporaryDirectory(prefix="hyp-datasets-") as cache:
            table = datasets.load_dataset(
                "json", data_files=str(path.resolve()), split="train", cache_dir=cache, keep_in_memory=True
            )
            return table.to_list()
    except Exception as e:  # datasets and pyarrow raise many types; all mean the same to the user
        raise BadInput(f"{path}: datasets could not read it: {e}") from None
    finally:
        datasets.logging.set_verbosity(verbosity)
        if bars_were_on:
            datasets.enable_progress_bars()


def _conversation(row: dict, source: str, index: int) -> Conversation:
    messages = tuple(
        Message(role=ROLES_BY_SPEAKER[turn["from"]], content=turn["value"]) for turn in row["conversations"]
    )
    record_id = row.get("id")
    return Conversation(messages=messages, source=source, index=index, id=None if record_id is None else str(record_id))


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
    """
    if select_top is not None and select_top < 1:
        raise BadInput(f"dataset.curated.select_top: {select_top}, expected at least 1")
    if not (0.0 <= ratio < 1.0):  # also rejects NaN
        raise BadInput(f"dataset.synthetic.ratio: {ratio}, expected a fraction in [0, 1)")
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


def synthetic_needed(curated_count: int, ratio: float) -> int:
    """How many synthetic examples make them `ratio` of the final set (100 curated at 0.33 → 49)."""
    if ratio <= 0:
        return 0
    return math.floor(curated_count * ratio / (1 - ratio) + 0.5)


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
            findings.append(Finding(conv.source, conv.index, "duplicate", f"same as {earlier.source} #{earlier.index}"))
        else:
            first_seen[key] = conv
    return findings


def lint_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Metric name → number of findings, every kind present (0 when none)."""
    counts = {f"lint.{kind}": 0 for kind in LINT_KINDS}
    for finding in findings:
        counts[f"lint.{finding.kind}"] += 1
    return counts


def to_chat(conv: Conversation) -> list[dict[str, str]]:
    """The conversation as the trainer's chat template takes it."""
    return [{"role": m.role, "content": m.content} for m in conv.messages]
