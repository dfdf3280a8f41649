"""`hyp record`: results produced elsewhere (hand scores, answers, historical numbers)."""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from pathlib import Path

from hyp.errors import BadInput
from hyp.experiments.rubric import CRITERIA, AnswerScore, evaluation_metrics, manual_score
from hyp.experiments.scoring import (
    Scored,
    Scorers,
    agreement_metrics,
    agreements,
    answer_tags,
    pair_metrics,
    points_by_scorer,
    score_set,
    scores_of,
    set_metrics,
)
from hyp.experiments.vocabulary import lab_scorers
from hyp.files import parse_json, read_input
from hyp.hypotheses.intervals import bounds
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.metric_names import key_problem
from hyp.hypotheses.schema import EvalSuite
from hyp.results.judged import Judged

SCORE_COLUMNS = ("question",) + CRITERIA
# A number as people write one: Python's float() also takes `1_000`, `nan` and `infinity`.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)  # not "１" (full width)


def parse_metrics(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadInput(f"--metric {pair!r}: expected key=value, e.g. score=7.4")
        problem = key_problem(key)
        if problem:
            raise BadInput(f"--metric {key[:60]!r}: the name {problem}")
        if key in out:  # which of two values counts would be a guess: `--metric score=1 --metric score=9`
            raise BadInput(f"--metric {key}: given twice ({out[key]:g} and {value.strip()}); give it once")
        if not _NUMBER.fullmatch(value.strip()):
            raise BadInput(f"--metric {key}: {value!r} is not a number (write it plainly, e.g. 7.4 or 1e-3)")
        number = float(value)
        if not math.isfinite(number):
            raise BadInput(f"--metric {key}: {value!r} is not a finite number")
        low, high = bounds("score", 0) if key == "score" else (-math.inf, math.inf)
        if not low <= number <= high:
            raise BadInput(f"--metric {key}: {value!r} is outside the scale ({low:g} to {high:g})")
        out[key] = number
    return out


def _read_text(path: Path) -> str:
    try:
        return read_input(Path(path)).decode("utf-8-sig")  # spreadsheets save CSV with a BOM
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not valid UTF-8") from None


def parse_scores(path: Path, suite: EvalSuite, *, vocabulary: frozenset[str] = frozenset(),
                 scorers: Scorers | None = None, warn=None) -> tuple[list[AnswerScore], list[AnswerScore] | None]:
    """Hand scores from CSV; with a `response` column the automatic scorers score the same answers too."""
    manual, scored = read_scores(path, suite, vocabulary=vocabulary, scorers=scorers, warn=warn)
    return manual, scored.scores if scored else None


def read_scores(path: Path, suite: EvalSuite, *, vocabulary: frozenset[str] = frozenset(),
                scorers: Scorers | None = None, warn=None) -> tuple[list[AnswerScore], Scored | None]:
    """`parse_scores` with everything the automatic scorers said of the answers (their text, each
    scorer's points, flags), one for one with the hand scores."""
    reader = csv.reader(_read_text(path).splitlines())
    try:
        rows = list(reader)
    except csv.Error as e:  # a field over csv's 131,072 characters, a NUL byte
        raise BadInput(f"{path}:{reader.line_num}: not a CSV row hyp can read ({e}); an answer is scored up to "
                       f"{MAX_RESPONSE_CHARS:,} characters") from None
    if not rows:
        raise BadInput(f"{path}:1: empty file (expected columns {','.join(SCORE_COLUMNS)})")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in SCORE_COLUMNS if c not in header]
    if missing:
        raise BadInput(f"{path}:1: missing column(s) {', '.join(missing)} (expected {','.join(SCORE_COLUMNS)})")
    col = {name: header.index(name) for name in header}
    manual, responses, seen = [], [], set()
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise BadInput(f"{path}:{lineno}: expected {len(header)} columns, found {len(row)}")
        qid = row[col["question"]].strip()
        question = suite.question(qid)
        if question is None:
            raise BadInput(f"{path}:{lineno}: question: {qid!r} is not in suite {suite.name!r}")
        if qid in seen:
            raise BadInput(f"{path}:{lineno}: question: {qid!r} scored twice")
        seen.add(qid)
        points = []
        for c in CRITERIA:
            cell = row[col[c]].strip()
            if cell not in ("0", "1", "2"):
                raise BadInput(f"{path}:{lineno}: {c}: {cell!r} is not a score (0, 1 or 2)")
            points.append(int(cell))
        manual.append(manual_score(qid, *points))
        if "response" in col:
            responses.append((question, _scorable(row[col["response"]], f"{path}:{lineno}: response"), False))
    if not manual:
        raise BadInput(f"{path}: no scored answers")
    if "response" not in col:
        return manual, None
    scored = score_set(responses, scorers or Scorers(suite, vocabulary))
    for warning in scored.warnings:
        (warn or _stderr)(warning)
    return manual, scored


