"""Property-based tests (issue 6): no input makes the YAML loader, the hypothesis validation, the
verdict engine or the rubric raise anything but hyp's own errors."""

from __future__ import annotations

import math
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import H003_YAML, SUITE_YAML
from hyp.errors import HypError
from hyp.experiments.rubric import evaluation_metrics, score_answer
from hyp.hypotheses.schema import EvalSuite, Hypothesis
from hyp.hypotheses.statistics import replicate_interval
from hyp.hypotheses.validation import validate
from hyp.hypotheses.verdict import decide
from hyp.hypotheses.yamlfile import parse_yaml

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUITE = validate(EvalSuite, parse_yaml(SUITE_YAML, Path("evals/personality.yaml")))
HYP = validate(Hypothesis, parse_yaml(H003_YAML, Path("hypotheses/H003.yaml")))

# YAML-ish text: the characters that make YAML's grammar branch, plus anything at all.
yaml_chars = st.sampled_from(list(":-[]{},'\"#&*!|>%@`?\n\t ") + ["<<", "---", "...", "\ufeff", "\x00", "é"])
yaml_text = st.lists(st.one_of(yaml_chars, st.text(max_size=6)), max_size=60).map("".join)


def _mutations(text: str) -> st.SearchStrategy[str]:
    """A valid file with one piece cut out, repeated or replaced: closer to a user's real mistakes."""
    n = len(text)
    return st.tuples(st.integers(0, n), st.integers(0, 40), st.one_of(yaml_text, st.just(""))).map(
        lambda t: text[: t[0]] + t[2] + text[t[0] + t[1]:]
    )


def _only_hyp_errors(fn, *args):
    try:
        fn(*args)
    except HypError:
        pass


@FUZZ
@given(yaml_text)
def test_any_text_loads_or_is_a_hyp_error(text):
    _only_hyp_errors(parse_yaml, text, Path("hypotheses/H900.yaml"))


@FUZZ
@given(_mutations(H003_YAML))
def test_a_damaged_hypothesis_file_validates_or_is_one_hyp_error(text):
    def load():
        return validate(Hypothesis, parse_yaml(text, Path("hypotheses/H003.yaml")))

    _only_hyp_errors(load)


@FUZZ
@given(_mutations(SUITE_YAML))
def test_a_damaged_suite_validates_or_is_one_hyp_error(text):
    _only_hyp_errors(lambda: validate(EvalSuite, parse_yaml(text, Path("evals/personality.yaml"))))


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**12, 10**12))
metric_names = st.sampled_from(["score", "points", "agent_like_responses", "factual_responses", "truncated_responses",
                                "hallucinations", "personality_responses", "unknown", "Q1.total", "Q1.agent",
                                "Q1.factual", "Q1.personality", "Q1.complete", "Q2.total", "Q2.agent", "Q2.factual",
                                "Q2.personality", "Q2.complete"])


@FUZZ
@given(st.lists(st.dictionaries(metric_names, numbers, max_size=12), max_size=6))
# Found by this test: three values at the float limit overflowed even the fallback's mean.
@example([{"score": 0.0, "points": 0.0, "agent_like_responses": 1.7976931348623157e308}] * 3)
@example([{"Q2.total": -3.5672149265199072e-211, "score": 0.0, "points": 0.0, "Q2.agent": 0.0, "Q2.factual": 0.0,
           "Q2.personality": 0.0, "Q2.complete": 0.0}])  # a question's total off the scale: was a ValueError
def test_the_verdict_engine_takes_any_evidence(evidence):
    try:
        verdict = decide(HYP, evidence)
    except HypError:
        return
    assert verdict.verdict in {"CONFIRMED", "REJECTED", "INCONCLUSIVE", "PENDING"}
    verdict.to_json()


