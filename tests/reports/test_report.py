"""`hyp report`: every number from the store, the lineage at a glance, next steps from the plan, plots on disk."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import H003_SCORES, H003_YAML, hypothesis_text, make_lab, mlflow_runs, run_hyp, store_uri

ON_SUCCESS = """on_success:
  - option: B
    title: Scale to the 1.1B model
    changes: {experiment.model.name: TinyLlama/TinyLlama-1.1B-Chat-v1.0}
    expected: [9.0, 9.5]
    effort: 1 day
    risk: medium
"""


def version(hid: str, label: str, parent: str | None, text: str = H003_YAML) -> str:
    """H003's file under another id, version and parent."""
    text = hypothesis_text(hid, text).replace("version: v2.3", f"version: {label}")
    return text.replace("parent: H002\n", f"parent: {parent}\n" if parent else "")


@pytest.fixture
def lineage(tmp_path, blank_store) -> Path:
    """v2.0 scored 7.4 → v2.1 scored 8.2 → v2.3 hand-scored 29 of 64 → v2.4 scored 9.3; all recorded, none trained."""
    lab = make_lab(tmp_path / "lab", {
        "H001": version("H001", "v2.0", None),
        "H002": version("H002", "v2.1", "H001"),
        "H003": H003_YAML,
        "H004": version("H004", "v2.4", "H003", H003_YAML + ON_SUCCESS),
    }, store=blank_store)
    for args in (["H001", "--metric", "score=7.4"], ["H002", "--metric", "score=8.2"],
                 ["H003", "--scores", lab / "scores.csv"], ["H004", "--metric", "score=9.3"]):
        r = run_hyp("record", *args, lab=lab)
        assert r.code == 0, r
    return lab


def report(lab: Path, hid: str) -> str:
    r = run_hyp("report", hid, lab=lab)
    assert r.code == 0, r
    return (lab / "reports" / f"{hid}.md").read_text()