# An answer to one question, as a model writes it, is a few hundred words; the coherence checks read every
# word of it (about 1 s per 400,000 characters), so a file of megabyte "answers" would hold a command for minutes.
MAX_RESPONSE_CHARS = 100_000


def _scorable(response: str, where: str) -> str:
    if len(response) > MAX_RESPONSE_CHARS:
        raise BadInput(f"{where}: {len(response):,} characters; an answer is scored up to {MAX_RESPONSE_CHARS:,}")
    return response


def parse_responses(path: Path, suite: EvalSuite, *, vocabulary: frozenset[str] = frozenset(),
                    scorers: Scorers | None = None, warn=None, samples: int = 1
                    ) -> tuple[list[AnswerScore], list[dict], dict]:
    """Answers from JSON, scored as `hyp run` scores its own; returns scores, answers and their metrics.

    A question answered more often than the hypothesis samples it (`eval.samples`, default once) is refused:
    one good answer pasted eight times must not score eight questions."""
    text = _read_text(path)
    try:
        data = parse_json(text, str(path))  # never a RecursionError: 1000 `[` are bad input
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}:{e.lineno}: not JSON: {e.msg}") from None
    if not isinstance(data, list) or not data:
        raise BadInput(f"{path}: expected a non-empty list of {{\"question\": ..., \"response\": ...}}")
    items, seen = [], {}
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) \
                or not isinstance(item.get("response"), str):
            raise BadInput(f"{path}: [{i}]: expected {{\"question\": str, \"response\": str}}")
        question = suite.question(item["question"])
        if question is None:
            raise BadInput(f"{path}: [{i}].question: {item['question']!r} is not in suite {suite.name!r}")
        _scorable(item["response"], f"{path}: [{i}].response")
        seen.setdefault(question.id, []).append(i)
        if len(seen[question.id]) > samples:
            first = seen[question.id][0]
            raise BadInput(f"{path}: [{i}].question: {question.id!r} answered again (first at [{first}]); "
                           f"give each question {'once' if samples == 1 else f'{samples} times (eval.samples)'}")
        items.append((question, item["response"], bool(item.get("truncated", False))))
    scored = score_set(items, scorers or Scorers(suite, vocabulary))
    for warning in scored.warnings:
        (warn or _stderr)(warning)
    return scored.scores, scored.answers, set_metrics([scored])


def require_every_question(path: Path, suite: EvalSuite, answered: list[str], samples: int = 1) -> None:
    """A partial set would be scored out of fewer points (2 good answers of 8 questions read as 10/10):
    a recorded result answers every question of the suite, as `hyp run` does."""
    missing = [q.id for q in suite.questions if answered.count(q.id) < samples]
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise BadInput(f"{path}: no answer{'s' if samples > 1 else ''} for {shown}: a result must answer every "
                       f"question of suite {suite.name!r} ({len(suite.questions)})")


def _stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def agreement(manual: list[AnswerScore], auto: list[AnswerScore]) -> dict[str, float]:
    """Percent agreement and weighted κ (with its 95% bounds) per criterion, hand against automatic scores."""
    return agreement_metrics(agreements(manual, auto, "hand", "automatic"))


