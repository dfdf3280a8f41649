"""The LLM judge's client: scores answers through an OpenAI-compatible chat endpoint, with a cache
and a rubric fallback, and merges its scores over the rubric's (SPEC §4, Judge and Precedence)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

from hyp.errors import BadInput
from hyp.experiments.rubric import AnswerScore
from hyp.files import parse_json, write_atomic
from hyp.hypotheses.criteria import CRITERIA
from hyp.hypotheses.judging import JudgeSettings, render_prompt
from hyp.hypotheses.schema import EvalSuite, Question
from hyp.store.secrets import redact

DEFAULT_TIMEOUT_S = 60.0
MAX_REPLY_BYTES = 1 << 20  # a chat completion of one JSON object is a few hundred bytes
# A whole reply wrapped in one Markdown code fence, as many instruct models write JSON even when told not to.
_FENCE = re.compile(r"\A```(?:json)?[ \t]*\n?(?P<body>.*?)\n?```\Z", re.DOTALL | re.IGNORECASE)


@dataclass
class JudgeResult:
    scores: list[dict[str, tuple[int, str]]]  # per answer: criterion -> (score, rationale), judged ones only
    requests: int = 0  # HTTP requests made, retries included
    cached: int = 0  # judgements read from the cache
    failed_before: int = 0  # judgements not asked: they failed before (cached, or earlier in this command)
    warnings: list[str] = field(default_factory=list)  # for the caller to print; no key in them


class _Unreachable(Exception):
    """The endpoint cannot answer anything (down, too slow, wrong URL, model or key): stop asking.
    `transient`: worth one more try (a server still loading its model times out once)."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class _BadReply(Exception):
    """This one reply was unusable: retry it, then leave the judgement to the rubric."""


class _BadGrade(_BadReply):
    """A well-formed reply whose text breaks the rules (not one JSON object, a score off the scale): the
    model's own answer to this prompt, which it gives again at temperature 0."""


def judge_answers(settings: JudgeSettings, items: list[tuple[Question, str]], suite: EvalSuite,
                  cache_dir: Path, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                  failed: dict[str, str] | None = None) -> JudgeResult:
    """Each answer scored by the judge on each of its criteria, from the cache where it holds one.

    A judgement that fails twice is left to the rubric (SPEC §4), and is not asked again for nothing:
    - a bad grade (the model's reply breaks the rules twice) is cached like a score, marked failed,
      under the same key: at temperature 0 the same (model, prompt, answer) gets the same reply, so
      asking on every pass would cost two requests per judgement and change nothing. It is asked
      again when the judge's model or prompt changes (another key), when `base_url` changes (another
      server may serve the model differently), or when its cache file is deleted (the warning names it);
    - any other failure (HTTP 5xx, a broken reply, an endpoint down) may pass, so it is not cached,
      but `failed` (one dict per command, see Scorers) remembers it: no later set of answers in the
      same command asks that judgement again or waits again for an endpoint that did not answer."""
    failed = {} if failed is None else failed
    result = JudgeResult(scores=[{} for _ in items])
    labels = _labels(items)
    todo: list[tuple[int, str, list[dict], str, Path]] = []
    for i, (question, answer) in enumerate(items):
        for criterion in settings.criteria:
            messages = render_prompt(criterion, question, suite, answer)
            key = _cache_key(settings.model, messages)
            path = Path(cache_dir) / f"{key}.json"
            hit = _read_cache(path, settings.base_url)
            if isinstance(hit, tuple):
                result.scores[i][criterion] = hit
                result.cached += 1
            elif hit is not None or key in failed:
                why = f"{hit} (asked twice on an earlier pass; delete {path} to ask again)" if hit is not None \
                    else f"{failed[key]} (asked twice earlier in this command)"
                result.failed_before += 1
                result.warnings.append(f"judge: {labels[i]} {criterion}: {why}; the rubric scores it")
            else:
                todo.append((i, criterion, messages, key, path))
    if not todo:
        return result
    down = _UNREACHABLE + settings.base_url
    if down in failed:
        result.warnings.append(f"judge: {settings.base_url}: {failed[down]} (earlier in this command); the rubric "
                               f"scores the {len(todo)} judgement{'s' if len(todo) != 1 else ''} left")
        return result
    key = _api_key(settings)  # only now: rescoring from a full cache needs no key at all

    def scrub(text: str) -> str:
        return redact(text.replace(key, f"[{settings.api_key_env} redacted]") if key else text)

    for n, (i, criterion, messages, cache_key, path) in enumerate(todo):
        try:
            score, rationale = _ask_twice(settings, key, messages, timeout_s, result)
        except _BadReply as e:
            reason = scrub(str(e))
            failed[cache_key] = reason
            if isinstance(e, _BadGrade):
                write_atomic(path, json.dumps({"model": settings.model, "criterion": criterion,
                                               "question": items[i][0].id, "failed": reason,
                                               "base_url": settings.base_url}, ensure_ascii=False))
            result.warnings.append(f"judge: {labels[i]} {criterion}: {reason} (asked twice); the rubric scores it")
            continue
        except _Unreachable as e:
            left = len(todo) - n
            failed[down] = scrub(str(e))
            result.warnings.append(scrub(f"judge: {settings.base_url}: {e}; the rubric scores the {left} "
                                         f"judgement{'s' if left != 1 else ''} left"))
            break
        rationale = scrub(rationale)
        result.scores[i][criterion] = (score, rationale)
        write_atomic(path, json.dumps({"model": settings.model, "criterion": criterion, "question": items[i][0].id,
                                       "score": score, "rationale": rationale}, ensure_ascii=False))
    return result


