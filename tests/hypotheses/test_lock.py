"""The pre-registration lock (SPEC §3): which edits break it, and how amendments are replayed. Pure."""

from pathlib import Path

import pytest

from conftest import H003_YAML
from hyp.hypotheses.lock import Amendment, diff, lock_state, locked_content, sha256
from hyp.hypotheses.schema import Hypothesis
from hyp.hypotheses.validation import validate
from hyp.hypotheses.yamlfile import parse_yaml


def load(text: str) -> Hypothesis:
    return validate(Hypothesis, parse_yaml(text, Path("hypotheses/H003.yaml")))


def edit(old: str, new: str, text: str = H003_YAML) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


ORIGINAL = load(H003_YAML)
LOCK = sha256(locked_content(ORIGINAL))

FREE_EDITS = {
    "title": edit("title: Hybrid curated + synthetic data reaches 9/10", "title: The hybrid mix (rejected)"),
    "rationale": edit('training.epochs: "slightly more training for synthetic data"',
                      'training.epochs: "more epochs"\n  dataset.synthetic.ratio: "a third"'),
    "on_failure": edit("    expected: [8.0, 8.5]\n", "    expected: [7.5, 8.5]\n"),
    "no on_failure": H003_YAML.split("on_failure:")[0],
    "version, author, created": edit("version: v2.3\nparent: H002\nauthor: Cláudio\ncreated: 2026-02-11",
                                     "version: v2.3.1\nparent: H002\nauthor: C.\ncreated: 2026-02-12"),
    "comments": "# a note\n" + H003_YAML.replace("# a third of the final mix is synthetic", "# one third"),
    "flow style to block style": edit("  training: {epochs: 6, learning_rate: 2.0e-4}",
                                      "  training:\n    epochs: 6\n    learning_rate: 0.0002"),
    "explicit defaults": edit("  training: {epochs: 6, learning_rate: 2.0e-4}\n"
                              "  eval: {suite: evals/personality.yaml, temperature: 0.7}",
                              "  training: {epochs: 6, batch_size: 2, grad_accum: 4, learning_rate: 2.0e-4,\n"
                              "             lora_r: 16, lora_alpha: 32, max_seq_length: 512, seed: 0}\n"
                              "  eval: {suite: evals/personality.yaml, temperature: 0.7, max_new_tokens: 384,\n"
                              "         top_p: 0.9, samples: 1}\n"
                              "  replicates: 1"),
    "explicit default quantization and scoring": edit(
        'model: {name: "builtin:tiny"}',
        'model: {name: "builtin:tiny", quantization: none}').replace(
        "    synthetic: {path: data/synthetic.json, ratio: 0.33}\n",
        "    synthetic: {path: data/synthetic.json, ratio: 0.33}\n"
        "    scoring: {message_count: 2.0, length_per_100: 1.0, personality: 3.0, questions: 0.5,"
        " agent_penalty: 10.0}\n"),
    "integer written as float": edit("value: 7}", "value: 7.0}"),
    "statement with other spacing": edit("  A dataset of 67% curated", "  A dataset of  67% curated"),
}


@pytest.mark.parametrize("case", list(FREE_EDITS))
def test_edits_outside_the_locked_parts_keep_the_lock(case):
    edited = load(FREE_EDITS[case])
    state = lock_state(edited, LOCK, locked_content(ORIGINAL), [])
    assert state.status == "intact"
    assert state.changes == []


def test_rewrapping_a_folded_statement_keeps_the_lock():
    rewrapped = edit("  A dataset of 67% curated and 33% synthetic conversations\n  reaches 9/10 personality",
                     "  A dataset of 67% curated and 33% synthetic\n  conversations reaches 9/10 personality")
    assert lock_state(load(rewrapped), LOCK, locked_content(ORIGINAL), []).status == "intact"


LOCKED_EDITS = {
    "a prediction's value": (edit("op: \">=\", value: 7}", "op: \">=\", value: 6}"), "predictions.1.value"),
    "a new prediction": (edit("predictions:\n", "predictions:\n  - {label: X, metric: points, op: '>', value: 1}\n"),
                         "predictions"),
    "the primary threshold": (edit('op: ">=", value: 9.0}', 'op: ">=", value: 4.0}'),
                              "success_criteria.primary.value"),
    "the statement": (edit("reaches 9/10 personality", "reaches 8/10 personality"), "statement"),
    "the experiment": (edit("epochs: 6", "epochs: 5"), "experiment.training.epochs"),
    "a default written with another value": (edit("temperature: 0.7}", "temperature: 0.7, samples: 3}"),
                                             "experiment.eval.samples"),
}


@pytest.mark.parametrize("case", list(LOCKED_EDITS))
def test_edits_to_locked_parts_break_the_lock_and_say_what_changed(case):
    text, field = LOCKED_EDITS[case]
    state = lock_state(load(text), LOCK, locked_content(ORIGINAL), [])
    assert state.status == "amended-after-results"
    assert state.sha256 == LOCK
    assert state.current != LOCK
    assert [c["field"] for c in state.changes] == [field]


def test_a_changed_threshold_shows_old_and_new_values():
    state = lock_state(load(LOCKED_EDITS["the primary threshold"][0]), LOCK, locked_content(ORIGINAL), [])
    assert state.changes == [{"field": "success_criteria.primary.value", "old": 9.0, "new": 4.0}]


def test_a_lock_whose_run_still_runs_elsewhere_is_judged_by_its_tag_until_its_copy_is_logged():
    """Two labs on one server: the other lab's first result took the lock a moment ago and is uploading its
    locked copy. That is not tampering; a finished run without its copy is."""
    assert lock_state(ORIGINAL, LOCK, None, [], pending=True).status == "intact"
    changed = load(LOCKED_EDITS["the primary threshold"][0])
    assert lock_state(changed, LOCK, None, [], pending=True).status == "amended-after-results"
    finished = lock_state(ORIGINAL, LOCK, None, [])
    assert finished.status == "broken" and "locked copy" in finished.problems[0]
    assert lock_state(ORIGINAL, LOCK, {"tampered": True}, [], pending=True).status == "broken"


def test_without_results_there_is_no_lock():
    state = lock_state(ORIGINAL, None, None, [])
    assert state.status == "unlocked"
    assert state.current == LOCK


def test_an_amendment_accepts_the_changed_content():
    changed = load(LOCKED_EDITS["the primary threshold"][0])
    before = lock_state(changed, LOCK, locked_content(ORIGINAL), [])
    amendment = Amendment("2026-02-12T10:00:00+00:00", "threshold was a typo", LOCK, before.current, before.changes)
    after = lock_state(changed, LOCK, locked_content(ORIGINAL), [amendment])
    assert after.status == "amended"
    assert after.sha256 == LOCK  # the original hash is kept
    assert after.amendments[0].reason == "threshold was a typo"
    # Undoing the amended change is itself a change after results.
    undone = lock_state(ORIGINAL, LOCK, locked_content(ORIGINAL), [amendment])
    assert undone.status == "amended-after-results"
    assert undone.changes == [{"field": "success_criteria.primary.value", "old": 4.0, "new": 9.0}]


def test_diff_lists_changed_leaves():
    assert diff({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 1, "c": 3}, "d": [1], "e": 0}) == [
        {"field": "a.c", "old": 2, "new": 3}, {"field": "e", "old": None, "new": 0}]