def hand_scored(manual: list[AnswerScore], auto: list[dict] | None
                ) -> tuple[dict[str, float], list[dict], dict[str, str]]:
    """The metrics, answers and tags logged for hand scores (`hyp record --scores`, `hyp score`).

    `auto`: the same answers as the automatic scorers logged them (text, points, sources), one for
    one with `manual`, when the text is known. The hand scores are logged under the contract's names,
    so they count; the automatic ones as `auto.*`; their agreement per criterion as `agreement.*` and
    `kappa.*` (hand against what counts without a person), and with a judge per pair of scorers
    (`kappa.hand_judge.*`, `kappa.hand_rubric.*`, `kappa.judge_rubric.*`). Each answer is logged once,
    with the hand scores over the others', which it keeps beside them (`judge`, `rubric`): its trace
    carries all of them."""
    # A hand score cannot tell a forbidden claim, a template marker or a coherence flag apart from
    # other failures, so those counts come only from the rubric (when responses are given).
    logged = {k: v for k, v in evaluation_metrics(manual).items()
              if k not in ("hallucinations", "template_leaks", "flagged_responses")}
    if auto is None:
        answers = [s.to_json() | {"source": "hand"} for s in manual]
        return logged, answers, {}
    if len(auto) != len(manual):
        raise ValueError(f"{len(manual)} hand scores but {len(auto)} automatic ones")
    automatic = scores_of(auto)
    logged |= {f"auto.{k}": v for k, v in evaluation_metrics(automatic).items()}
    logged |= agreement_metrics(agreements(manual, automatic, "hand", "automatic"))
    answers = [_by_hand(score, answer) for score, answer in zip(manual, auto, strict=True)]
    if any("judge" in a for a in answers):
        logged |= pair_metrics(answers)
    # The automatic scorers' own entries stay beside them (who scored what), without the text: an
    # answer is shown and traced once.
    answers += [{k: v for k, v in a.items() if k not in ("response", "trace_id")} for a in auto]
    return logged, answers, answer_tags(answers[:len(manual)])


def _by_hand(score: AnswerScore, answer: dict) -> dict:
    """One answer with the hand scores over the automatic ones, which it keeps as `judge` and `rubric`;
    the rubric's counts and flags stay, since they describe the text."""
    points = points_by_scorer(answer)
    entry = {k: v for k, v in answer.items() if k not in ("rationales", "source", "rubric", "judge")}
    entry |= {c: getattr(score, c) for c in CRITERIA} | {"total": score.total, "source": "hand",
                                                         "sources": dict.fromkeys(CRITERIA, "hand")}
    if points.get("judge"):
        entry["judge"] = points["judge"]
        entry["judge_rationales"] = {c: why for c, why in (answer.get("rationales") or {}).items()
                                     if c in points["judge"]}
    if points.get("rubric"):
        entry["rubric"] = points["rubric"]
    return entry


def record(lab: Lab, hid: str, *, scores: Path | None = None, responses: Path | None = None,
           metrics: list[str] | None = None, supersede: list[str] | None = None,
           reason: str | None = None) -> tuple[str, Judged]:
    """Parse everything first (bad input changes nothing), then log one run of kind `record`."""
    hyp = lab.load(hid)
    logged: dict[str, float] = {}
    answers: list[dict] | None = None
    tags: dict[str, str] = {}
    if scores or responses:
        scorers = lab_scorers(lab, hyp)
    if scores:
        manual, scored = read_scores(scores, scorers.suite, scorers=scorers)
        require_every_question(scores, scorers.suite, [s.question for s in manual])
        logged, answers, tags = hand_scored(manual, scored.answers if scored else None)
        for answer in answers:  # the trace's request is the question, with or without the answer's text
            answer.setdefault("prompt", scorers.suite.question(answer["question"]).prompt)
    elif responses:
        samples = hyp.experiment.eval.samples
        scored, answers, logged = parse_responses(responses, scorers.suite, scorers=scorers, samples=samples)
        require_every_question(responses, scorers.suite, [s.question for s in scored], samples)
        tags = answer_tags(answers)
    if metrics:
        logged |= parse_metrics(metrics)
    if not logged:
        raise BadInput("hyp record: give --scores FILE.csv, --responses FILE.json or --metric key=value")

    from hyp.results.ledger import one_at_a_time, result_run
    from hyp.store import open_tracker
    from hyp.store.base import log_json

    tracker = open_tracker(lab)  # an unusable store is bad input before anything, a lock file included
    # Refused, not queued, while a `hyp run` of it is going: a run takes hours, and its verdict tag and
    # report, written when it ends, must count this result; recorded after it, they will.
    with one_at_a_time(lab, hid, "hyp record"), \
            result_run(lab, hyp, kind="record", tags=tags, supersede=supersede, reason=reason,
                       tracker=tracker) as run:
        run.tracker.log_metrics(run.run_id, logged)
        if answers is not None:
            # One trace per answer: the hand-scored ones (their text, when given, is on them) or the
            # automatic scorers' own; their entries beside hand scores carry no text and no trace.
            traced = [a for a in answers if a.get("source", "rubric") != "rubric" or "response" in a]
            for answer, trace_id in zip(traced, run.tracker.log_answer_traces(run.run_id, traced) or [],
                                        strict=False):
                answer["trace_id"] = trace_id
            log_json(run.tracker, run.run_id, "answers.json", answers)
        for path in (scores, responses):
            if path:
                run.tracker.log_artifact(run.run_id, Path(path), "inputs")
    return run.run_id, run.judged
