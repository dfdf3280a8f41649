"""The verdict engine (SPEC §7): conditions judged on whole intervals, the verdict driven by the primary only."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyp.hypotheses.schema import Condition, Hypothesis
from hyp.hypotheses.statistics import Interval
from hyp.hypotheses.verdict import decide, judge


def cond(op, value, metric="score"):
    return Condition(metric=metric, op=op, value=value)


def single(v):
    return Interval(v, v, v, 1, 0, "point")


def interval(low, high):
    return Interval((low + high) / 2, low, high, 3, 8, "cluster-t")


# --- judge: one observation ------------------------------------------------------------------------

SINGLE = [
    (">=", 9.0, 9.0, "met"),
    (">=", 9.0, 9.5, "met"),
    (">=", 9.0, 8.9, "not met"),
    (">", 9.0, 9.1, "met"),
    (">", 9.0, 9.0, "not met"),
    (">", 9.0, 8.0, "not met"),
    ("<=", 1.0, 1.0, "met"),
    ("<=", 1.0, 0.0, "met"),
    ("<=", 1.0, 2.0, "not met"),
    ("<", 1.0, 0.5, "met"),
    ("<", 1.0, 1.0, "not met"),
    ("<", 1.0, 3.0, "not met"),
    ("==", 0.0, 0.0, "met"),
    ("==", 0.0, 1.0, "not met"),
    ("==", 0.0, -1.0, "not met"),
    ("between", (8.8, 9.2), 9.0, "met"),
    ("between", (8.8, 9.2), 8.8, "met"),
    ("between", (8.8, 9.2), 9.2, "met"),
    ("between", (8.8, 9.2), 8.7, "not met"),
    ("between", (8.8, 9.2), 9.3, "not met"),
    ("between", (0, 1), 4.0, "not met"),
]


@pytest.mark.parametrize(("op", "value", "observed", "outcome"), SINGLE)
def test_one_number_is_met_or_not_met_never_undecided(op, value, observed, outcome):
    assert judge(cond(op, value), single(observed)) == outcome


# --- judge: intervals ------------------------------------------------------------------------------

INTERVALS = [
    # wholly on the right side, straddling, wholly on the wrong side; bounds count as inside
    (">=", 9.0, (9.1, 9.6), "met"),
    (">=", 9.0, (9.0, 9.6), "met"),
    (">=", 9.0, (8.5, 9.5), "undecided"),
    (">=", 9.0, (8.5, 9.0), "undecided"),
    (">=", 9.0, (8.0, 8.9), "not met"),
    (">", 9.0, (9.1, 9.6), "met"),
    (">", 9.0, (9.0, 9.6), "undecided"),
    (">", 9.0, (8.5, 9.5), "undecided"),
    (">", 9.0, (8.5, 9.0), "not met"),
    ("<=", 1.0, (0.0, 0.5), "met"),
    ("<=", 1.0, (0.0, 1.0), "met"),
    ("<=", 1.0, (0.5, 1.5), "undecided"),
    ("<=", 1.0, (1.1, 2.0), "not met"),
    ("<", 1.0, (0.0, 0.9), "met"),
    ("<", 1.0, (0.5, 1.0), "undecided"),
    ("<", 1.0, (0.5, 1.5), "undecided"),
    ("<", 1.0, (1.0, 2.0), "not met"),
    ("==", 0.0, (0.0, 0.0), "met"),
    ("==", 0.0, (0.0, 1.0), "undecided"),
    ("==", 0.0, (-1.0, 1.0), "undecided"),
    ("==", 0.0, (0.5, 1.0), "not met"),
    ("==", 0.0, (-1.0, -0.5), "not met"),
    ("between", (8.8, 9.2), (8.9, 9.1), "met"),
    ("between", (8.8, 9.2), (8.8, 9.2), "met"),
    ("between", (8.8, 9.2), (8.5, 9.0), "undecided"),
    ("between", (8.8, 9.2), (9.0, 9.5), "undecided"),
    ("between", (8.8, 9.2), (8.5, 9.5), "undecided"),
    ("between", (8.8, 9.2), (7.0, 8.7), "not met"),
    ("between", (8.8, 9.2), (9.3, 10.0), "not met"),
]


@pytest.mark.parametrize(("op", "value", "bounds", "outcome"), INTERVALS)
def test_a_condition_is_met_only_when_the_whole_interval_satisfies_it(op, value, bounds, outcome):
    assert judge(cond(op, value), interval(*bounds)) == outcome


@pytest.mark.parametrize(("op", "value"), [(">=", 9.0), (">", 9.0), ("<=", 1.0), ("<", 1.0), ("==", 0.0),
                                           ("between", (8.8, 9.2))])
def test_no_observation_is_no_data(op, value):
    assert judge(cond(op, value), None) == "no data"


# --- intervals from pooled evidence ----------------------------------------------------------------


def evidence(observations: dict[str, list[float]]) -> list[dict[str, float]]:
    """{metric: [one value per result]} as pooled evidence: one metrics dict per result."""
    n = max((len(v) for v in observations.values()), default=0)
    return [{m: vals[i] for m, vals in observations.items() if i < len(vals)} for i in range(n)]


def questions(*totals: float, **extra) -> dict[str, float]:
    """One run's metrics with per-question scores: each question's total points (0-8) split over criteria."""
    unit = dict(extra)
    for i, total in enumerate(totals, start=1):
        parts = [min(2, max(0, int(total) - 2 * k)) for k in range(4)]
        unit |= {f"Q{i}.agent": parts[0], f"Q{i}.factual": parts[1], f"Q{i}.personality": parts[2],
                 f"Q{i}.complete": parts[3], f"Q{i}.total": float(total)}
    unit.setdefault("score", sum(totals) / (8 * len(totals)) * 10)
    unit.setdefault("points", float(sum(totals)))
    return unit


def test_one_number_is_judged_on_its_value_and_labelled_point():
    v = decide(hypothesis(), [{"score": 7.25}])
    score = v.observations["score"]
    assert (score.estimate, score.low, score.high, score.n, score.point) == (7.25, 7.25, 7.25, 1, True)
    assert v.to_json()["observations"]["score"]["point"] is True


def test_one_run_of_eight_questions_has_a_real_interval():
    # 8,8,8,8,8,6,6,6 of 8 points: 9.06 on average, but eight questions leave it anywhere from about 8 to 10.
    v = decide(hypothesis(), [questions(8, 8, 8, 8, 8, 6, 6, 6)])
    score = v.observations["score"]
    assert score.estimate == pytest.approx(9.0625)
    assert score.low < 9.0 < score.high and not score.point
    assert score.questions == 8
    assert v.verdict == "INCONCLUSIVE"


def test_29_of_64_points_is_rejected_and_a_clear_run_confirmed():
    assert decide(hypothesis(), [questions(4, 4, 4, 4, 4, 3, 3, 3)]).verdict == "REJECTED"
    assert decide(hypothesis(), [questions(8, 8, 8, 8, 8, 8, 8, 8)]).verdict == "CONFIRMED"
    # 63 of 64 is 9.84, but one run of 8 questions cannot rule out a true mean a little under 9 (a sample
    # that missed the hard questions looks high and tight); against a bar of 8 it is clear.
    assert decide(hypothesis(), [questions(8, 8, 8, 8, 8, 8, 8, 7)]).verdict == "INCONCLUSIVE"
    assert decide(hypothesis(primary=(">=", 8.0)), [questions(8, 8, 8, 8, 8, 8, 8, 7)]).verdict == "CONFIRMED"


def test_counts_are_rebuilt_question_by_question():
    unit = questions(8, 8, 8, 8, 8, 6, 6, 6)
    unit["points"] = 58.0
    v = decide(hypothesis(), [unit, dict(unit)])
    points = v.observations["points"]
    assert points.estimate == pytest.approx(58.0) and points.questions == 8
    assert points.low < 58.0 < points.high


def test_units_without_questions_fall_back_to_results_level():
    v = decide(hypothesis(), [{"score": 9.3}, {"score": 9.4}, {"score": 9.5}])
    assert v.observations["score"].method == "t" and v.observations["score"].n == 3


def test_the_interval_does_not_depend_on_the_order_of_the_results():
    units = [{"score": x} for x in (8.6, 9.0, 9.3, 9.6, 8.9)]
    found = {(e.low, e.high) for e in (decide(hypothesis(), list(p)).observations["score"]
                                       for p in itertools.permutations(units))}
    assert len({(round(lo, 9), round(hi, 9)) for lo, hi in found}) == 1


def test_an_undecided_primary_says_how_many_more_replicates_would_likely_decide_it():
    v = decide(hypothesis(), [questions(8, 8, 8, 8, 8, 6, 6, 6)])
    assert v.verdict == "INCONCLUSIVE"
    assert v.to_json()["more_replicates"] == v.more_replicates
    assert decide(hypothesis(), [questions(4, 4, 4, 4, 4, 3, 3, 3)]).more_replicates is None  # decided


# --- decide -----------------------------------------------------------------------------------------


def hypothesis(primary=(">=", 9.0), secondary=("==", 0.0), tertiary=("<=", 2.0), predictions=None):
    def c(metric, op_value):
        op, value = op_value
        return {"metric": metric, "op": op, "value": value}

    if predictions is None:
        predictions = [{"label": "Overall", **c("score", ("between", (8.8, 9.2)))},
                       {"label": "Factual", **c("factual_responses", (">=", 7))}]
    return Hypothesis.model_validate({
        "id": "H003", "title": "t", "statement": "s",
        "experiment": {"model": {"name": "builtin:tiny"}, "dataset": {"curated": {"path": "data/c.json"}},
                       "eval": {"suite": "evals/s.yaml"}},
        "predictions": predictions,
        "success_criteria": {"primary": c("score", primary), "secondary": c("agent_like_responses", secondary),
                             "tertiary": c("truncated_responses", tertiary)},
    })


def test_no_results_is_pending_with_every_condition_no_data():
    v = decide(hypothesis(), evidence({}))
    assert v.verdict == "PENDING"
    assert v.observations == {}
    assert {j.outcome for j in v.criteria + v.predictions} == {"no data"}


def test_results_without_the_primary_metric_are_still_pending():
    v = decide(hypothesis(), evidence({"agent_like_responses": [0.0], "truncated_responses": [0.0]}))
    assert v.verdict == "PENDING"
    assert [j.outcome for j in v.criteria] == ["no data", "met", "met"]


@pytest.mark.parametrize(("scores", "verdict"), [
    ([9.5], "CONFIRMED"),
    ([9.0], "CONFIRMED"),
    ([4.5], "REJECTED"),
    ([9.3, 9.4, 9.5, 9.6], "CONFIRMED"),  # replicates wholly above the threshold
    ([8.0, 8.2, 8.4], "REJECTED"),  # wholly below
    ([8.5, 9.0, 9.5], "INCONCLUSIVE"),  # straddling it
])
def test_the_verdict_follows_the_primary_criterion(scores, verdict):
    v = decide(hypothesis(), evidence({"score": scores}))
    assert v.verdict == verdict
    primary = v.criteria[0]
    assert (primary.level, primary.metric, primary.estimate) == ("primary", "score", pytest.approx(sum(scores) /
                                                                                                   len(scores)))
    assert v.observations["score"].n == len(scores)


def test_replicates_straddling_the_threshold_report_their_interval():
    v = decide(hypothesis(), evidence({"score": [8.5, 9.0, 9.5]}))
    score = v.observations["score"]
    assert score.low < 9.0 < score.high
    assert v.to_json()["criteria"][0] == {"level": "primary", "metric": "score", "op": ">=", "value": 9.0,
                                          "estimate": pytest.approx(9.0), "low": score.low, "high": score.high,
                                          "outcome": "undecided", "point": False}


metric_values = st.lists(st.integers(0, 10).map(float), min_size=1, max_size=4)


@settings(max_examples=80, deadline=None, database=None)
@given(primary=st.sampled_from([[4.5], [9.5], [8.5, 9.0, 9.5]]),
       agent=metric_values, truncated=metric_values, factual=metric_values,
       secondary=st.sampled_from([("==", 0.0), (">=", 5.0), ("between", (1.0, 3.0))]))
def test_secondary_criteria_and_predictions_never_change_the_verdict(primary, agent, truncated, factual, secondary):
    plain = decide(hypothesis(secondary=secondary, predictions=[]), evidence({"score": primary}))
    full = decide(hypothesis(secondary=secondary),
                  evidence({"score": primary, "agent_like_responses": agent, "truncated_responses": truncated,
                            "factual_responses": factual}))
    assert full.verdict == plain.verdict


def test_secondary_and_predictions_are_reported_with_predicted_and_actual_values():
    v = decide(hypothesis(), evidence({"score": [4.5], "agent_like_responses": [0.0], "truncated_responses": [5.0]}))
    assert v.verdict == "REJECTED"
    assert [(j.level, j.outcome) for j in v.criteria] == [("primary", "not met"), ("secondary", "met"),
                                                           ("tertiary", "not met")]
    predictions = v.to_json()["predictions"]
    assert predictions[0] == {"label": "Overall", "metric": "score", "op": "between", "value": [8.8, 9.2],
                              "estimate": 4.5, "low": 4.5, "high": 4.5, "outcome": "not met", "point": True}
    assert predictions[1]["outcome"] == "no data"
    assert predictions[1]["estimate"] is None


def test_the_verdict_is_a_pure_function_of_hypothesis_and_observations():
    h, obs = hypothesis(), evidence({"score": [8.5, 9.0, 9.5], "agent_like_responses": [1.0, 0.0, 2.0]})
    assert decide(h, obs) == decide(h, obs)
    assert obs == evidence({"score": [8.5, 9.0, 9.5], "agent_like_responses": [1.0, 0.0, 2.0]})  # not modified
