"""`hyp score`: hand scoring of logged answers, criterion by criterion, resumable.

Every criterion typed is saved at once (atomically) under .hyp/scoring/, so an interruption
loses nothing and the next `hyp score` goes on where it stopped. When every answer of a run is
scored, the hand scores are logged into that run beside the rubric's (as `hyp record --scores`
logs them: the hand scores count, the rubric's become `auto.*`, and their agreement is kept).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hyp.errors import BadInput
from hyp.experiments.rubric import CRITERIA, AnswerScore, manual_score
from hyp.files import parse_json, read_cache, write_atomic
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.schema import EvalSuite
from hyp.store.base import RunRecord

HAND_TAG = "hyp.hand_scored"
RUBRIC = {  # SPEC §4, shown with each question so the hand scores mean what the rubric's do
    "agent": "2 no agent-like pattern · 1 one pattern · 0 two or more",
    "factual": "2 every fact group, nothing forbidden · 1 at least half, nothing forbidden · 0 fewer, or forbidden",
    "personality": "2 two or more persona markers, no wrong identity · 1 one marker · 0 none, or a wrong identity",
    "complete": "2 ended on its own, no template marker · 1 cut off or a template marker · 0 empty",
}


@dataclass
class Progress:
    """The hand scores typed so far for one run's answers: one list of criteria per answer."""

    path: Path
    run_id: str
    answers_sha: str
    scores: list[list[int]]

    @classmethod
    def load(cls, path: Path, run_id: str, answers: list[dict]) -> Progress:
        sha = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()
        data = read_cache(path)
        if data.get("run_id") == run_id and data.get("answers_sha") == sha \
                and isinstance(data.get("scores"), list) and len(data["scores"]) == len(answers):
            return cls(path, run_id, sha, data["scores"])
        return cls(path, run_id, sha, [[] for _ in answers])

    def save(self) -> None:
        write_atomic(self.path, json.dumps({"run_id": self.run_id, "answers_sha": self.answers_sha,
                                            "scores": self.scores}))

    @property
    def done(self) -> int:
        return sum(len(s) == len(CRITERIA) for s in self.scores)


def targets(runs: list[RunRecord], result_run_id: str | None, child_run_ids: list[str],
            run_id: str | None) -> list[RunRecord]:
    """The runs whose answers to score: `run_id`, or those of the latest results not yet scored by hand."""
    by_id = {r.run_id: r for r in runs}
    if run_id is not None:
        if run_id not in by_id:
            raise BadInput(f"--run {run_id}: no run of this hypothesis has that id")
        return [by_id[run_id]]
    if result_run_id is None:
        raise BadInput("no results logged yet, so no answers to score (`hyp run` or `hyp record --responses` first)")
    holders = [by_id[r] for r in child_run_ids if r in by_id] or [by_id[result_run_id]]
    return [r for r in holders if r.tags.get(HAND_TAG) != "true"]


def answers_of(tracker, run: RunRecord) -> list[dict]:
    """The answers with their text, as `hyp run` or `hyp record --responses` logged them."""
    with tempfile.TemporaryDirectory() as tmp:
        path = tracker.download_artifact(run.run_id, "answers.json", Path(tmp))
        data = parse_json(path.read_text(), f"run {run.run_id} answers.json") if path and path.is_file() else []
    answers = [a for a in data if isinstance(a, dict) and isinstance(a.get("response"), str)
               and a.get("source", "rubric") == "rubric"]
    if not answers:
        raise BadInput(f"run {run.run_id} ({run.name}): no answers with their text to score (answers.json holds "
                       "them after `hyp run` or `hyp record --responses`)")
    return answers


def ask_scores(answers: list[dict], suite: EvalSuite, progress: Progress, *, show: Callable[[str], None],
               ask: Callable[[str], int]) -> None:
    """Ask every criterion not yet scored, saving after each one. `ask` raises to stop (Ctrl-C, end of input)."""
    for i, answer in enumerate(answers):
        scored = progress.scores[i]
        if len(scored) == len(CRITERIA):
            continue
        show(describe(answer, suite, i, len(answers)))
        for criterion in CRITERIA[len(scored):]:
            scored.append(ask(f"{criterion} [0-2]"))
            progress.save()