def section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def row(text: str, first_cell: str) -> list[str]:
    """The cells of the Markdown table row whose first cell starts with `first_cell`."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(first_cell):
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{text}")


def linked_images(lab: Path, text: str) -> list[Path]:
    return [lab / "reports" / name for name in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)]


def test_rejected_hand_scored_version_is_compared_with_its_lineage(lineage):
    text = report(lineage, "H003")

    assert "**Verdict: REJECTED**" in text
    summary = section(text, "Executive summary")
    result = row(summary, "Result")[1]
    assert result.startswith("score 4.5 (95% CI 3.") and result.endswith(
        ") → REJECTED (29 of 64 points)")  # one run of 8 questions has an interval
    assert row(summary, "Previous best in the lineage")[1] == "H002 (v2.1): 8.2"
    # H002 is one recorded number: the difference has no interval, so it is not called worse. It is the parent
    # too: one row says so, with the difference of the two scores as shown (4.5 − 8.2, not −3.67).
    assert row(summary, "Delta")[1] == ("-3.7 (no interval: too few results to tell): no clear difference "
                                        "against H002 (8.2), the parent")
    assert "Change from parent" not in summary
    # The interval is in Result; Evidence says what it rests on and where its width comes from.
    assert row(summary, "Evidence")[1].startswith("1 result × 8 questions; the interval is the spread between the "
                                                  "questions")
    answers = section(text, "Answers by question and criterion")
    assert row(answers, "**total**")[1:] == ["11", "6", "5", "7", "**29 / 64 = 4.5**"]
    assert row(answers, "Q1")[1:] == ["2", "1", "1", "1", "5 / 8"]
    lineage_table = section(text, "Comparison with the lineage")
    assert row(lineage_table, "H001 (ancestor)")[1:3] == ["v2.0", "7.4 (point)"]
    assert row(lineage_table, "H002 (ancestor)")[1:3] == ["v2.1", "8.2 (point)"]
    this = row(lineage_table, "**H003** (this)")
    assert this[1] == "v2.3" and this[2].startswith("4.5 (95% CI") and this[3:] == ["—", "REJECTED"]
    assert row(lineage_table, "H004 (child)")[1:3] == ["v2.4", "9.3 (point)"]
    steps = section(text, "Next steps")
    assert "**Option A: Revert to pure curation** (expected [8, 8.5]), effort 1-2h, risk low" in steps
    assert "`experiment.dataset.synthetic.ratio` → 0" in steps
    plain = section(text, "Report to João")
    assert "4.5 out of 10" in plain and "H002, 8.2" in plain and "revert to pure curation" in plain
    assert "not clearly different from our best earlier attempt" in plain
    assert row(section(text, "Success criteria"), "primary")[-1] == "not met"


def test_plots_are_linked_exist_and_are_logged_with_the_results(lineage):
    text = report(lineage, "H003")

    images = linked_images(lineage, text)
    assert {p.name for p in images} == {"H003-questions.png", "H003-lineage.png"}  # nothing trained: no loss
    for path in images:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    (run,) = mlflow_runs(lineage, "H003")
    from mlflow import MlflowClient

    logged = {a.path for a in MlflowClient(tracking_uri=store_uri(lineage)).list_artifacts(run.info.run_id)}
    assert {"H003.md", "H003-questions.png", "H003-lineage.png"} <= logged


def test_confirmed_version_lists_its_on_success_options(lineage):
    text = report(lineage, "H004")

    assert "**Verdict: CONFIRMED**" in text
    assert row(section(text, "Executive summary"), "Previous best in the lineage")[1] == "H002 (v2.1): 8.2"
    steps = section(text, "Next steps")
    assert "**Option B: Scale to the 1.1B model** (expected [9, 9.5]), effort 1 day, risk medium" in steps
    assert "Revert to pure curation" not in steps
    lineage_table = section(text, "Comparison with the lineage")
    assert [row(lineage_table, h)[2].split(" (")[0] for h in ("H001", "H002", "H003", "**H004**")] == [
        "7.4", "8.2", "4.5", "9.3"]
    # One recorded number is too little to build on: replicate first, then the plan's option.
    assert "**Option B: Scale to the 1.1B model** (expected [9, 9.5]), effort 1 day, risk medium: " \
           "`experiment.model.name` → TinyLlama/TinyLlama-1.1B-Chat-v1.0 — **recommended**" in steps
    assert "Then option B, scale to the 1.1b model, as planned." in steps
    assert section(text, "Report to João").strip().endswith(
        "repeat it with 3 training seeds before building on it, because the result rests on a single number, then "
        "scale to the 1.1b model as planned.")
    for path in linked_images(lineage, text):
        assert path.is_file()


def test_a_new_result_shows_in_the_next_report(lineage):
    assert "score 4.5" in report(lineage, "H003")
    assert run_hyp("record", "H003", "--metric", "score=9.1", lab=lineage).code == 0

    text = report(lineage, "H003")

    # Pooled with the hand scores, never replacing them: (4.53 + 9.1) / 2, too few results to decide.
    assert row(section(text, "Executive summary"), "Result")[1].startswith("score 6.8 (95% CI ")
    assert "**Verdict: INCONCLUSIVE**" in text
    attempts = section(text, "Executive summary").split("Every attempt", 1)[1]
    assert attempts.count("| yes |") == 2


def test_agreement_between_hand_and_rubric_scores_is_reported(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    # A suite of the first two questions: a recorded result answers every question of its suite.
    suite = lab / "evals" / "personality.yaml"
    suite.write_text("\n".join(suite.read_text(encoding="utf-8").splitlines()[:7]) + "\n", encoding="utf-8")
    (lab / "both.csv").write_text(
        "question,agent,factual,personality,complete,response\n"
        'Q1,2,2,2,2,"João is the founder of Softtor; direct, TypeScript."\n'
        'Q2,2,0,0,2,"Let me analyze. No idea."\n')
    assert run_hyp("record", "H003", "--scores", lab / "both.csv", lab=lab).code == 0

    text = report(lab, "H003")

    answers = section(text, "Answers by question and criterion")
    assert row(answers, "agent")[1:] == ["4", "3", "50%", "0.00 (0.00 to 1.00)"]  # hand 2+2, rubric 2+1
    assert row(answers, "factual")[1:] == ["2", "2", "100%", "1.00 (1.00 to 1.00)"]
    # The answers they disagree on (the block's wording is the agreement work's: either name of the rubric).
    assert re.search(r"- agent \(hand vs (automatic|rubric)\): Q2", answers)
    assert "not trustworthy" not in text  # two answers are too few to say
    assert "the rubric alone gave 6.9" in row(section(text, "Executive summary"), "Result")[1]


def test_trained_runs_show_loss_dataset_resources_and_questions(tmp_path, blank_store):
    """Runs logged the way `hyp run` logs them (a parent and replicate children), without training."""
    from hyp.hypotheses.lab import Lab
    from hyp.results.ledger import result_run
    from hyp.store.base import tracked_run

    lab_dir = make_lab(tmp_path / "lab", store=blank_store)
    lab = Lab(lab_dir)
    hyp = lab.load("H003")
    data = {"dataset.size": 148, "dataset.curated": 100, "dataset.synthetic": 48, "lint.template_token": 3}
    with result_run(lab, hyp, kind="run", tags={"hyp.dataset.digest": "ab" * 32}) as run:
        tracker, parent = run.tracker, run.run_id
        tracker.log_metrics(parent, data)
        for i, score in enumerate((6.0, 7.0)):
            with tracked_run(tracker, hypothesis_id="H003", kind="replicate", name=f"H003-r{i}",
                             parent_run_id=parent, tags={"hyp.kind": "replicate"}) as child:
                tracker.log_metric_history(child, "train_loss", [(s, 3.0 - s / 10 - i / 10) for s in range(12)])
                tracker.log_metrics(child, {**data, "score": score, "points": score * 6.4, "points_max": 64,
                                            "Q1.agent": 2, "Q1.factual": 1 + i, "Q1.personality": 1,
                                            "Q1.complete": 2, "Q1.total": 6 + i, "final_train_loss": 1.9,
                                            "train_seconds": 12.5, "peak_rss_gb": 1.25})
                run.verdict_runs.append(child)

    text = report(lab_dir, "H003")

    assert [p.name for p in linked_images(lab_dir, text)] == ["H003-loss.png", "H003-questions.png",
                                                              "H003-lineage.png"]
    assert all(p.is_file() for p in linked_images(lab_dir, text))
    dataset = section(text, "Dataset composition")
    assert (row(dataset, "Curated")[1], row(dataset, "Synthetic")[1], row(dataset, "Total")[1]) == ("100", "48", "148")
    resources = section(text, "Resources")
    assert row(resources, "Peak RSS")[1] == "1.25 GB" and row(resources, "Final train loss")[1] == "1.90"
    assert row(section(text, "Answers by question and criterion"), "Q1")[1:] == ["2", "1.5", "1", "2", "6.5 / 8"]
    assert "score 6.5 (95% CI 0.1–10.0) →" in row(section(text, "Executive summary"), "Result")[1]
    assert row(section(text, "Executive summary"), "Evidence")[1].startswith("2 results, pooled")
    assert "ab" * 32 in section(text, "Provenance")


SWEEP_YAML = H003_YAML + textwrap.dedent("""\
    sweep:
      trials: 3
      objective: {metric: score, direction: maximize}
      space:
        experiment.training.epochs: {type: int, low: 3, high: 6}
    """)


def log_sweep(lab_dir: Path, *, summarised: bool, plots: tuple[str, ...] = ("history",)) -> None:
    """A sweep run with three trial children, as `hyp sweep` logs it (the summary once it finished)."""
    from hyp.hypotheses.lab import Lab
    from hyp.store import open_tracker
    from hyp.store.base import tracked_run

    tracker = open_tracker(Lab(lab_dir))
    with tracked_run(tracker, hypothesis_id="H003", kind="sweep", name="H003-sweep") as sweep:
        tracker.log_params(sweep, {"sweep.objective": "maximize score"})
        for i, (epochs, score) in enumerate(((3, 5.0), (5, 7.5), (6, 6.0))):
            with tracked_run(tracker, hypothesis_id="H003", kind="trial", name=f"H003-t{i}",
                             parent_run_id=sweep, tags={"hyp.trial": str(i)}) as trial:
                tracker.log_params(trial, {"training.epochs": epochs})
                tracker.log_metrics(trial, {"score": score})
        if summarised:
            tracker.log_metrics(sweep, {"trials.complete": 2, "trials.pruned": 1, "trials.failed": 0,
                                        "trial_epochs.spent": 11, "trial_epochs.saved_by_pruning": 3,
                                        "trial_epochs.saved_by_estimate": 0, "best.score": 7.5})
            tracker.set_tags(sweep, {"hyp.best_trial": "1", "hyp.best_params": '{"training.epochs": 5}'})
            for name in plots:
                plot = lab_dir / f"H003-sweep-{name}.png"
                plot.write_bytes(b"\x89PNG\r\n\x1a\n optuna's plot")
                tracker.log_artifact(sweep, plot, "sweep")


def test_sweep_summary_names_the_best_trial_and_shows_optunas_plots(tmp_path, blank_store):
    lab_dir = make_lab(tmp_path / "lab", {"H003": SWEEP_YAML}, store=blank_store)
    log_sweep(lab_dir, summarised=True)

    text = report(lab_dir, "H003")

    sweep_section = section(text, "Sweep").strip()
    assert sweep_section.startswith("3 trials (2 complete, 1 pruned), objective: maximize `score`; trial-epochs "
                                    "spent 11, saved by pruning 3, saved by the VRAM estimate 0.")
    assert "Best trial: 1 with score 7.5" in sweep_section
    assert row(sweep_section, "`training.epochs`")[1] == "5"
    assert [p.name for p in linked_images(lab_dir, sweep_section)] == ["H003-sweep-history.png"]
    assert (lab_dir / "reports" / "H003-sweep-history.png").read_bytes().endswith(b"optuna's plot")


def test_a_sweep_stopped_before_its_summary_still_shows_its_trials(tmp_path, blank_store):
    lab_dir = make_lab(tmp_path / "lab", {"H003": SWEEP_YAML}, store=blank_store)
    log_sweep(lab_dir, summarised=False)

    text = report(lab_dir, "H003")

    sweep_section = section(text, "Sweep")
    assert sweep_section.strip().startswith("3 trials (3 finished), objective: maximize `score`.")
    assert "The sweep recorded no best trial" in sweep_section
    (plot,) = linked_images(lab_dir, sweep_section)
    assert plot.name == "H003-sweep.png" and plot.read_bytes()[:4] == b"\x89PNG"


def test_a_lab_template_overrides_the_shipped_one(lineage):
    (lineage / "templates").mkdir()
    (lineage / "templates" / "report.md.j2").write_text("{{ h.id }} for {{ audience }}: {{ verdict }}\n")

    assert report(lineage, "H003") == "H003 for João: REJECTED\n"


def test_a_pending_hypothesis_gets_a_report_without_numbers(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)

    text = report(lab, "H003")

    assert "**Verdict: PENDING**" in text
    assert row(section(text, "Executive summary"), "Result")[1] == "no results yet"
    steps = section(text, "Next steps")
    assert "**Recommended:** Run it: `hyp run H003` (no results yet)." in steps
    assert "The plan's options wait for results." in steps


def test_an_unknown_hypothesis_exits_2_and_writes_nothing(lineage):
    r = run_hyp("report", "H042", lab=lineage)

    assert r.code == 2
    assert "H042" in r.err and len(r.err_lines) == 1
    assert not (lineage / "reports" / "H042.md").exists()


RENDER = textwrap.dedent("""
    import json, sys
    import hyp.cli.main
    try:
        hyp.cli.main.main(["--lab", sys.argv[1], "report", "H003"])
    except SystemExit as e:
        assert e.code == 0, e.code
    print(json.dumps(sorted(m for m in ("mlflow", "matplotlib") if m in sys.modules)))
