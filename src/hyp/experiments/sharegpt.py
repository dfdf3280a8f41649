"""Reading ShareGPT JSON files (a list of {"conversations": [{"from", "value"}], "id"?}) into
Conversations: checked with the stdlib as they are parsed, so every error names the file, line and field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hyp.errors import BadInput
from hyp.files import parse_json, read_input

Role = Literal["system", "user", "assistant"]

# ShareGPT's speaker names, and the chat roles a trainer's template expects.
ROLES_BY_SPEAKER: dict[str, Role] = {"system": "system", "human": "user", "gpt": "assistant"}

# A single conversation above this is almost certainly a broken export (a whole log pasted into one
# turn); it would be truncated to max_seq_length anyway, and it makes the quality score meaningless.
MAX_CONVERSATION_CHARS = 1_000_000


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


def to_chat(conv: Conversation) -> list[dict[str, str]]:
    """The conversation as the trainer's chat template takes it."""
    return [{"role": m.role, "content": m.content} for m in conv.messages]


def read_conversations(path: Path | str, *, source: str | None = None) -> list[Conversation]:
    """Every conversation in a ShareGPT JSON file, in file order, labelled `source` (default: the path).

    The file is read and parsed once; each record is checked before it becomes a Conversation.
    """
    path = Path(path)
    text = _read_text(path)
    records = _parse(path, text)
    label = str(path) if source is None else source
    conversations = []
    for i, record in enumerate(records):
        _check_record(path, text, i, record)
        conversations.append(_conversation(record, label, i))
    return conversations


def _read_text(path: Path) -> str:
    raw = read_input(path)  # never a FIFO or /dev/zero (a hang, or memory without end), at most 100 MB
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
        data = parse_json(text, str(path))  # never a RecursionError: 1000 `[` are bad input
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


def _conversation(row: dict, source: str, index: int) -> Conversation:
    messages = tuple(
        Message(role=ROLES_BY_SPEAKER[turn["from"]], content=turn["value"]) for turn in row["conversations"]
    )
    record_id = row.get("id")
    return Conversation(messages=messages, source=source, index=index, id=None if record_id is None else str(record_id))
