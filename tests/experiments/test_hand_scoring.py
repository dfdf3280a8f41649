"""`hyp score`: hand scoring driven by scripted keyboard input, interrupted and resumed, logged beside the rubric."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import make_lab, mlflow_runs, run_hyp, store_uri

RESPONSES = [
    {"question": "Q1", "response": "João is the founder of Softtor; direct, TypeScript."},  # rubric 2 2 2 2
    {"question": "Q2", "response": "Let me analyze. Molting is a model."},  # 1 1 1 2
    {"question": "Q3", "response": "Moltbook is a social network for agents."},  # 2 2 0 2
    {"question": "Q4", "response": "I need to say TypeScript, Next.js and Prisma."},  # 1 2 1 2
    {"question": "Q5", "response": "A CRM at Softtor.", "truncated": True},  # 2 2 1 1
    {"question": "Q6", "response": "TDD: red first."},  # 2 2 0 2
    {"question": "Q7", "response": "An RTX 3050 with 4 GB of VRAM. <|user|>"},  # 2 2 0 1
    {"question": "Q8", "response": ""},  # 2 0 0 0
]
# What a person typed: the rubric's scores except where marked.
HAND = [
    (2, 2, 2, 2),
    (1, 1, 0, 2),  # personality: "Molting" alone did not read as Cláudio
    (2, 2, 0, 2),
    (1, 2, 1, 2),
    (2, 1, 1, 1),  # factual: a CRM, but not the right one
    (2, 2, 0, 2),
    (2, 2, 0, 1),
    (2, 0, 0, 0),
]
KEYS = [str(v) for answer in HAND for v in answer]  # 32 keystrokes + Enter


@pytest.fixture
def lab(tmp_path, blank_store) -> Path:
    lab = make_lab(tmp_path / "lab", store=blank_store)
    (lab / "responses.json").write_text(json.dumps(RESPONSES), encoding="utf-8")
    assert run_hyp("record", "H003", "--responses", lab / "responses.json", lab=lab).code == 0
    return lab


def score(lab: Path, keys: list[str], *args: str, monkeypatch):
    """`hyp score H003` with `keys` typed, one per line, then the end of input."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(k + "\n" for k in keys)))
    return run_hyp("score", "H003", *args, lab=lab)


def progress_file(lab: Path) -> Path:
    (path,) = (lab / ".hyp" / "scoring").glob("*.json")
    return path


def test_an_interrupted_session_resumes_where_it_stopped_and_logs_beside_the_rubric(lab, monkeypatch):
    (run,) = mlflow_runs(lab, "H003")
    rubric_score = run.data.metrics["score"]

    first = score(lab, KEYS[:13], monkeypatch=monkeypatch)  # three answers and one criterion of the fourth

    assert first.code == 130, first
    assert "Answer 4 of 8 · Q4" in first.out and "Answer 5" not in first.out
    assert "Who is João?" in first.out and "Softtor | founder or CEO" in first.out  # question and facts shown
    assert json.loads(progress_file(lab).read_text())["scores"][:4] == [[2, 2, 2, 2], [1, 1, 0, 2], [2, 2, 0, 2], [1]]
    (run,) = mlflow_runs(lab, "H003")
    assert run.data.metrics["score"] == rubric_score and "auto.score" not in run.data.metrics  # nothing logged yet
    assert "A hand-scoring session is half done: 3 of 8 answers" in run_hyp("show", "H003", lab=lab).out

    second = score(lab, KEYS[13:], monkeypatch=monkeypatch)

    assert second.code == 0, second
    assert "Resuming run H003: 3 of 8 answers already scored." in second.out
    assert "Answer 1 of 8" not in second.out and "Answer 4 of 8" in second.out
    (run,) = mlflow_runs(lab, "H003")
    m = run.data.metrics
    hand_points = sum(map(sum, HAND))
    assert (m["points"], m["score"]) == (hand_points, round(hand_points / 64 * 10, 4))  # the hand scores count
    assert m["auto.score"] == rubric_score and m["auto.points"] == 44
    assert (m["agreement.personality"], m["agreement.factual"], m["agreement.agent"]) == (7 / 8, 7 / 8, 1.0)
    assert m["kappa.agent"] == 1.0 and 0 < m["kappa.personality"] < 1
    assert m["Q2.personality"] == 0 and m["auto.Q2.personality"] == 1
    assert run.data.tags["hyp.hand_scored"] == "true" and run.data.tags["hyp.verdict"] == "REJECTED"
    assert not (lab / ".hyp" / "scoring").exists() or not list((lab / ".hyp" / "scoring").glob("*.json"))
    assert "Logged hand scores to run" in second.out and "88%" in second.out  # agreement per criterion
    from mlflow import MlflowClient

    artifacts = {a.path for a in MlflowClient(tracking_uri=store_uri(lab)).list_artifacts(run.info.run_id)}
    assert {"answers.json", "hand_scores.json"} <= artifacts


def test_show_and_verdict_use_the_hand_scores_and_show_the_agreement(lab, monkeypatch):
    assert score(lab, KEYS, monkeypatch=monkeypatch).code == 0

    shown = run_hyp("show", "H003", lab=lab)
    verdict = run_hyp("verdict", "H003", "--json", lab=lab).json

    assert verdict["observations"]["score"]["estimate"] == round(sum(map(sum, HAND)) / 64 * 10, 4)
    assert "Hand vs automatic scores" in shown.out
    personality = next(line for line in shown.out.splitlines() if line.startswith("│ personality "))
    cells = [c.strip() for c in personality.strip("│ ").split("│")]
    assert cells[:5] == ["personality", "4", "5", "88%", "0.83"]  # linear-weighted κ
    low, high = map(float, cells[5].strip("[]").split(", "))
    assert -1 <= low <= 0.83 <= high <= 1  # with 8 answers, κ's interval is wide