""")


def test_rendering_again_with_an_unchanged_store_needs_neither_mlflow_nor_matplotlib(lineage):
    first = report(lineage, "H003")
    (lineage / "reports" / "H003.md").unlink()

    p = subprocess.run([sys.executable, "-c", RENDER, str(lineage)], capture_output=True, text=True, timeout=120)

    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout.splitlines()[-1]) == []
    assert (lineage / "reports" / "H003.md").read_text() == first


# --- issue 20: a report João can act on ------------------------------------------------------------------

TWO_OPTIONS = H003_YAML.replace("""    effort: 1-2h
    risk: low
""", """    effort: 1-2h
    risk: low
  - option: B
    title: Filter agent-like openings out of the synthetic data
    changes: {experiment.dataset.synthetic.path: data/synthetic_filtered.json}
    effort: 1 day
    risk: medium
""")


def test_a_rejected_report_recommends_the_option_aimed_at_what_failed_and_says_who_scored(tmp_path, blank_store):
    """Hand scores with four agent-like answers: the secondary criterion `agent_like_responses == 0` fails, and
    option B (not the first) is the one whose title names it."""
    lab = make_lab(tmp_path / "lab", {"H003": TWO_OPTIONS}, store=blank_store)
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0

    text = report(lab, "H003")

    steps = section(text, "Next steps")
    assert steps.strip().startswith("**Recommended:** Option B, filter agent-like openings out of the synthetic data: "
                                    "it is the option aimed at what failed: the secondary criterion "
                                    "`agent_like_responses` (4 against == 0)")
    assert "risk medium: `experiment.dataset.synthetic.path` → data/synthetic_filtered.json — **recommended**" in steps
    assert "risk low: `experiment.dataset.synthetic.ratio` → 0, `experiment.training.epochs` → 4\n" in steps
    plain = section(text, "Report to João")
    assert "Next, we should try option B, filter agent-like openings out of the synthetic data, because it is the " \
           "option aimed at what failed" in plain
    assert "The answers were scored by hand." in plain  # hand scores without the answers' text still say who scored
    assert row(section(text, "Executive summary"), "Scored by")[1] == "scored by hand"


def test_a_rubric_scored_report_says_the_scores_are_automatic(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    answers = [{"question": f"Q{i}", "response": "I am Cláudio, a direct developer at Softtor."} for i in range(1, 9)]
    (lab / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
    assert run_hyp("record", "H003", "--responses", lab / "answers.json", lab=lab).code == 0

    text = report(lab, "H003")

    assert "The answers were scored automatically by the rubric (keyword matching with coherence checks), not by a " \
           "person." in section(text, "Report to João")


def test_confirmed_without_on_success_still_recommends_a_step_with_its_reason(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--metric", "score=9.3", lab=lab).code == 0

    text = report(lab, "H003")

    assert "**Verdict: CONFIRMED**" in text
    step = ("Replicate before building on it: `hyp run H003 --replicates 3`. It was confirmed at 9.3 on a single "
            "number with no interval, too little to build on; the secondary criterion (`agent_like_responses == 0`) "
            "had no data, and 6 more missed or unmeasured (all listed in the summary).")
    summary = section(text, "Executive summary")
    assert row(summary, "Recommended next step")[1] == step
    assert row(summary, "Evidence")[1].startswith("a single recorded value, with no answers or per-question scores "
                                                  "behind it, so no interval")
    assert row(summary, "Scored by")[1] == ("no answers were scored: the score was recorded by hand as one number "
                                            "(`hyp record --metric`)")
    assert "- tertiary criterion `truncated_responses <= 5`: no data (never measured)" in summary
    assert "(actual no data)" not in text
    steps = section(text, "Next steps")
    assert f"**Recommended:** {step}" in steps and "lists no on_success options" in steps
    plain = section(text, "Report to João")
    # A confirmation on one number does not read as plain success: what was never measured is named.
    assert "It worked: the model scored 9.3 out of 10, and the goal was at least 9." in plain
    assert ("We never measured agent-like responses, truncated responses, factual accuracy, some personality and "
            "hallucinations, so those are unknown.") in plain
    assert "\"Overall score\" was missed (9.3, expected between 8.8 and 9.2)" in plain
    assert plain.strip().endswith("Next, we should repeat it with 3 training seeds before building on it, because "
                                  "the result rests on a single number.")


CHILD_SCORES = "question,agent,factual,personality,complete\n" + "".join(
    f"{q},{a},2,{p},{c}\n" for q, a, _, p, c in H003_SCORES)  # H003's answers with every fact right

CHILD_YAML = version("H004", "v2.4", "H003").replace("""statement: >
  A dataset of 67% curated and 33% synthetic conversations
  reaches 9/10 personality transfer.""", """statement: >
  Dropping the synthetic data removes the agent-like answers it brought in.""").replace(
    'training.epochs: "slightly more training for synthetic data"', 'training.epochs: "fewer epochs"')


def test_the_report_says_which_criteria_moved_from_the_parent_and_which_the_statement_was_about(tmp_path,
                                                                                                blank_store):
    lab = make_lab(tmp_path / "lab", {"H003": H003_YAML, "H004": CHILD_YAML}, store=blank_store)
    (lab / "child.csv").write_text(CHILD_SCORES, encoding="utf-8")
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0
    assert run_hyp("record", "H004", "--scores", lab / "child.csv", lab=lab).code == 0

    text = report(lab, "H004")

    table = section(text, "Comparison with the lineage").split("whether the statement or rationale is about it:", 1)[1]
    assert row(table, "`agent_like_responses`") == ["`agent_like_responses`", "secondary criterion", "4", "4",
                                                    "no change", "statement"]
    factual = row(table, "`factual_responses`")
    assert factual[1:4] == ['prediction "Factual accuracy"', "1", "8"] and factual[4].endswith(": up")
    assert factual[4].startswith("+7 (95% CI +")  # a count's change: whole, as its values; its interval to 1 decimal
    assert factual[5] == "no"
    assert row(table, "`score`")[1:4] == ["primary criterion", "4.5", "6.1"]
    assert row(table, "`score`")[4].startswith("+1.6 (95% CI +")  # 6.1 − 4.5 as shown, not +1.56
    moved = row(section(text, "Executive summary"), "What moved from H003")[1]
    assert moved.startswith("moved clearly: `score` 4.5 → 6.1, `factual_responses` 1 → 8; ")
    assert "did not change: `agent_like_responses` 4 → 4 (named in the statement)" in moved
    assert "nothing moved clearly" not in moved


def log_trained(lab_dir: Path, *, metrics: dict, eval_loss: list[tuple[int, float]] | None = None) -> None:
    """One `hyp run` result as it logs it: a parent run with the data's metrics and one replicate."""
    from hyp.hypotheses.lab import Lab
    from hyp.results.ledger import result_run
    from hyp.store.base import tracked_run

    lab = Lab(lab_dir)
    with result_run(lab, lab.load("H003"), kind="run") as run:
        run.tracker.log_metrics(run.run_id, metrics)
        with tracked_run(run.tracker, hypothesis_id="H003", kind="replicate", name="H003-r0",
                         parent_run_id=run.run_id, tags={"hyp.kind": "replicate"}) as child:
            run.tracker.log_metric_history(child, "train_loss", [(s, 3.0 - s / 10) for s in range(12)])
            if eval_loss:
                run.tracker.log_metric_history(child, "eval_loss", eval_loss)  # by epoch, as before issue 19
            run.tracker.log_metrics(child, {**metrics, "score": 6.0, "points": 38.4, "points_max": 64})
            run.verdict_runs.append(child)


