"""One recommended next step per verdict, from the evidence's shape (issue 20): replicates only where the seeds
are what keeps the primary criterion open and `hyp run --until-decided` can likely settle it, more questions where
the spread between questions does and a realistic suite can, and otherwise a plain "nothing realistic decides it"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import H003_YAML, make_lab


def unit(totals: list[int]) -> dict[str, float]:
    """One result's metrics as a run logs them, from each question's total points (0-8)."""
    out: dict[str, float] = {}
    for i, total in enumerate(totals, 1):
        left = total
        for criterion in ("agent", "complete", "factual", "personality"):
            out[f"Q{i}.{criterion}"] = float(min(2, left))
            left -= min(2, left)
        out[f"Q{i}.total"] = float(total)
    points = sum(totals)
    return out | {"points": float(points), "points_max": 8.0 * len(totals), "score": points / (8 * len(totals)) * 10}


def judged(tmp_path: Path, goal: float, results: list[list[int]]):
    from hyp.hypotheses.lab import Lab
    from hyp.results.judged import judge_hypothesis
    from hyp.results.results import Results

    text = H003_YAML.replace('op: ">=", value: 9.0}', f'op: ">=", value: {goal}}}')
    lab = make_lab(tmp_path / "lab", {"H003": text})
    return judge_hypothesis(Lab(lab).load("H003"), Results(evidence=[unit(t) for t in results]))


def step(j, held=None) -> dict:
    from hyp.reports.next_step import recommend

    return recommend(j, held)


AUDIT = [8, 6, 8, 8, 8, 4, 7, 4]  # the audit's H004: 53 of 64 = 8.3 on one run


def test_one_run_just_above_the_goal_is_not_sent_to_replicate_49_times(tmp_path):
    j = judged(tmp_path, 8.0, [AUDIT])
    assert j.verdict.verdict == "INCONCLUSIVE" and j.verdict.more_replicates > 10  # the engine's count: 49

    s = step(j)

    assert s["text"].startswith("Stop measuring it: no realistic amount of evidence decides it. The score, 8.3, sits "
                                "0.3 above the goal (score >= 8), inside the spread between its 8 questions")
    assert "even if all of that spread were seed noise" in s["text"] and "adds at most 10" in s["text"]
    assert not re.search(r"Add about \d+ replicate", s["text"]) and "spread between seeds" not in s["text"]
    # The plan's option for a miss that can help is the step, listed beside it in Next steps.
    assert "go on with the plan for a miss: option A, revert to pure curation" in s["text"]
    assert s["option"] == "A" and [o.option for o in s["options"]] == ["A"]


def test_an_option_that_trains_longer_into_overfitting_is_not_the_step(tmp_path):
    j = judged(tmp_path, 8.0, [AUDIT])
    held = {"best_epoch": 2, "warning": "The held-out loss was lowest at epoch 2 ..."}
    longer = j.hypothesis.model_copy(update={"on_failure": [j.hypothesis.on_failure[0].model_copy(
        update={"changes": {"experiment.training.epochs": 12}})]})
    j = type(j)(longer, j.results, j.lock, j.verdict, j.status)

    s = step(j, held)

    assert "write the next hypothesis to clear the goal by more than that noise" in s["text"]
    assert "with about 2 epochs, where the held-out loss was lowest" in s["text"]
    assert "(option A trains longer, which the held-out loss argues against)" in s["text"]
    assert s["option"] is None and "fewer training epochs" in s["plain"]


def test_replicates_when_the_seeds_are_what_keeps_it_open(tmp_path):
    same = [8, 8, 8, 8, 6, 6, 4, 8]
    j = judged(tmp_path, 8.0, [same, same, [6, 6, 6, 6, 8, 8, 8, 6]])
    assert j.verdict.verdict == "INCONCLUSIVE"

    s = step(j)

    assert s["text"].startswith("Run it until it is decided: `hyp run H003 --until-decided` (it adds replicates until "
                                "the primary criterion is decided, at most 10).")
    more = int(re.search(r"about (\d+) more replicates would likely decide it", s["text"]).group(1))
    assert more <= 10 and "the spread between seeds is a large part of the interval" in s["text"]
    assert s["options"] == [] and "wait until the verdict is decided" in s["none"]
    assert s["plain"].startswith("train it again with other seeds, up to 10 times")


def test_one_run_that_a_few_replicates_might_decide_says_what_it_cannot_tell(tmp_path):
    j = judged(tmp_path, 8.0, [[8, 8, 8, 8, 6, 6, 6, 6]])

    text = step(j)["text"]

    assert text.startswith("Run it until it is decided: `hyp run H003 --until-decided`")
    assert "one run cannot tell how much of the interval is the training seed and how much the questions" in text
    assert "if it stops undecided at 10, the questions are what keep it open" in text


def test_more_questions_when_the_questions_disagree_and_a_realistic_suite_decides_it(tmp_path):
    same = [8, 8, 8, 8, 6, 6, 4, 8]  # two replicates that answered alike: no seed spread to shrink
    j = judged(tmp_path, 7.0, [same, same])

    s = step(j)

    added, total = map(int, re.match(r"Add about (\d+) questions to the evaluation suite \(about (\d+) in all\)",
                                     s["text"]).groups())
    assert total == 8 + added and total <= 32
    assert "2 results show the seeds add too little for more replicates to help" in s["text"]
    assert "`hyp new H004 --from H003`" in s["text"]
    assert s["plain"].startswith(f"ask the model more questions (about {total} instead of 8)")


def test_the_replicate_ceiling_is_what_until_decided_does_by_default():
    from hyp.experiments.run import DEFAULT_MAX_REPLICATES
    from hyp.reports.summary import UNTIL_DECIDED_MAX

    assert UNTIL_DECIDED_MAX == DEFAULT_MAX_REPLICATES


@pytest.mark.parametrize(("metric", "values", "shown"), [
    ("score", (7.03125, 8.28125), ("7.0", "8.3", "+1.3")),  # not +1.25: the difference of what is shown
    ("factual_responses", (2.0, 5.0), ("2", "5", "+3")),
    ("factual_responses", (2.0, 4.5), ("2", "4.5", "+2.5")),
    ("final_eval_loss", (5.4461, 4.4612), ("5.45", "4.46", "-0.99")),
])
def test_one_format_per_quantity_and_deltas_from_the_figures_shown(metric, values, shown):
    from hyp.reports.evidence import fmt_change, fmt_metric

    before, after = values
    assert (fmt_metric(metric, before), fmt_metric(metric, after), fmt_change(metric, after - before, before, after)) \
        == shown


def test_counts_intervals_and_resources_have_one_style_each():
    from hyp.reports.evidence import fmt_bound, fmt_metric

    assert [fmt_bound("factual_responses", v) for v in (1.539, 8.0)] == ["1.5", "8.0"]
    assert fmt_metric("peak_rss_gb", 0.8085) == "0.81" and fmt_metric("train_tokens_per_second", 6697.3) == "6697"
    assert [fmt_metric("Q6.perplexity", v) for v in (4103.2, 343.2)] == ["4103", "343"]
    assert fmt_metric("dataset.size", 14800.0) == "14800" and fmt_metric("Q1.total", 6.5) == "6.5"
