"""Agreement that means something (SPEC §4, precedence): every pair of scorers that exist (hand, judge,
rubric) apart, pooled over every result that counts, each disagreeing answer named once and uniquely,
and the report's warning when a person's scores do not back up the automatic ones."""

from __future__ import annotations

import json

from conftest import make_lab, mlflow_runs, run_hyp
from hyp.experiments.scoring import answer_tags, pair_metrics
from hyp.results.observations import AGREEMENT_TAG, results_from_runs
from hyp.store.base import RunRecord

CRITERIA = ("agent", "factual", "personality", "complete")


def answer(qid: str, sample: int, text: str, counts: dict, rubric: dict | None = None, judge: dict | None = None,
           **extra) -> dict:
    """An answer as answers.json holds it: the points that count, whose they are, and those they overrode."""
    sources = {c: "judge" if judge and c in judge else "rubric" for c in CRITERIA}
    out = {"question": qid, "sample": sample, "response": text, **counts, "sources": sources, **extra}
    if rubric is not None:
        out["rubric"] = rubric
    return out


def points(a: int, f: int, p: int, c: int) -> dict:
    return dict(zip(CRITERIA, (a, f, p, c), strict=True))


def unit(run_id: str, name: str, start: int, tags: dict, parent: str | None = None, kind: str = "replicate"
         ) -> RunRecord:
    return RunRecord(run_id=run_id, name=name, hypothesis_id="H003", kind=kind, status="FINISHED",
                     start_time=start, end_time=None, parent_run_id=parent,
                     tags={"hyp.id": "H003", "hyp.kind": kind, **tags}, metrics={"score": 5.0})


def test_judge_and_rubric_are_a_pair_on_the_answers_the_judge_scored_each_sample_named_apart():
    # Two samples of Q1 (a run's sample numbers start at 0) and one of Q2 the judge failed on.
    answers = [
        answer("Q1", 0, "João founded Softtor, the company I work at.", points(2, 2, 2, 2),
               rubric=points(2, 2, 1, 2), judge={"personality"}),
        answer("Q1", 1, "João is the CEO.", points(2, 2, 0, 2), rubric=points(2, 1, 0, 2), judge={"factual"}),
        answer("Q2", 0, "TypeScript.", points(2, 2, 1, 2)),  # left to the rubric: no judge points
    ]
    tags = answer_tags(answers)
    stored = json.loads(tags[AGREEMENT_TAG])
    assert stored["scorers"] == ["judge", "rubric"]
    assert [row[0] for row in stored["answers"]] == ["Q1 sample 1", "Q1 sample 2", "Q2"]

    metrics = pair_metrics(answers)
    # Only what the judge scored is compared: one personality and one factual judgement, both different.
    assert metrics["agreement.judge_rubric.personality"] == 0.0 and metrics["agreement.judge_rubric.factual"] == 0.0
    assert "agreement.judge_rubric.agent" not in metrics

    res = results_from_runs([unit("top", "H003", 1, {"hyp.lock": "x"}, kind="run"),
                             unit("r1", "H003-r1", 2, tags, parent="top")])
    personality = next(g for g in res.agreements if g["criterion"] == "personality")
    assert (personality["first"], personality["second"], personality["n"]) == ("judge", "rubric", 1)
    assert personality["percent"] == 0.0 and personality["confusion"] == [[0, 0, 0], [0, 0, 0], [0, 1, 0]]
    assert personality["differences"] == [{"answer": "Q1 sample 1", "first": 2, "second": 1,
                                           "text": "João founded Softtor, the company I work at."}]


def test_agreement_pools_every_replicate_with_each_answer_named_by_its_run():
    same = [answer(f"Q{i}", 0, f"Answer {i}", points(2, 2, 2, 2), rubric=points(2, 2, 0, 2),
                   judge={"factual", "personality"}) for i in range(1, 5)]
    tags = answer_tags(same)
    res = results_from_runs([unit("top", "H003", 1, {"hyp.lock": "x"}, kind="run"),
                             unit("r1", "H003-r1", 2, tags, parent="top"),
                             unit("r2", "H003-r2", 3, tags, parent="top")])
    personality = next(g for g in res.agreements if g["criterion"] == "personality")
    assert personality["n"] == 8 and personality["percent"] == 0.0
    assert personality["disagreements"] == [f"H003-r{r}: Q{i}" for r in (1, 2) for i in range(1, 5)]
    factual = next(g for g in res.agreements if g["criterion"] == "factual")
    assert factual["percent"] == 100.0  # a percent, not a share
    assert {g["criterion"] for g in res.agreements} == {"factual", "personality"}  # what the judge scored