def test_a_key_outside_0_to_2_is_asked_again(lab, monkeypatch):
    r = score(lab, ["3", "x", *KEYS], monkeypatch=monkeypatch)

    assert r.code == 0, r
    # One plain line each, the same for a number out of range and a letter.
    assert r.out.count("3: type 0, 1 or 2") == 1 and r.out.count("x: type 0, 1 or 2") == 1
    (run,) = mlflow_runs(lab, "H003")
    assert run.data.metrics["points"] == sum(map(sum, HAND))


def test_once_scored_nothing_is_asked_until_a_run_is_named(lab, monkeypatch):
    assert score(lab, KEYS, monkeypatch=monkeypatch).code == 0
    (run,) = mlflow_runs(lab, "H003")

    again = score(lab, [], monkeypatch=monkeypatch)
    rescored = score(lab, ["2"] * 32, "--run", run.info.run_id, monkeypatch=monkeypatch)

    assert again.code == 0 and "already scored by hand" in again.out
    assert rescored.code == 0, rescored
    (run,) = mlflow_runs(lab, "H003")
    assert run.data.metrics["score"] == 10.0 and run.data.tags["hyp.verdict"] == "CONFIRMED"


@pytest.mark.parametrize(("args", "what"), [
    (["--run", "0123456789abcdef"], "--run 0123456789abcdef"),
])
def test_an_unknown_run_exits_2(lab, monkeypatch, args, what):
    r = score(lab, KEYS, *args, monkeypatch=monkeypatch)

    assert r.code == 2 and what in r.err and len(r.err_lines) == 1


def test_results_without_answer_texts_cannot_be_scored(tmp_path, blank_store, monkeypatch):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--metric", "score=7.4", lab=lab).code == 0

    r = score(lab, KEYS, monkeypatch=monkeypatch)

    assert r.code == 2 and "no answers with their text to score" in r.err


def test_ctrl_c_exits_130_and_loses_no_score(lab):
    """A real SIGINT to `hyp score` reading from a pipe, as a person pressing Ctrl-C would."""
    proc = subprocess.Popen([sys.executable, "-m", "hyp", "--lab", str(lab), "score", "H003"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdin.write("".join(k + "\n" for k in KEYS[:6]))
    proc.stdin.flush()
    scoring = lab / ".hyp" / "scoring"
    deadline = time.monotonic() + 60
    saved = None
    while time.monotonic() < deadline:
        files = list(scoring.glob("*.json")) if scoring.is_dir() else []
        saved = json.loads(files[0].read_text())["scores"] if files else None
        if saved and saved[1] == [1, 1]:
            break
        time.sleep(0.1)
    assert saved and saved[:2] == [[2, 2, 2, 2], [1, 1]], saved

    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].endswith("interrupted")
    assert json.loads(progress_file(lab).read_text())["scores"][:2] == [[2, 2, 2, 2], [1, 1]]
    assert os.path.getsize(progress_file(lab)) > 0


def test_replicates_are_scored_and_their_parent_keeps_the_mean(tmp_path, blank_store, monkeypatch):
    """Answers logged the way `hyp run` logs them: one answers.json per replicate child run."""
    from hyp.experiments.record import parse_responses
    from hyp.experiments.rubric import evaluation_metrics
    from hyp.hypotheses.lab import Lab
    from hyp.results.ledger import result_run
    from hyp.store.base import log_json, tracked_run

    lab_dir = make_lab(tmp_path / "lab", store=blank_store)
    (lab_dir / "responses.json").write_text(json.dumps(RESPONSES), encoding="utf-8")
    lab = Lab(lab_dir)
    hyp = lab.load("H003")
    scores, answers, _ = parse_responses(lab_dir / "responses.json", lab.load_suite("evals/personality.yaml"))
    with result_run(lab, hyp, kind="run") as run:
        tracker, parent = run.tracker, run.run_id
        for i in range(2):
            with tracked_run(tracker, hypothesis_id="H003", kind="replicate", name=f"H003-r{i}",
                             parent_run_id=parent, tags={"hyp.kind": "replicate"}) as child:
                tracker.log_metrics(child, evaluation_metrics(scores))
                log_json(tracker, child, "answers.json", [a | {"sample": 0} for a in answers])
                run.verdict_runs.append(child)
        tracker.log_metrics(parent, evaluation_metrics(scores))

    r = score(lab_dir, KEYS + ["2"] * 32, monkeypatch=monkeypatch)  # r0 as above, r1 all full marks

    assert r.code == 0, r
    assert "(H003-r0): score" in r.out and "(H003-r1): score 10" in r.out
    runs = {x.info.run_name: x for x in mlflow_runs(lab_dir, "H003")}
    hand = round(sum(map(sum, HAND)) / 64 * 10, 4)
    assert runs["H003-r0"].data.metrics["score"] == hand and runs["H003-r1"].data.metrics["score"] == 10.0
    assert runs["H003"].data.metrics["score"] == pytest.approx((hand + 10) / 2)  # what the MLflow UI compares
    verdict = run_hyp("verdict", "H003", "--json", lab=lab_dir).json
    assert verdict["observations"]["score"]["n"] == 2
    assert verdict["observations"]["score"]["estimate"] == pytest.approx((hand + 10) / 2)
