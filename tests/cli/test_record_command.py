"""A transcribed, hand-scored hypothesis recorded with `hyp record`, then judged, listed and seen in MLflow."""

import json
import subprocess
import sys

import pytest

from conftest import SUITE_YAML, hypothesis_text, make_lab, mlflow_runs, run_hyp, store_uri

SCORE = 29 / 64 * 10  # 4.53125, "4.5"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = make_lab(tmp_path_factory.mktemp("recorded") / "lab",
                    {"H003": hypothesis_text("H003"), "H004": hypothesis_text("H004"),
                     "H005": hypothesis_text("H005"), "H006": hypothesis_text("H006"),
                     "H007": hypothesis_text("H007")})
    r = run_hyp("record", "H003", "--scores", root / "scores.csv", lab=root)
    assert r.code == 0, r
    return root


@pytest.fixture(scope="module")
def verdict(lab):
    r = run_hyp("verdict", "H003", "--json", lab=lab)
    assert r.code == 0, r
    return r.json


def test_record_prints_the_verdict(lab):
    # The fixture recorded H003; recording prints the verdict the same way `hyp verdict` does.
    r = run_hyp("verdict", "H003", lab=lab)
    assert r.code == 0
    assert "REJECTED" in r.out
    assert "not met" in r.out


def test_hand_scores_reject_the_hypothesis_with_score_4_5(verdict):
    assert verdict["id"] == "H003"
    assert verdict["verdict"] == "REJECTED"
    score = verdict["observations"]["score"]
    assert round(score["estimate"], 1) == 4.5
    assert score["estimate"] == pytest.approx(SCORE, abs=1e-3)
    # One run of eight questions is not certain: the interval is clustered by question, and lies below 9.
    assert score["low"] < score["estimate"] < score["high"] < 9.0
    assert (score["n"], score["questions"], score["point"]) == (1, 8, False)


def test_the_counts_are_observations(verdict):
    obs = {k: v["estimate"] for k, v in verdict["observations"].items()}
    assert obs["points"] == 29
    assert obs["points_max"] == 64
    assert obs["agent_like_responses"] == 4
    assert obs["factual_responses"] == 1
    assert obs["personality_responses"] == 1
    assert obs["complete_responses"] == 1
    assert obs["truncated_responses"] == 5
    assert (obs["Q1.agent"], obs["Q1.factual"], obs["Q1.personality"], obs["Q1.complete"], obs["Q1.total"]) == (
        2, 1, 1, 1, 5)


def test_criteria_are_judged_with_expected_and_actual_values(verdict):
    assert [(c["level"], c["metric"], c["op"], c["value"], c["outcome"]) for c in verdict["criteria"]] == [
        ("primary", "score", ">=", 9.0, "not met"),
        ("secondary", "agent_like_responses", "==", 0.0, "not met"),
        ("tertiary", "truncated_responses", "<=", 5.0, "met"),
    ]
    assert verdict["criteria"][0]["estimate"] == pytest.approx(SCORE, abs=1e-3)
    assert verdict["criteria"][2]["estimate"] == 5


def test_each_prediction_is_judged(verdict):
    outcomes = {p["label"]: (p["estimate"], p["outcome"]) for p in verdict["predictions"]}
    assert len(verdict["predictions"]) == 5
    # 4 agent-like answers in 8 questions: the interval of the count still reaches 1, so not yet "not met".
    assert outcomes["Agent-like responses"] == (4, "undecided")
    assert outcomes["Factual accuracy"] == (1, "not met")
    assert outcomes["Some personality"] == (1, "undecided")  # 1 of 8 could be chance: its interval reaches 0
    assert outcomes["Overall score"][1] == "not met"
    overall = next(p for p in verdict["predictions"] if p["label"] == "Overall score")
    assert (overall["op"], overall["value"]) == ("between", [8.8, 9.2])


def test_hand_scores_say_nothing_about_hallucinations(verdict):
    hallucinations = next(p for p in verdict["predictions"] if p["label"] == "Hallucinations")
    assert hallucinations["outcome"] == "no data"
    assert "hallucinations" not in verdict["observations"]