def describe(answer: dict, suite: EvalSuite, index: int, total: int) -> str:
    """The answer with its question and what the rubric looks for, without the rubric's own scores:
    seeing them first would anchor the hand scores and make the agreement meaningless."""
    question = suite.question(answer["question"])
    sample = f" · sample {answer['sample']}" if answer.get("sample") else ""
    lines = [f"Answer {index + 1} of {total} · {answer['question']}{sample}",
             f"Question: {answer.get('prompt') or (question.prompt if question else '?')}"]
    if question is not None:
        facts = " | ".join(" or ".join(group) for group in question.facts) or "—"
        lines.append(f"Facts (each group met by any of its words): {facts}")
        if question.forbidden:
            lines.append(f"Forbidden claims: {', '.join(question.forbidden)}")
    persona = suite.persona
    lines.append(f"Persona markers: {', '.join(persona.markers) or '—'}"
                 + (f" · wrong identities: {', '.join(persona.wrong_identities)}" if persona.wrong_identities else ""))
    if suite.agent_patterns:
        lines.append(f"Agent-like patterns: {'; '.join(suite.agent_patterns)}")
    if suite.template_markers:
        lines.append(f"Template markers: {' '.join(suite.template_markers)}")
    cut = " (generation stopped at max_new_tokens)" if answer.get("truncated") else ""
    lines += [f"Response{cut}:", answer["response"] if answer["response"].strip() else "(empty)", "",
              *(f"{c:<12} {RUBRIC[c]}" for c in CRITERIA)]
    return "\n".join(lines)


def hand_scores(answers: list[dict], progress: Progress) -> list[AnswerScore]:
    return [manual_score(a["question"], *s) for a, s in zip(answers, progress.scores, strict=True)]


def score_hypothesis(lab: Lab, hid: str, *, run_id: str | None = None, show: Callable[[str], None],
                     ask: Callable[[str], int]) -> list[tuple[RunRecord, dict[str, float]]]:
    """Score by hand every answer of the target runs, then log each run's hand scores.

    Returns (run, metrics logged) per run scored; empty when everything is already scored.
    """
    from hyp.experiments.record import hand_scored
    from hyp.results.ledger import check_lock, conclude
    from hyp.store import open_tracker
    from hyp.store.base import log_json

    hyp = lab.load(hid)
    suite = lab.load_suite(hyp.experiment.eval.suite)
    tracker = open_tracker(lab)
    _, results = check_lock(lab, tracker, hyp)  # a broken lock stops us before anyone types a score
    runs = tracker.runs(hid)
    done = []
    for run in targets(runs, results.result_run_id, results.child_run_ids, run_id):
        answers = answers_of(tracker, run)
        progress = Progress.load(lab.state_dir / "scoring" / f"{run.run_id}.json", run.run_id, answers)
        if progress.done:
            show(f"Resuming run {run.name}: {progress.done} of {len(answers)} answers already scored.")
        ask_scores(answers, suite, progress, show=show, ask=ask)
        hand = hand_scores(answers, progress)
        # Against each automatic scorer apart (the judge's, the rubric's), not only the merged score.
        logged, scored, tags = hand_scored(hand, answers)
        tracker.log_metrics(run.run_id, logged)
        tracker.set_tags(run.run_id, tags)
        # The person's scores beside the rubric's on each answer's trace, as human assessments.
        for answer, score in zip(answers, hand, strict=True):
            if answer.get("trace_id"):
                tracker.log_human_assessments(answer["trace_id"], {c: getattr(score, c) for c in CRITERIA},
                                              "hyp score")
        log_json(tracker, run.run_id, "hand_scores.json", scored)
        tracker.set_tags(run.run_id, {HAND_TAG: "true"})
        if run.parent_run_id:
            _refresh_parent_means(tracker, hid, run.parent_run_id, list(logged))
        progress.path.unlink(missing_ok=True)
        done.append((run, logged))
    if done:
        concluded = {r.parent_run_id or r.run_id for r, _ in done} | {r.run_id for r, _ in done}
        conclude(lab, tracker, hyp, sorted(concluded))
    return done


def _refresh_parent_means(tracker, hid: str, parent_run_id: str, keys: list[str]) -> None:
    # The parent of replicates carries their mean (what the MLflow UI compares); keep it true to
    # the scores that now count.
    children = [r for r in tracker.runs(hid) if r.parent_run_id == parent_run_id and r.kind == "replicate"]
    means = {}
    for key in keys:
        values = [r.metrics[key] for r in children if key in r.metrics]
        if values:
            means[key] = sum(values) / len(values)
    tracker.log_metrics(parent_run_id, means)
