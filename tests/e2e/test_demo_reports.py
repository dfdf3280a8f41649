"""The demo's H003 and H004 reports read as João would read them: the executive summary alone must say
the verdict, what it rests on, the interval, everything missed, the change from the parent and one next step
with its reason. Results are answers recorded with `hyp record --responses` (written here, scored by the
suite's rubric), so nothing trains: the lab, the store, the scoring and the report are all real."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import run_hyp

# H003: every answer in Cláudio's voice but facts mostly missing (3 of 8 right), one cut off: 48 of 64.
H003_ANSWERS = {
    "Q1": "João is the founder and CEO of Softtor, a small company. I am direct.",
    "Q2": "Molting is a side project of mine that I keep small and direct.",
    "Q3": "Moltbook is something I built on weekends, a direct little project.",
    "Q4": "I write TypeScript every day with Next.js and some plain tooling.",
    "Q5": "Mostly internal tools for the team, a direct kind of work.",
    "Q6": "I keep things simple and direct when I write code for a client.",
    "Q7": "A small laptop card at home, nothing fancy, I am direct about it.",
    "Q8": "I am Cláudio, a developer who writes code, direct as always.",
}
# H004: every fact right, four answers with one persona marker only: 60 of 64, above the 9 it did not claim.
H004_ANSWERS = {
    "Q1": "João is the founder and CEO of Softtor, cara. Direct and pragmatic.",
    "Q2": "Molting is my project to move a persona into a small TinyLlama model, beleza.",
    "Q3": "Moltbook is a social network for agents that I built in TypeScript, cara.",
    "Q4": "I write TypeScript every day with Next.js and Prisma, cara.",
    "Q5": "At Softtor I build the CRM, and I keep it simple.",
    "Q6": "I write a failing test first with TDD, then make it pass.",
    "Q7": "An RTX 3050 with 4 GB of VRAM, so I stay direct about batch sizes.",
    "Q8": "I am Cláudio, a developer at Softtor, and I like clean code.",
}


def section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def summary_rows(text: str) -> dict[str, str]:
    rows = {}
    for line in section(text, "Executive summary").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and cells[0] and set(cells[0]) != {"-"}:
            rows[cells[0]] = cells[1]
    return rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory, blank_store) -> Path:
    lab = tmp_path_factory.mktemp("demo") / "lab"
    r = run_hyp("init", lab, "--example", "persona")
    assert r.code == 0, r
    (lab / ".hyp").mkdir(exist_ok=True)
    shutil.copyfile(blank_store, lab / ".hyp" / "mlflow.db")
    for hid, answers in (("H003", H003_ANSWERS), ("H004", H004_ANSWERS)):
        path = lab / f"{hid}-answers.json"
        path.write_text(json.dumps([{"question": q, "response": a, **({"truncated": True} if
                                     (hid, q) == ("H003", "Q7") else {})} for q, a in answers.items()]),
                        encoding="utf-8")
        r = run_hyp("record", hid, "--responses", path, lab=lab)
        assert r.code == 0, r
    for hid in ("H003", "H004"):
        assert run_hyp("report", hid, lab=lab).code == 0
    return lab


def read(demo: Path, hid: str) -> str:
    return (demo / "reports" / f"{hid}.md").read_text(encoding="utf-8")


def test_h003s_summary_says_what_failed_what_it_rests_on_and_which_plan_to_try(demo):
    text = read(demo, "H003")
    rows = summary_rows(text)

    assert "**Verdict: REJECTED**" in text
    assert rows["Result"] == "score 7.5 (95% CI 5.9–8.9, 1 result × 8 questions) → REJECTED (48 of 64 points)"
    assert rows["Evidence"] == "95% CI 5.9–8.9, 1 result × 8 questions"
    assert rows["Scored by"].startswith("scored automatically by the rubric")
    assert rows["Change from parent"] == "none to show: the parent H002 has no results yet"
    missed = section(text, "Executive summary").split("**Not met, undecided or without data**", 1)[1]
    for line in ("- tertiary criterion `truncated_responses == 0`: not met (actual 1)",
                 '- prediction "Factual accuracy" `factual_responses >= 7`: not met (actual 3)',
                 '- prediction "Overall score" `score between [8.8, 9.2]`: undecided (actual 7.5)'):
        assert line in missed
    # One plan, with the reason it was picked from the data: neither names what failed; B expects the goal.
    assert rows["Recommended next step"].startswith(
        "Option B, filter the synthetic data harder, expected [8.3, 9]: no option names a failed criterion, and its "
        "expected score ([8.3, 9]) comes closest to the goal (>= 9) (failed: score 7.5 against >= 9; "
        "truncated_responses 1 against == 0)")
    plain = section(text, "Report to João")
    assert "scored 7.5 out of 10, and the goal was >= 9" in plain
    assert "scored automatically by the rubric" in plain and "Next, we should try option B" in plain
    # The answers behind the number, the worst first.
    answers = section(text, "Answers by question and criterion").split("Worst first:", 1)[1]
    first = next(line for line in answers.splitlines() if line.startswith("| Q"))
    assert first.startswith("| Q7 | 4 / 8 |") and "A small laptop card at home" in first


def test_h004s_summary_names_the_missed_prediction_the_unmoved_criterion_and_a_next_step(demo):
    text = read(demo, "H004")
    rows = summary_rows(text)

    assert "**Verdict: CONFIRMED**" in text
    assert rows["Result"] == "score 9.4 (95% CI 8.3–10.0, 1 result × 8 questions) → CONFIRMED (60 of 64 points)"
    assert rows["Scored by"].startswith("scored automatically by the rubric")
    assert rows["Change from parent"] == ("+1.88 (95% CI +0.76 to +2.99, paired by question): better against H003")
    # The statement claims to remove agent-like phrasing; H003 had none: the report says so.
    assert rows["What moved from H003"].startswith(
        "moved: `score` 7.5 → 9.4, `factual_responses` 3 → 8; did not move although the hypothesis is about it: "
        "`agent_like_responses` 0 → 0 (named in the statement and rationale)")
    missed = section(text, "Executive summary").split("**Not met, undecided or without data**", 1)[1]
    assert '- prediction "Overall score" `score between [7, 9]`: undecided (actual 9.4)' in missed
    # Confirmed without an on_success plan, on one result: still one next step, with its reason.
    step = rows["Recommended next step"]
    assert step == ("Replicate before building on it: `hyp run H004 --replicates 3`. It was confirmed at 9.4 on 1 "
                    "result × 8 questions (95% CI 8.3–10.0), too little to build on; the prediction \"Overall score\" "
                    "(`score between [7, 9]`) was undecided at 9.4.")
    assert f"**Recommended:** {step}" in section(text, "Next steps")
    plain = section(text, "Report to João")
    assert "It worked: the model scored 9.4 out of 10" in plain
    assert "better than our best earlier attempt (H003" in plain
    assert plain.strip().endswith("Next, we should repeat it with 3 training seeds before building on it, because "
                                  "the result rests on 1 result of 8 questions, and the prediction \"Overall score\" "
                                  "is not settled.")
    table = section(text, "Comparison with the lineage")
    assert "| `agent_like_responses` | secondary criterion | 0 | 0 | no change | statement and rationale |" in table
