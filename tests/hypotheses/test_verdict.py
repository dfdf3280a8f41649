"""The verdict engine (SPEC §7): conditions judged on whole intervals, the verdict driven by the primary only."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyp.hypotheses.schema import Condition, Hypothesis
from hyp.hypotheses.verdict import Estimate, decide, estimate, judge


def cond(op, value, metric="score"):
    return Condition(metric=metric, op=op, value=value)


def single(v):
    return Estimate(v, v, v, 1)


def interval(low, high):
    return Estimate((low + high) / 2, low, high, 3)


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
def test_one_observation_is_met_or_not_met_never_undecided(op, value, observed, outcome):
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


# --- estimate ---------------------------------------------------------------------------------------


def test_one_observation_is_its_own_estimate_and_interval():
    assert estimate([7.25]) == Estimate(7.25, 7.25, 7.25, 1)


def test_bootstrap_interval_is_deterministic_and_brackets_the_mean():
    values = [8.5, 9.0, 9.5, 8.75, 9.25]
    first, again = estimate(values), estimate(list(values))
    assert first == again
    assert first.n == 5
    assert first.estimate == pytest.approx(9.0)
    assert min(values) <= first.low < first.estimate < first.high <= max(values)


@settings(max_examples=60, deadline=None, database=None)
@given(st.lists(st.integers(0, 100), min_size=1, max_size=10))
def test_bootstrap_interval_contains_the_mean(points):
    values = [p / 10 for p in points]
    e = estimate(values)
    assert min(values) <= e.low <= e.estimate <= e.high <= max(values)
    assert e.estimate == pytest.approx(sum(values) / len(values))
    assert e.n == len(values)


def test_identical_observations_give_a_degenerate_interval():
    e = estimate([8.0, 8.0, 8.0, 8.0])
    assert (e.low, e.high, e.n) == (8.0, 8.0, 4)
    assert e.estimate == 8.0


def test_the_estimate_and_interval_stay_within_the_observed_values():
    e = estimate([0.1, 0.1, 0.1])
    assert e.low <= e.estimate <= e.high
    assert e.estimate == 0.1
    assert estimate([0.0, 0.0, 0.1]).high <= 0.1


def test_the_interval_does_not_depend_on_the_order_of_the_replicates():
    values = [8.6, 9.0, 9.3, 9.6, 8.9]
    intervals = {(e.low, e.high) for e in (estimate(list(p)) for p in itertools.permutations(values))}
    assert len(intervals) == 1


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
    v = decide(hypothesis(), {})
    assert v.verdict == "PENDING"
    assert v.observations == {}
    assert {j.outcome for j in v.criteria + v.predictions} == {"no data"}


def test_results_without_the_primary_metric_are_still_pending():
    v = decide(hypothesis(), {"agent_like_responses": [0.0], "truncated_responses": [0.0]})
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
    v = decide(hypothesis(), {"score": scores})
    assert v.verdict == verdict
    primary = v.criteria[0]
    assert (primary.level, primary.metric, primary.estimate) == ("primary", "score", pytest.approx(sum(scores) /
                                                                                                   len(scores)))
    assert v.observations["score"].n == len(scores)


def test_replicates_straddling_the_threshold_report_their_interval():
    v = decide(hypothesis(), {"score": [8.5, 9.0, 9.5]})
    score = v.observations["score"]
    assert score.low < 9.0 < score.high
    assert v.to_json()["criteria"][0] == {"level": "primary", "metric": "score", "op": ">=", "value": 9.0,
                                          "estimate": pytest.approx(9.0), "low": score.low, "high": score.high,
                                          "outcome": "undecided"}


metric_values = st.lists(st.integers(0, 10).map(float), min_size=1, max_size=4)


@settings(max_examples=80, deadline=None, database=None)
@given(primary=st.sampled_from([[4.5], [9.5], [8.5, 9.0, 9.5]]),
       agent=metric_values, truncated=metric_values, factual=metric_values,
       secondary=st.sampled_from([("==", 0.0), (">=", 5.0), ("between", (1.0, 3.0))]))
def test_secondary_criteria_and_predictions_never_change_the_verdict(primary, agent, truncated, factual, secondary):
    plain = decide(hypothesis(secondary=secondary, predictions=[]), {"score": primary})
    full = decide(hypothesis(secondary=secondary),
                  {"score": primary, "agent_like_responses": agent, "truncated_responses": truncated,
                   "factual_responses": factual})
    assert full.verdict == plain.verdict


def test_secondary_and_predictions_are_reported_with_predicted_and_actual_values():
    v = decide(hypothesis(), {"score": [4.5], "agent_like_responses": [0.0], "truncated_responses": [5.0]})
    assert v.verdict == "REJECTED"
    assert [(j.level, j.outcome) for j in v.criteria] == [("primary", "not met"), ("secondary", "met"),
                                                           ("tertiary", "not met")]
    predictions = v.to_json()["predictions"]
    assert predictions[0] == {"label": "Overall", "metric": "score", "op": "between", "value": [8.8, 9.2],
                              "estimate": 4.5, "low": 4.5, "high": 4.5, "outcome": "not met"}
    assert predictions[1]["outcome"] == "no data"
    assert predictions[1]["estimate"] is None


def test_the_verdict_is_a_pure_function_of_hypothesis_and_observations():
    h, obs = hypothesis(), {"score": [8.5, 9.0, 9.5], "agent_like_responses": [1.0, 0.0, 2.0]}
    assert decide(h, obs) == decide(h, obs)
    assert obs == {"score": [8.5, 9.0, 9.5], "agent_like_responses": [1.0, 0.0, 2.0]}  # not modified