@FUZZ
@given(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=12))
def test_an_interval_is_finite_and_brackets_its_estimate(values):
    est = replicate_interval(values)
    assert all(math.isfinite(x) for x in (est.estimate, est.low, est.high))
    assert est.low <= est.estimate <= est.high
    assert est.point == (len(values) == 1)


@FUZZ
@given(st.sampled_from(SUITE.questions), st.text(max_size=400), st.booleans())
def test_the_rubric_scores_any_answer_within_its_table(question, answer, truncated):
    scored = score_answer(question, answer, SUITE, truncated=truncated)
    for criterion in ("agent", "factual", "personality", "complete"):
        assert getattr(scored, criterion) in (0, 1, 2)
    summary = evaluation_metrics([scored])
    assert 0 <= summary["score"] <= 10


# --- issue 17: nesting, and names MLflow would refuse ------------------------------------------------

NESTINGS = {"flow list": lambda n: "a: " + "[" * n + "]" * n,
            "flow map": lambda n: "a: " + "{b: " * n + "1" + "}" * n,
            "block map": lambda n: "".join("  " * i + "b:\n" for i in range(n)) + "  " * n + "c: 1\n"}


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(sorted(NESTINGS)), st.integers(1, 1200))
def test_yaml_nested_any_depth_loads_or_is_one_hyp_error(style, depth):
    # 1000 levels was a RecursionError that also broke `hyp list` for the whole lab.
    _only_hyp_errors(parse_yaml, NESTINGS[style](depth), Path("hypotheses/H900.yaml"))


name_text = st.lists(st.sampled_from(list("aZ09_-. /:;?*é\\\n\t%$#") + ["..", "//", "ü"]), max_size=12).map("".join) \
    | st.text(st.sampled_from("ab_."), min_size=240, max_size=260)


@FUZZ
@given(name_text)
def test_a_metric_name_hyp_accepts_is_one_mlflow_accepts(name):
    """hyp refuses a name before creating a run exactly when MLflow would refuse it at logging (issue 17,
    item 4), except that a trailing newline, which MLflow's `$` lets through, is refused too."""
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import MAX_ENTITY_KEY_LENGTH, _validate_metric_name

    from hyp.hypotheses.metric_names import key_problem

    try:
        _validate_metric_name(name)
        mlflow_ok = len(name) <= MAX_ENTITY_KEY_LENGTH
    except MlflowException:
        mlflow_ok = False
    ours = key_problem(name) is None
    assert ours <= mlflow_ok, name
    if "\n" not in name:
        assert ours == mlflow_ok, name


@FUZZ
@given(name_text)
def test_a_question_id_hyp_accepts_names_metrics_mlflow_accepts(qid):
    from hyp.hypotheses.metric_names import key_problem, question_id_problem

    if question_id_problem(qid) is None:
        assert all(key_problem(k) is None for k in (f"{qid}.personality", f"auto.{qid}.personality"))
        assert "." not in qid  # `Q1.total` is read back as question and criterion


@FUZZ
@given(st.lists(st.sampled_from(["score", "=", "1", "_", "0", ".", "e", "-", "+", "nan", "inf", " ", "x;"]),
                max_size=8).map("".join))
def test_a_metric_on_the_command_line_is_a_plain_number_or_one_hyp_error(pair):
    from hyp.experiments.record import parse_metrics

    try:
        parsed = parse_metrics([pair])
    except HypError:
        return
    ((key, value),) = parsed.items()
    assert math.isfinite(value) and "_" not in pair.partition("=")[2]  # `1_000` is no number a person wrote


def test_every_metric_hyp_logs_is_known_and_a_typo_of_one_is_caught():
    from hyp.hypotheses.metric_names import known_names, typo_of

    questions = [q.id for q in SUITE.questions]
    assert all(typo_of(name, questions) is None for name in known_names(questions))
    assert typo_of("scroe", questions) == "score" and typo_of("Q1.totl", questions) == "Q1.total"
    assert typo_of("bleu", questions) is None and typo_of("dataset.anything", questions) is None  # custom
