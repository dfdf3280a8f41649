"""`hyp record`: results produced elsewhere (hand scores, answers, historical numbers)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from hyp.errors import BadInput
from hyp.experiments.rubric import CRITERIA, AnswerScore, evaluation_metrics, manual_score, score_answers
from hyp.experiments.vocabulary import lab_vocabulary
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.schema import EvalSuite
from hyp.results.judged import Judged

SCORE_COLUMNS = ("question",) + CRITERIA


def parse_metrics(pairs: list[str]) -> dict[str, float]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--metric {pair!r}: expected key=value, e.g. score=7.4")
        try:
            number = float(value)
        except ValueError:
            raise BadInput(f"--metric {key}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise BadInput(f"--metric {key}: {value!r} is not a finite number")
        out[key.strip()] = number
    return out


def _read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")  # spreadsheets save CSV with a BOM
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not valid UTF-8") from None


def parse_scores(path: Path, suite: EvalSuite, *, vocabulary: frozenset[str] = frozenset()
                 ) -> tuple[list[AnswerScore], list[AnswerScore] | None]:
    """Hand scores from CSV; with a `response` column the rubric scores the same answers too."""
    rows = list(csv.reader(_read_text(path).splitlines()))
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
            responses.append((question, row[col["response"]], False))
    if not manual:
        raise BadInput(f"{path}: no scored answers")
    return manual, (score_answers(responses, suite, vocabulary=vocabulary) if "response" in col else None)


def parse_responses(path: Path, suite: EvalSuite, *, vocabulary: frozenset[str] = frozenset()
                    ) -> tuple[list[AnswerScore], list[dict]]:
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise BadInput(f"{path}:{e.lineno}: not JSON: {e.msg}") from None
    if not isinstance(data, list) or not data:
        raise BadInput(f"{path}: expected a non-empty list of {{\"question\": ..., \"response\": ...}}")
    items = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) \
                or not isinstance(item.get("response"), str):
            raise BadInput(f"{path}: [{i}]: expected {{\"question\": str, \"response\": str}}")
        question = suite.question(item["question"])
        if question is None:
            raise BadInput(f"{path}: [{i}].question: {item['question']!r} is not in suite {suite.name!r}")
        items.append((question, item["response"], bool(item.get("truncated", False))))
    scores = score_answers(items, suite, vocabulary=vocabulary)
    answers = [{"question": q.id, "prompt": q.prompt, "response": text, **s.to_json()}
               for (q, text, _), s in zip(items, scores, strict=True)]
    return scores, answers


def agreement(manual: list[AnswerScore], auto: list[AnswerScore]) -> dict[str, float]:
    """Percent agreement and Cohen's kappa per criterion between hand and rubric scores."""
    out = {}
    for c in CRITERIA:
        a = [getattr(s, c) for s in manual]
        b = [getattr(s, c) for s in auto]
        n = len(a)
        po = sum(x == y for x, y in zip(a, b, strict=True)) / n
        pe = sum((a.count(k) / n) * (b.count(k) / n) for k in (0, 1, 2))
        out[f"agreement.{c}"] = po
        out[f"kappa.{c}"] = 1.0 if pe == 1 else (po - pe) / (1 - pe)
    return out


def hand_scored(manual: list[AnswerScore], auto: list[AnswerScore] | None) -> tuple[dict[str, float], list[dict]]:
    """The metrics and answers logged for hand scores (`hyp record --scores`, `hyp score`): the hand
    scores under the contract's names, so they count; the rubric's on the same answers as `auto.*`,
    with the agreement between the two per criterion."""
    # A hand score cannot tell a forbidden claim, a template marker or a coherence flag apart from
    # other failures, so those counts come only from the rubric (when responses are given).
    logged = {k: v for k, v in evaluation_metrics(manual).items()
              if k not in ("hallucinations", "template_leaks", "flagged_responses")}
    answers = [s.to_json() | {"source": "hand"} for s in manual]
    if auto:
        logged |= {f"auto.{k}": v for k, v in evaluation_metrics(auto).items()}
        logged |= agreement(manual, auto)
        answers += [s.to_json() | {"source": "rubric"} for s in auto]
    return logged, answers


def record(lab: Lab, hid: str, *, scores: Path | None = None, responses: Path | None = None,
           metrics: list[str] | None = None, supersede: list[str] | None = None,
           reason: str | None = None) -> tuple[str, Judged]:
    """Parse everything first (bad input changes nothing), then log one run of kind `record`."""
    hyp = lab.load(hid)
    logged: dict[str, float] = {}
    answers: list[dict] | None = None
    if scores or responses:
        suite = lab.load_suite(hyp.experiment.eval.suite)
        vocabulary = lab_vocabulary(lab, hyp, suite)
    if scores:
        manual, auto = parse_scores(scores, suite, vocabulary=vocabulary)
        logged, answers = hand_scored(manual, auto)
    elif responses:
        auto_scores, answers = parse_responses(responses, suite, vocabulary=vocabulary)
        logged = evaluation_metrics(auto_scores)
    if metrics:
        logged |= parse_metrics(metrics)
    if not logged:
        raise BadInput("hyp record: give --scores FILE.csv, --responses FILE.json or --metric key=value")

    from hyp.results.ledger import result_run
    from hyp.store.base import log_json

    with result_run(lab, hyp, kind="record", supersede=supersede, reason=reason) as run:
        run.tracker.log_metrics(run.run_id, logged)
        if answers is not None:
            log_json(run.tracker, run.run_id, "answers.json", answers)
        for path in (scores, responses):
            if path:
                run.tracker.log_artifact(run.run_id, Path(path), "inputs")
    return run.run_id, run.judged