def test_the_dataset_section_says_how_many_duplicates_were_removed(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    log_trained(lab, metrics={"dataset.size": 148, "dataset.curated": 100, "dataset.synthetic": 48,
                              "dataset.duplicates_removed": 3, "dataset.heldout": 12})

    dataset = section(report(lab, "H003"), "Dataset composition")

    assert "3 duplicates removed from the candidate conversations before mixing." in dataset
    assert row(dataset, "Held out")[1] == "12"


def test_the_dataset_section_says_when_the_synthetic_file_ran_short(tmp_path, blank_store):
    """Issue 19, item 7: a ratio above what the synthetic file holds trains on the same data as a smaller one."""
    lab = make_lab(tmp_path / "lab", store=blank_store)
    log_trained(lab, metrics={"dataset.size": 147, "dataset.curated": 100, "dataset.synthetic": 47,
                              "dataset.synthetic_requested": 100, "dataset.synthetic_ratio_achieved": 0.3197})

    dataset = section(report(lab, "H003"), "Dataset composition")

    assert ("The synthetic file ran short: the ratio asked for 100 synthetic conversations and 47 were usable, so the "
            "mix is 32% synthetic; any larger ratio trains on this same data.") in dataset


def test_a_synthetic_file_long_enough_says_nothing_of_it(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    log_trained(lab, metrics={"dataset.size": 149, "dataset.curated": 100, "dataset.synthetic": 49,
                              "dataset.synthetic_requested": 49, "dataset.synthetic_ratio_achieved": 0.3289})

    assert "ran short" not in section(report(lab, "H003"), "Dataset composition")


def test_the_overfitting_warning_says_when_it_contradicts_the_rationale(tmp_path, blank_store):
    hyp = H003_YAML.replace('training.epochs: "slightly more training for synthetic data"',
                            'training.epochs: "fewer epochs on a smaller set, to avoid memorizing it"')
    lab = make_lab(tmp_path / "lab", {"H003": hyp}, store=blank_store)
    log_trained(lab, metrics={"dataset.size": 100}, eval_loss=[(1, 4.9), (2, 4.6), (3, 4.46), (4, 4.7), (5, 5.0),
                                                               (6, 5.44)])

    text = report(lab, "H003")

    warning = text.split("**Overfitting:** ", 1)[1].split("\n", 1)[0]
    assert warning.startswith("The held-out loss was lowest at epoch 3 (4.46) and rose to 5.44 by epoch 6")
    assert warning.endswith("This contradicts the rationale for `training.epochs` (\"fewer epochs on a smaller set, "
                            "to avoid memorizing it\"): with 6 epochs the held-out loss still rose after its minimum "
                            "at epoch 3.")


def test_importances_from_fewer_than_ten_trials_carry_a_warning(tmp_path, blank_store):
    lab_dir = make_lab(tmp_path / "lab", {"H003": SWEEP_YAML}, store=blank_store)
    log_sweep(lab_dir, summarised=True, plots=("history", "importances"))

    sweep_section = section(report(lab_dir, "H003"), "Sweep")

    assert "**Warning:** The parameter importances below rest on 2 finished trials: with fewer than 10 they are " \
           "mostly chance" in sweep_section
    assert sweep_section.index("**Warning:**") < sweep_section.index("H003-sweep-importances.png")


def test_who_scored_names_the_judges_model_and_what_the_rubric_still_scored():
    from hyp.reports.evidence import who_scored

    judged = {"question": "Q1", "response": "…", "judge_model": "qwen2.5:7b-instruct",
              "sources": {"agent": "rubric", "factual": "judge", "personality": "judge", "complete": "rubric"}}

    assert who_scored([judged]) == "scored automatically by the judge qwen2.5:7b-instruct, and by the rubric for " \
                                   "agent, complete"
    assert who_scored([{"question": "Q1", "agent": 2, "source": "hand"}, judged]) == (
        "scored by hand (the automatic rubric's scores on the same answers are shown beside them)")
    assert who_scored([]) is None


def test_an_amended_goal_shows_what_was_registered_and_what_it_became(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0
    path = lab / "hypotheses" / "H003.yaml"
    path.write_text(path.read_text().replace('primary:   {metric: score, op: ">=", value: 9.0}',
                                             'primary:   {metric: score, op: ">=", value: 7.5}'))
    r = run_hyp("amend", "H003", "--reason", "9 was never realistic for this model", lab=lab)
    assert r.code == 0, r

    goal = row(section(report(lab, "H003"), "Executive summary"), "Goal")[1]

    assert re.fullmatch(r"score >= 9 → score >= 7\.5 \(amended \d{4}-\d\d-\d\d: 9 was never realistic for this "
                        r"model\)", goal)


def test_a_goal_edited_after_results_without_amend_is_named_and_not_used(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0
    path = lab / "hypotheses" / "H003.yaml"
    path.write_text(path.read_text().replace('value: 9.0}', 'value: 4.0}'))

    text = report(lab, "H003")

    assert row(section(text, "Executive summary"), "Goal")[1] == (
        "score >= 9; the file now says score >= 4, changed after results without `hyp amend`, so not what the "
        "verdict used")