_UNREACHABLE = "unreachable "  # the key in `failed` of an endpoint that did not answer, before its URL


def apply_judgements(rubric: list[AnswerScore], judged: list[dict]) -> tuple[list[AnswerScore], list[dict[str, str]]]:
    """The judge's score over the rubric's, criterion by criterion, and where each final score came from."""
    if len(rubric) != len(judged):
        raise ValueError(f"{len(rubric)} rubric scores but {len(judged)} judgements")
    merged, sources = [], []
    for score, judgement in zip(rubric, judged, strict=True):
        taken = {c: judgement[c][0] for c in CRITERIA if c in judgement}
        merged.append(replace(score, **taken))
        sources.append({c: "judge" if c in taken else "rubric" for c in CRITERIA})
    return merged, sources


# --- the exchange ---------------------------------------------------------------------------------------


def _ask_twice(settings: JudgeSettings, key: str | None, messages: list[dict], timeout_s: float,
               result: JudgeResult) -> tuple[int, str]:
    """SPEC §4: anything but one JSON object is asked again, once. Raises the second failure."""
    failure: Exception | None = None
    for _ in range(2):
        result.requests += 1
        try:
            return _parse(_ask(settings, key, messages, timeout_s))
        except _BadReply as e:
            failure = e
        except _Unreachable as e:
            if not e.transient:
                raise
            failure = e
    raise failure


