"""The demo's H003 and H004 reports read as João would read them: the executive summary alone must say
the verdict, what it rests on, the interval, everything missed, the change from the parent and one next step
with its reason. Results are answers recorded with `hyp record --responses` (written here, scored by the
suite's rubric), so nothing trains: the lab, the store, the scoring and the report are all real.

The audit of real demo runs (issue 20) also met an H004 that training left INCONCLUSIVE, just above its goal on
one run, whose held-out loss rose after epoch 5: that run is logged here as `hyp run` logs it (train loss per
step, held-out loss and `epoch` at each epoch's last step, the answers with their scores), without training."""

from __future__ import annotations

import json
import re
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


def cells(text: str, first: str) -> list[str]:
    """The cells of the first table row whose first cell starts with `first`."""
    for line in text.splitlines():
        row = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and row[0].startswith(first):
            return row
    raise AssertionError(f"no row {first!r}")


# H004 as the audit's real run left it: per question (agent, factual, personality, complete), 53 of 64 = 8.3
# against a goal of >= 8, with an interval from 5.5 to 10 on one run of 8 questions.
NEAR_GOAL = {"Q1": (2, 2, 2, 2), "Q2": (2, 0, 2, 2), "Q3": (2, 2, 2, 2), "Q4": (2, 2, 2, 2), "Q5": (2, 2, 2, 2),
             "Q6": (2, 0, 0, 2), "Q7": (2, 2, 1, 2), "Q8": (2, 0, 0, 2)}
# Its held-out loss per epoch: lowest at epoch 5, then rising while the train loss kept falling.
EVAL_LOSS = [4.95, 4.7, 4.58, 4.5, 4.46, 4.49, 4.55, 4.6, 4.7, 4.8, 4.9, 4.95, 5.0, 5.05, 5.1, 5.2, 5.25, 5.3,
             5.38, 5.446]
STEPS_PER_EPOCH = 50


def log_trained_h004(lab: Path) -> None:
    """One `hyp run H004` result as it logs it: a parent with the data's metrics, one replicate with its curves,
    per-question scores, summary counts, resources and answers (scored by the rubric)."""
    from hyp.hypotheses.criteria import CRITERIA
    from hyp.hypotheses.lab import Lab
    from hyp.results.ledger import result_run
    from hyp.store.base import log_json, tracked_run

    lab_ = Lab(lab)
    per_q = {f"{q}.{c}": float(v) for q, scores in NEAR_GOAL.items() for c, v in zip(CRITERIA, scores, strict=True)}
    per_q |= {f"{q}.total": float(sum(scores)) for q, scores in NEAR_GOAL.items()}
    points = sum(map(sum, NEAR_GOAL.values()))
    data = {"dataset.size": 100, "dataset.curated": 100, "dataset.synthetic": 0, "dataset.heldout": 18}
    metrics = {**data, **per_q, "score": points / 64 * 10, "points": points, "points_max": 64, "base_score": 5.3125,
               "agent_like_responses": 0, "factual_responses": 5, "personality_responses": 5,
               "complete_responses": 8, "truncated_responses": 0, "template_leaks": 0, "hallucinations": 0,
               "final_train_loss": 1.1912, "final_eval_loss": EVAL_LOSS[-1], "peak_rss_gb": 0.8074,
               "train_seconds": 13.46, "train_tokens_per_second": 6697.3}
    last = STEPS_PER_EPOCH * len(EVAL_LOSS)
    with result_run(lab_, lab_.load("H004"), kind="run") as run:
        run.tracker.log_metrics(run.run_id, data)
        with tracked_run(run.tracker, hypothesis_id="H004", kind="replicate", name="H004-r0",
                         parent_run_id=run.run_id, tags={"hyp.kind": "replicate"}) as child:
            run.tracker.log_metric_history(child, "train_loss", [(s, 9.0 * 0.998 ** s) for s in range(1, last + 1)])
            ends = [STEPS_PER_EPOCH * e for e in range(1, len(EVAL_LOSS) + 1)]
            run.tracker.log_metric_history(child, "eval_loss", list(zip(ends, EVAL_LOSS, strict=True)))
            run.tracker.log_metric_history(child, "epoch", [(s, float(e)) for e, s in enumerate(ends, 1)])
            run.tracker.log_metrics(child, metrics)
            log_json(run.tracker, child, "answers.json", [
                {"question": q, "response": f"{H004_ANSWERS[q]}", "source": "rubric", "total": sum(scores),
                 **dict(zip(CRITERIA, scores, strict=True))} for q, scores in NEAR_GOAL.items()])
            run.verdict_runs.append(child)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, blank_store) -> Path:
    """The persona demo with H003's answers recorded and H004 logged as the audit's training run left it."""
    lab = tmp_path_factory.mktemp("trained") / "lab"
    assert run_hyp("init", lab, "--example", "persona").code == 0
    (lab / ".hyp").mkdir(exist_ok=True)
    shutil.copyfile(blank_store, lab / ".hyp" / "mlflow.db")
    path = lab / "H003-answers.json"
    path.write_text(json.dumps([{"question": q, "response": a} for q, a in H003_ANSWERS.items()]), encoding="utf-8")
    assert run_hyp("record", "H003", "--responses", path, lab=lab).code == 0
    log_trained_h004(lab)
    r = run_hyp("report", "H004", lab=lab)
    assert r.code == 0, r
    return lab


