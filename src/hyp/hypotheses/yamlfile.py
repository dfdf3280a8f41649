"""Safe YAML reading that remembers where every value came from.

Files are composed into nodes and built by hand, so no tag can construct a Python object, no
anchor can expand into a bomb, and every error can name file:line and the field.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyp.errors import BadInput

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}
# Hypothesis and suite files are a few kilobytes (a 1,000-question suite is ~200 KB and ~15,000 values);
# parsing YAML in pure Python costs ~40 us a value, so a bigger file is a mistake that would stall every
# command that reads the lab (`hyp list` reads them all): refused before parsing, by size and by count.
MAX_YAML_BYTES = 1_000_000
_MAX_NODES = 50_000
# Far deeper than any hypothesis or suite; deeper nesting would exhaust Python's stack while parsing.
_MAX_DEPTH = 50


@dataclass
class Document:
    """Plain data (dict/list/str/int/float/bool/None/date) plus the line of every path."""

    path: Path
    data: Any
    lines: dict[tuple, int] = field(default_factory=dict)

    def line_of(self, loc: tuple) -> int:
        """Line (1-based) of the deepest part of `loc` that exists in the file."""
        loc = tuple(loc)
        while loc and loc not in self.lines:
            loc = loc[:-1]
        return self.lines.get(loc, 1)

    def where(self, loc: tuple) -> str:
        return f"{self.path}:{self.line_of(loc)}"


def dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_yaml(path: Path, *, limit: int = MAX_YAML_BYTES) -> Document:
    from hyp.files import read_input

    # A FIFO or /dev/zero named as a suite must not hang or fill memory (read_input); a 50 MB file must not
    # take minutes to parse: its size is named before a byte is read.
    try:
        st = os.stat(path)
    except OSError:
        st = None  # read_input says why
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_size > limit:
        raise BadInput(f"{path}: is {st.st_size / 1e6:,.1f} MB, more than the {limit / 1e6:g} MB a "
                       "hypothesis or suite file may be")
    raw = read_input(Path(path), limit=limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise BadInput(f"{path}:{line}: not valid UTF-8 (byte {e.start})") from None
    return parse_yaml(text, Path(path))


def parse_yaml(text: str, path: Path) -> Document:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    deep = _flow_too_deep(text)
    if deep:
        raise BadInput(f"{path}:{deep}: document: nested more than {_MAX_DEPTH} levels deep")
    yaml = YAML(typ="rt")
    yaml.Composer = _counting_composer(path)
    try:
        node = yaml.compose(io.StringIO(text))
    except RecursionError:
        # Composing recurses once per level: hundreds of levels exhaust the stack before _build can count.
        raise BadInput(f"{path}: document: nested more than {_MAX_DEPTH} levels deep") from None
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        problem = (e.problem or e.context or "invalid YAML").strip()
        raise BadInput(f"{path}:{line}: YAML syntax error: {problem}") from None
    except YAMLError as e:
        raise BadInput(f"{path}: YAML syntax error: {str(e).splitlines()[0]}") from None
    doc = Document(path=path, data=None)
    if node is None:
        doc.data = {}
        return doc
    counter = [0]
    doc.data = _build(node, (), doc, counter)
    return doc


def _counting_composer(path: Path):
    """ruamel's Composer, stopping at the (_MAX_NODES + 1)th node: a flow list of two million numbers is
    refused after the first 50,000, in a second or two, not after composing all of it (a minute and more)."""
    from ruamel.yaml.composer import Composer

    class Counting(Composer):
        composed = 0

        def compose_node(self, parent, index):
            self.composed += 1
            if self.composed > _MAX_NODES:
                line = self.parser.peek_event().start_mark.line + 1
                raise BadInput(f"{path}:{line}: document: too large (more than {_MAX_NODES:,} values)")
            return super().compose_node(parent, index)

    return Counting


def _flow_too_deep(text: str) -> int | None:
    """The line where `[` / `{` nesting passes _MAX_DEPTH, or None: found in one pass, where letting the
    parser find it takes seconds of recursion (`[[[[...` a thousand deep)."""
    depth, line, quote, i = 0, 1, None, 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line += 1
        elif quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > _MAX_DEPTH:
                return line
        elif ch in "]}":
            depth = max(depth - 1, 0)
        elif ch == "#" and (i == 0 or text[i - 1] in " \t\n"):
            i = text.find("\n", i) - 1  # a comment nests nothing
            if i < 0:
                break
        i += 1
    return None


def _build(node, loc: tuple, doc: Document, counter: list[int]) -> Any:
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    counter[0] += 1
    if counter[0] > _MAX_NODES:
        raise BadInput(f"{doc.path}: document: too large (more than {_MAX_NODES:,} values)")
    line = node.start_mark.line + 1
    if len(loc) > _MAX_DEPTH:
        raise BadInput(f"{doc.path}:{line}: {dotted(loc[:3])}: nested more than {_MAX_DEPTH} levels deep")
    doc.lines.setdefault(loc, line)
    if getattr(node, "anchor", None):
        # Aliases are how "billion laughs" bombs are built; hypothesis files never need them.
        raise BadInput(f"{doc.path}:{line}: {dotted(loc) or 'document'}: YAML anchors and aliases are not allowed")
    tag = str(node.tag) if node.tag is not None else ""
    if tag and tag not in _PLAIN_TAGS:
        raise BadInput(f"{doc.path}:{line}: {dotted(loc) or 'document'}: YAML tag {tag!r} is not allowed")
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise BadInput(f"{doc.path}:{key_node.start_mark.line + 1}: {dotted(loc)}: keys must be plain")
            key = _scalar(key_node, loc, doc)
            if key == "<<":
                raise BadInput(f"{doc.path}:{key_node.start_mark.line + 1}: merge keys are not allowed")
            key = str(key)
            if key in out:
                raise BadInput(f"{doc.path}:{key_node.start_mark.line + 1}: {dotted(loc + (key,))}: duplicate key")
            child = loc + (key,)
            doc.lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, doc, counter)
        return out
    if isinstance(node, SequenceNode):
        return [_build(item, loc + (i,), doc, counter) for i, item in enumerate(node.value)]
    return _scalar(node, loc, doc)


_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


def _scalar(node, loc: tuple, doc: Document) -> Any:
    tag = str(node.tag)
    value = node.value
    if node.style in ("'", '"', "|", ">"):
        # ruamel marks folded line breaks with BEL characters for round-tripping; the text has none.
        return value.replace("\a", "")
    try:
        if tag.endswith(":null"):
            return None
        if tag.endswith(":bool"):
            return value.lower() in ("true", "yes", "on")
        if tag.endswith(":int"):
            return int(value.replace("_", ""), 0) if not _INT.match(value) else int(value.replace("_", ""))
        if tag.endswith(":float"):
            low = value.lower().replace("_", "")
            if low in (".inf", "+.inf"):
                return float("inf")
            if low == "-.inf":
                return float("-inf")
            if low == ".nan":
                return float("nan")
            return float(low)
        if tag.endswith(":timestamp"):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value
    except ValueError:
        return value
    return value


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