def test_a_long_set_of_answers_is_split_over_tags_and_read_back_whole():
    many = [answer(f"Q{i}", s, "a long answer " * 20, points(2, 2, 2, 2), rubric=points(2, 2, 0, 2),
                   judge={"personality"}) for i in range(1, 41) for s in range(3)]
    tags = answer_tags(many)
    assert len([k for k in tags if k.startswith(AGREEMENT_TAG)]) > 1
    assert all(len(v) <= 8000 for v in tags.values())
    res = results_from_runs([unit("a", "H003", 1, {**tags, "hyp.lock": "x"}, kind="record")])
    assert next(g for g in res.agreements if g["criterion"] == "personality")["n"] == 120


def csv_of(rows: list[tuple]) -> str:
    return "question,agent,factual,personality,complete,response\n" + "".join(
        f'{q},{a},{f},{p},{c},"{text}"\n' for q, a, f, p, c, text in rows)


def four_question_lab(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    suite = lab / "evals" / "personality.yaml"
    suite.write_text("\n".join(suite.read_text(encoding="utf-8").splitlines()[:9]) + "\n", encoding="utf-8")
    return lab


def test_two_hand_scored_results_of_a_4_question_suite_are_8_answers_and_warn(tmp_path, blank_store):
    """Read from the first run alone, 4 answers were too few to warn; pooled they are 8."""
    lab = four_question_lab(tmp_path, blank_store)
    # The person gives every answer full personality marks; the rubric finds no persona marker in any.
    rows = [(f"Q{i}", 2, 0, 2, 2, f"A plain answer number {i}.") for i in range(1, 5)]
    (lab / "s.csv").write_text(csv_of(rows), encoding="utf-8")
    for _ in range(2):
        assert run_hyp("record", "H003", "--scores", lab / "s.csv", lab=lab).code == 0

    agreements = run_hyp("show", "H003", "--json", lab=lab).json["agreements"]
    personality = next(g for g in agreements if g["criterion"] == "personality")
    assert (personality["first"], personality["second"], personality["n"]) == ("hand", "rubric", 8)
    assert personality["percent"] == 0.0 and personality["confusion"][2][0] == 8
    # Eight answers, eight names: the run goes before each question id, never "Q1, Q1".
    assert len(set(personality["disagreements"])) == 8
    assert all(d["text"].startswith("A plain answer number") for d in personality["differences"])
    complete = next(g for g in agreements if g["criterion"] == "complete")
    assert complete["percent"] == 100.0

    shown = run_hyp("show", "H003", lab=lab).out
    assert "The automatic scores are not trustworthy for this suite on personality" in " ".join(shown.split())
    assert "“A plain answer number 1.”" in shown

    assert run_hyp("report", "H003", lab=lab).code == 0
    text = (lab / "reports" / "H003.md").read_text(encoding="utf-8")
    assert "**The automatic scores are not trustworthy for this suite** on personality: on 8 hand-scored" in text
    block = text.split("Confusion matrices", 1)[1].split("\n\n", 2)[1]
    assert "| personality | 0 / 0 / 0 | 0 / 0 / 0 | 8 / 0 / 0 |" in block  # hand 2 against rubric 0, eight times
    listed = text.split("Answers the two scored differently, hand vs rubric:\n\n", 1)[1].splitlines()[0]
    assert listed.startswith("- personality (hand vs rubric): H003 (")
    assert listed.count("A plain answer number 1.") == 2  # once per run, each named apart


def test_hand_scores_are_compared_with_the_judge_and_the_rubric_apart(tmp_path, blank_store):
    """Without a judge hand vs rubric is the only pair; the metrics keep `agreement.<criterion>` for hand
    vs what counts automatically. (With a judge, see test_judge: three pairs.)"""
    lab = four_question_lab(tmp_path, blank_store)
    rows = [(f"Q{i}", 2, 0, 2, 2, f"A plain answer number {i}.") for i in range(1, 5)]
    (lab / "s.csv").write_text(csv_of(rows), encoding="utf-8")
    assert run_hyp("record", "H003", "--scores", lab / "s.csv", lab=lab).code == 0
    (run,) = mlflow_runs(lab, "H003")
    assert run.data.metrics["agreement.personality"] == 0.0
    assert not any(k.startswith(("agreement.hand_", "kappa.hand_")) for k in run.data.metrics)
    pairs = {(g["first"], g["second"]) for g in run_hyp("show", "H003", "--json", lab=lab).json["agreements"]}
    assert pairs == {("hand", "rubric")}