def test_the_first_results_lock_the_hypothesis(verdict):
    lock = verdict["lock"]
    assert lock["status"] == "intact"
    assert len(lock["sha256"]) == 64


def test_verdict_check_exits_1_unless_confirmed(lab):
    r = run_hyp("verdict", "H003", "--check", lab=lab)
    assert r.code == 1
    assert "REJECTED" in r.err
    # The same through the real entry point.
    p = subprocess.run([sys.executable, "-m", "hyp", "--lab", str(lab), "verdict", "H003", "--check"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, p.stderr


def test_a_hypothesis_without_results_is_pending(lab):
    r = run_hyp("verdict", "H005", "--json", lab=lab)
    assert r.code == 0
    assert r.json["verdict"] == "PENDING"
    assert r.json["lock"]["status"] == "unlocked"
    assert {p["outcome"] for p in r.json["predictions"]} == {"no data"}
    assert run_hyp("verdict", "H005", "--check", lab=lab).code == 1


def test_list_json_has_one_row_per_hypothesis_with_status_and_score(lab):
    r = run_hyp("list", "--json", lab=lab)
    assert r.code == 0, r
    rows = {row["id"]: row for row in r.json}
    assert {"H003", "H004", "H005"} <= set(rows)
    for row in r.json:
        assert {"id", "title", "parent", "status", "score"} <= set(row)
        assert row["status"] in {"PENDING", "RUNNING", "CONFIRMED", "REJECTED", "INCONCLUSIVE"}
    h003 = rows["H003"]
    assert (h003["title"], h003["parent"], h003["status"]) == (
        "Hybrid curated + synthetic data reaches 9/10", "H002", "REJECTED")
    assert h003["score"] == pytest.approx(SCORE, abs=1e-3)
    assert (rows["H005"]["status"], rows["H005"]["score"]) == ("PENDING", None)


def test_list_and_show_print_tables_for_people(lab):
    listing = run_hyp("list", lab=lab)
    assert listing.code == 0
    assert "H003" in listing.out and "REJECTED" in listing.out and "4.531" in listing.out
    shown = run_hyp("show", "H003", lab=lab)
    assert shown.code == 0
    assert "Hybrid curated + synthetic data reaches 9/10" in shown.out
    assert "REJECTED" in shown.out
    assert "Revert to pure curation" in shown.out  # the plan for a failure


def test_show_json_carries_the_hypothesis_and_its_verdict(lab, verdict):
    r = run_hyp("show", "H003", "--json", lab=lab)
    assert r.code == 0
    assert r.json["hypothesis"]["experiment"]["training"]["epochs"] == 6
    assert r.json["verdict"] == "REJECTED"
    assert r.json["lock"]["sha256"] == verdict["lock"]["sha256"]


def test_a_plain_mlflow_client_sees_the_recorded_run(lab, verdict):
    from mlflow import MlflowClient

    runs = mlflow_runs(lab, "H003")
    assert len(runs) == 1
    run = runs[0]
    tags, params = run.data.tags, run.data.params
    assert run.info.run_name == "H003"
    assert run.info.status == "FINISHED"
    assert tags["hyp.id"] == "H003"
    assert tags["hyp.kind"] == "record"
    assert tags["hyp.lock"] == verdict["lock"]["sha256"]
    assert tags["hyp.verdict"] == "REJECTED"
    assert tags["hyp.version"] == "v2.3"
    assert tags["hyp.parent"] == "H002"
    assert tags["mlflow.note.content"].startswith("A dataset of 67% curated")
    assert params["training.epochs"] == "6"
    assert params["model.name"] == "builtin:tiny"
    assert params["dataset.synthetic.ratio"] == "0.33"
    assert params["eval.suite"] == "evals/personality.yaml"
    assert run.data.metrics["score"] == pytest.approx(SCORE, abs=1e-3)
    assert run.data.metrics["Q8.total"] == 2
    client = MlflowClient(tracking_uri=store_uri(lab))
    assert {a.path for a in client.list_artifacts(run.info.run_id, "hyp")} >= {"hyp/H003.yaml"}
    assert "answers.json" in {a.path for a in client.list_artifacts(run.info.run_id)}


def test_runs_carry_mlflows_standard_tags_and_the_experiment_opens_as_fine_tuning(lab, verdict):
    """Issue 19, items 2 and 8: what the MLflow UI's Source and User columns read, no owner tags left on
    an ended run, and an experiment kind that opens the machine-learning views, not GenAI's."""
    import getpass

    from mlflow import MlflowClient

    (run,) = mlflow_runs(lab, "H003")
    tags = run.data.tags
    assert tags["mlflow.user"] == getpass.getuser() == run.info.user_id
    assert (tags["mlflow.source.name"], tags["mlflow.source.type"]) == ("hypotheses/H003.yaml", "LOCAL")
    assert "mlflow.source.git.commit" not in tags  # this lab is not a git repository
    assert not {"hyp.pid", "hyp.host", "hyp.proc_start"} & set(tags)  # they matter only while RUNNING
    experiment = MlflowClient(tracking_uri=store_uri(lab)).get_experiment_by_name("registry-tests")
    assert experiment.tags["mlflow.experimentKind"] == "finetuning"


def test_a_lab_in_git_tags_its_runs_with_the_commit(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    git = ["git", "-C", str(lab), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q", "-b", "main"], ["add", "hypotheses"], ["commit", "-q", "-m", "H003"]):
        subprocess.run([*git, *args], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()

    assert run_hyp("record", "H003", "--metric", "score=7", lab=lab).code == 0

    (run,) = mlflow_runs(lab, "H003")
    assert run.data.tags["mlflow.source.git.commit"] == head
    assert run.data.tags["mlflow.source.git.branch"] == "main"


def test_a_confirmed_verdict_says_what_it_does_not_cover_beside_it(lab):
    """Issue 19, item 10: `--metric score=9.5` meets the primary criterion; the secondary and tertiary
    have no data and the score prediction (8.8 to 9.2) was missed. The lines under CONFIRMED say so."""
    r = run_hyp("record", "H007", "--metric", "score=9.5", lab=lab)

    assert r.code == 0, r.err
    lines = r.out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("H007 ") and "CONFIRMED" in line)
    below = lines[at + 1 : at + 4]
    assert below[0] == ("! No data for 2 of 3 success criteria (secondary: agent_like_responses == 0; tertiary: "
                        "truncated_responses <= 5): the verdict rests on the primary criterion alone.")
    assert below[1].startswith("! 1 of 5 prediction(s) missed: Overall score: score between")
    assert below[1].endswith("actual 9.5.")
    assert below[2] == ("! No data for 4 of 5 prediction(s): Agent-like responses, Factual accuracy, "
                        "Some personality, Hallucinations.")


def test_the_statement_is_the_run_description(lab):
    note = mlflow_runs(lab, "H003")[0].data.tags["mlflow.note.content"]
    assert note.strip() == "A dataset of 67% curated and 33% synthetic conversations reaches 9/10 personality transfer."


def test_every_record_counts_until_one_is_superseded_with_a_reason(lab):
    first = run_hyp("record", "H004", "--metric", "score=2", lab=lab)
    assert first.code == 0, first
    second = run_hyp("record", "H004", "--metric", "score=9.5", "--metric", "agent_like_responses=0", lab=lab)
    assert second.code == 0, second
    v = run_hyp("verdict", "H004", "--json", lab=lab).json
    assert v["observations"]["score"]["n"] == 2  # pooled: the latest does not silently win
    assert v["observations"]["score"]["estimate"] == pytest.approx(5.75)
    assert v["verdict"] == "INCONCLUSIVE"
    assert v["criteria"][1]["point"] is True  # agent_like_responses: one number, judged as it is

    unrelated = run_hyp("record", "H004", "--metric", "tokens=12", lab=lab)
    assert unrelated.code == 0
    assert run_hyp("verdict", "H004", "--json", lab=lab).json["observations"]["score"]["n"] == 2  # not PENDING

    bad_run = sorted(mlflow_runs(lab, "H004"), key=lambda r: r.info.start_time)[0].info.run_id
    assert run_hyp("record", "H004", "--metric", "score=9.4", "--supersede", bad_run, lab=lab).code == 2  # no reason
    assert run_hyp("record", "H004", "--metric", "score=9.4", "--supersede", "nonsense", "--reason", "x",
                   lab=lab).code == 2
    assert len(mlflow_runs(lab, "H004")) == 3  # refused inputs changed nothing
    third = run_hyp("record", "H004", "--metric", "score=9.4", "--supersede", bad_run[:8],
                    "--reason", "scored against the wrong suite", lab=lab)
    assert third.code == 0, third
    v = run_hyp("verdict", "H004", "--json", lab=lab).json
    assert v["observations"]["score"]["n"] == 2 and v["observations"]["score"]["estimate"] == pytest.approx(9.45)
    superseded = [a for a in v["attempts"] if a["run_id"] == bad_run][0]
    assert superseded["superseded_by"] and superseded["supersede_reason"] == "scored against the wrong suite"
    shown = run_hyp("show", "H004", lab=lab).out
    assert "superseded by" in shown and "scored against the wrong suite" in shown


def two_questions(lab, hid: str) -> None:
    """`hid` evaluated on a suite of the first two questions: a recorded result answers all of its suite."""
    (lab / "evals" / "two.yaml").write_text("\n".join(SUITE_YAML.splitlines()[:7]) + "\n", encoding="utf-8")
    (lab / "hypotheses" / f"{hid}.yaml").write_text(
        hypothesis_text(hid).replace("evals/personality.yaml", "evals/two.yaml"), encoding="utf-8")


def test_hand_scores_take_precedence_and_the_rubric_scores_are_kept_beside_them(lab):
    two_questions(lab, "H106")
    csv = lab / "with_responses.csv"
    csv.write_text("question,agent,factual,personality,complete,response\n"
                   'Q1,2,2,2,2,"João is the founder of Softtor; direct, TypeScript."\n'
                   'Q2,2,2,2,2,"Let me analyze. No idea."\n', encoding="utf-8")
    assert run_hyp("record", "H106", "--scores", csv, lab=lab).code == 0
    (run,) = mlflow_runs(lab, "H106")
    metrics = run.data.metrics
    assert metrics["score"] == 10.0  # the hand scores
    assert metrics["auto.score"] == pytest.approx(11 / 16 * 10, abs=1e-3)  # the rubric: 8 + 3 points
    assert metrics["agreement.agent"] == 0.5
    assert metrics["agreement.complete"] == 1.0
    assert run_hyp("verdict", "H106", "--json", lab=lab).json["observations"]["score"]["estimate"] == 10.0


def test_recorded_responses_are_scored_by_the_suite(lab):
    two_questions(lab, "H107")
    answers = lab / "answers.json"
    answers.write_text(json.dumps([
        {"question": "Q1", "response": "João is the founder of Softtor; direct, TypeScript."},
        {"question": "Q2", "response": "<|user|> Let me analyze"},
    ]), encoding="utf-8")
    assert run_hyp("record", "H107", "--responses", answers, lab=lab).code == 0
    obs = {k: v["estimate"] for k, v in run_hyp("verdict", "H107", "--json", lab=lab).json["observations"].items()}
    assert (obs["points"], obs["points_max"]) == (10, 16)  # 8, and agent 1 + factual 0 + personality 0 + complete 1
    assert (obs["template_leaks"], obs["agent_like_responses"]) == (1, 1)


def test_commands_find_the_lab_from_a_subdirectory(lab, monkeypatch):
    monkeypatch.chdir(lab / "hypotheses")
    r = run_hyp("list", "--json")
    assert r.code == 0, r
    assert "H003" in {row["id"] for row in r.json}


def test_a_directory_without_hyp_toml_is_not_a_lab(tmp_path):
    r = run_hyp("list", lab=tmp_path)
    assert r.code == 2
    assert len(r.err_lines) == 1
    assert "hyp.toml" in r.err