def test_h003s_summary_says_what_failed_what_it_rests_on_and_which_plan_to_try(demo):
    text = read(demo, "H003")
    rows = summary_rows(text)

    assert "**Verdict: REJECTED**" in text
    assert rows["Result"] == "score 7.5 (95% CI 5.9–8.9) → REJECTED (48 of 64 points)"
    assert rows["Evidence"] == ("1 result × 8 questions; the interval is the spread between the questions (one run "
                                "cannot show how much of it is the training seed)")
    assert rows["Scored by"].startswith("scored automatically by the rubric")
    assert rows["Change from parent"] == "none to show: the parent H002 has no results yet"
    missed = section(text, "Executive summary").split("**Not met, undecided or without data**", 1)[1]
    assert "- primary criterion" not in missed  # the verdict and the Result row say it
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
    assert "scored 7.5 out of 10, and the goal was at least 9" in plain
    assert "scored automatically by the rubric" in plain and "Next, we should try option B" in plain
    # The answers behind the number, the worst first.
    answers = section(text, "Answers by question and criterion").split("Worst first:", 1)[1]
    first = next(line for line in answers.splitlines() if line.startswith("| Q"))
    assert first.startswith("| Q7 | 4 / 8 |") and "A small laptop card at home" in first


def test_h004s_summary_names_the_missed_prediction_the_unmoved_criterion_and_a_next_step(demo):
    text = read(demo, "H004")
    rows = summary_rows(text)

    assert "**Verdict: CONFIRMED**" in text
    assert rows["Result"] == "score 9.4 (95% CI 8.3–10.0) → CONFIRMED (60 of 64 points)"
    assert rows["Scored by"].startswith("scored automatically by the rubric")
    # H003 is both the parent and the previous best: one row, its delta the difference of the scores shown.
    assert rows["Delta"] == ("+1.9 (95% CI +0.8 to +3.0, paired by question): better against H003 (7.5), the parent")
    assert "Change from parent" not in rows
    # The statement claims to remove agent-like phrasing; H003 had none: the report says so.
    assert rows["What moved from H003"].startswith(
        "moved clearly: `score` 7.5 → 9.4, `factual_responses` 3 → 8; did not change: "
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
    assert "Not everything we expected held: \"Overall score\" is not settled (9.4, expected between 7 and 9)." in plain
    assert plain.strip().endswith("Next, we should repeat it with 3 training seeds before building on it, because "
                                  "the result rests on 1 result of 8 questions.")
    table = section(text, "Comparison with the lineage")
    assert "| `agent_like_responses` | secondary criterion | 0 | 0 | no change | statement and rationale |" in table


def test_an_inconclusive_h004_just_above_its_goal_gets_one_realistic_next_step(trained):
    """8.3 against >= 8 on one run of 8 questions (95% CI 5.5–10.0): no realistic number of replicates or
    questions decides it. The step says so, never asks for more replicates than `--until-decided` adds (10), does
    not blame the seeds with one replicate, and skips the plan's options that cannot help."""
    text = read(trained, "H004")
    rows = summary_rows(text)

    assert "**Verdict: INCONCLUSIVE**" in text
    assert rows["Result"] == "score 8.3 (95% CI 5.5–10.0) → INCONCLUSIVE (53 of 64 points)"
    step = rows["Recommended next step"]
    assert step.startswith("Stop measuring it: no realistic amount of evidence decides it. The score, 8.3, sits 0.3 "
                           "above the goal (score >= 8), inside the spread between its 8 questions: it would take "
                           "about ")
    assert "`--until-decided` adds at most 10" in step and "spread between seeds" not in step
    asked = [int(n) for n in re.findall(r"Add about (\d+) replicate", step)]
    assert all(n <= 10 for n in asked)
    # The overfitting the held-out loss shows decides what to try instead, and which plan options do not fit.
    assert "with about 5 epochs, where the held-out loss was lowest: `hyp new H005 --from H004`" in step
    assert "option A trains longer, which the held-out loss argues against" in step
    assert "option B only adds replicates, which cannot decide it" in step
    steps = section(text, "Next steps")
    assert steps.strip().startswith(f"**Recommended:** {step}")
    assert "No next steps until the verdict is decided" not in steps
    plain = section(text, "Report to João")
    assert "train it a few more times" not in plain
    assert plain.strip().endswith("Next, we should stop measuring this one, since it lands too close to the goal for "
                                  "any realistic test to tell; treat it as not there yet, and aim the next attempt "
                                  "clearly above the goal, with fewer training epochs.")
    # The summary's list of what else was missed leaves out the primary criterion, which the verdict states.
    missed = section(text, "Executive summary").split("**Not met, undecided or without data**", 1)[1]
    assert "- primary criterion" not in missed


def test_held_out_loss_best_epoch_and_the_overfitting_warning_show_once(trained):
    text = read(trained, "H004")

    resources = section(text, "Resources")
    assert cells(resources, "Final held-out loss")[1] == "5.45" and cells(resources, "Final train loss")[1] == "1.19"
    assert cells(resources, "Peak RSS")[1] == "0.81 GB" and cells(resources, "Tokens per second")[1] == "6697"
    assert "Held-out loss: lowest at epoch 5 (4.46), 5.45 at the last epoch (20): it rose after its best epoch" \
           in resources
    warning = text.split("**Overfitting:** ", 1)[1].split("\n", 1)[0]
    assert warning.startswith("The held-out loss was lowest at epoch 5 (4.46) and rose to 5.45 by epoch 20")
    assert "H003 option A: fewer epochs on a smaller set, to avoid memorizing it" in warning  # its own rationale
    assert text.count("The held-out loss was lowest at epoch") == 1  # once, in the summary
    assert "![Training loss](H004-loss.png)" in resources and (trained / "reports" / "H004-loss.png").is_file()


SCORE = r"\d+\.\d"


@pytest.mark.parametrize("which", ["demo H003", "demo H004", "trained H004"])
def test_numbers_agree_within_one_report(which, demo, trained):
    """The score is the same figure in the summary, the answers' total, the tables and the lineage; a delta is
    the difference of the two scores shown beside it; no figure carries more decimals than its quantity has."""
    lab, hid = {"demo": demo, "trained": trained}[which.split()[0]], which.split()[1]
    text = read(lab, hid)
    rows = summary_rows(text)

    score = re.match(rf"score ({SCORE}) ", rows["Result"]).group(1)
    answers = section(text, "Answers by question and criterion")
    assert re.search(rf"\*\*\d+ / 64 = ({SCORE})\*\*", answers).group(1) == score
    assert cells(section(text, "Success criteria"), "primary")[3].startswith(f"{score} (95% CI")
    assert cells(section(text, "Comparison with the lineage"), f"**{hid}**")[2].startswith(f"{score} (95% CI")
    assert f"scored {score} out of 10" in section(text, "Report to João")
    if rows["Delta"] != "—":
        shown, best = re.match(rf"([+-]{SCORE}) .* against H\d+ \(({SCORE})\)", rows["Delta"]).groups()
        assert round(float(score) - float(best), 1) == float(shown), rows["Delta"]
        moved = re.search(rf"`score` ({SCORE}) → ({SCORE})", rows["What moved from H003"]).groups()
        assert moved == (best, score)
    for title in ("Executive summary", "Resources", "Answers by question and criterion", "Predictions vs actual",
                  "Success criteria", "Comparison with the lineage", "Next steps", "Report to João"):
        assert not re.search(r"(?<![\w.])\d+\.\d{3,}", section(text, title)), title