def _api_key(settings: JudgeSettings) -> str | None:
    if settings.api_key_env is None:
        return None
    key = os.environ.get(settings.api_key_env, "").strip()
    if not key:
        raise BadInput(f"judge: the environment variable {settings.api_key_env} (judge.api_key_env in "
                       f"hyp.toml) is not set; export the API key in it, or remove api_key_env")
    # http.client would put an invalid header value, the key, into its exception message.
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in key):
        raise BadInput(f"judge: the value of {settings.api_key_env} has spaces or characters an HTTP "
                       f"header cannot carry; it is not an API key")
    return key


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the Authorization header to wherever it points; fail instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _ask(settings: JudgeSettings, key: str | None, messages: list[dict], timeout_s: float) -> str:
    """The reply's text. No `response_format`: LM Studio answers json_object with a 400 and servers
    differ in what they make of it; the prompt, a strict parser and one retry work with all of them."""
    body = json.dumps({"model": settings.model, "messages": messages, "temperature": 0}).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(f"{settings.base_url}/chat/completions", data=body, headers=headers,
                                     method="POST")
    # The socket timeout bounds the connect and each read; the deadline bounds a server that drips bytes.
    deadline = time.monotonic() + timeout_s
    try:
        with _OPENER.open(request, timeout=timeout_s) as response:
            raw = b""
            while chunk := response.read(65536):
                raw += chunk
                if len(raw) > MAX_REPLY_BYTES:
                    raise _BadReply(f"a reply over {MAX_REPLY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise _Unreachable(f"no complete reply within {timeout_s:g} s", transient=True)
    except urllib.error.HTTPError as e:
        detail = _error_detail(e)
        # Wrong URL, model or key is wrong for every judgement alike: asking on would only repeat it.
        if e.code in (401, 403, 404) or 300 <= e.code < 400:
            raise _Unreachable(f"HTTP {e.code}{detail}") from None
        raise _BadReply(f"HTTP {e.code}{detail}") from None
    except http.client.HTTPException as e:
        raise _BadReply(f"a broken HTTP reply ({type(e).__name__})") from None
    except ValueError as e:
        raise _Unreachable(f"not a usable URL ({e})") from None
    except OSError as e:  # URLError, refused, reset, timed out
        reason = getattr(e, "reason", e)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            raise _Unreachable(f"no reply within {timeout_s:g} s", transient=True) from None
        raise _Unreachable(f"cannot connect ({reason})", transient=True) from None
    try:
        return parse_json(raw, "the reply")["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError, BadInput):
        raise _BadReply(f"not a chat completion: {_clip(raw.decode('utf-8', 'replace'))}") from None


def _error_detail(e: urllib.error.HTTPError) -> str:
    try:
        text = e.read(2000).decode("utf-8", "replace").strip()
    except Exception:  # noqa: BLE001  (the status alone still says enough)
        text = ""
    return f": {_clip(text)}" if text else ""


def _parse(content: object) -> tuple[int, str]:
    """(score, rationale) from exactly one JSON object, which may sit alone in one code fence."""
    if not isinstance(content, str):
        raise _BadGrade("a reply without text")
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group("body").strip()
    try:
        reply = parse_json(text, "the reply")
    except (ValueError, BadInput):
        raise _BadGrade(f"not one JSON object: {_clip(content)}") from None
    if not isinstance(reply, dict):
        raise _BadGrade(f"not one JSON object: {_clip(content)}")
    score, rationale = reply.get("score"), reply.get("rationale")
    # bool is an int in Python; `true` is not a score.
    if type(score) is not int or not 0 <= score <= 2:
        raise _BadGrade(f"score {score!r} is not 0, 1 or 2")
    if not isinstance(rationale, str):
        raise _BadGrade("no string rationale")
    return score, rationale.strip()


def _clip(text: str, n: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --- the cache ------------------------------------------------------------------------------------------


def _cache_key(model: str, messages: list[dict]) -> str:
    # The messages hold the prompt and the answer, so this is SPEC's (model, prompt, answer).
    canonical = json.dumps({"model": model, "messages": messages}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _read_cache(path: Path, base_url: str) -> tuple[int, str] | str | None:
    """(score, rationale); the reason of a bad grade cached from this `base_url`; None when absent or damaged."""
    try:
        data = parse_json(path.read_text(encoding="utf-8"), str(path))
        if "failed" in data:
            reason = data["failed"]
            return reason if isinstance(reason, str) and data.get("base_url") == base_url else None
        score, rationale = data["score"], data["rationale"]
    except (OSError, ValueError, KeyError, TypeError, BadInput):
        return None  # absent or damaged: ask again
    if type(score) is not int or not 0 <= score <= 2 or not isinstance(rationale, str):
        return None
    return score, rationale


def _labels(items: list[tuple[Question, str]]) -> list[str]:
    """Q3, or Q3 sample 2 where a question was answered more than once."""
    counts: dict[str, int] = {}
    for q, _ in items:
        counts[q.id] = counts.get(q.id, 0) + 1
    seen: dict[str, int] = {}
    labels = []
    for q, _ in items:
        seen[q.id] = seen.get(q.id, 0) + 1
        labels.append(q.id if counts[q.id] == 1 else f"{q.id} sample {seen[q.id]}")
    return labels
