"""Reading hypothesis files (SPEC §3): a bad file is refused with one line naming file:line and the field,
and refusing it changes nothing."""

import re

import pytest

from conftest import H003_YAML, run_hyp, store_exists
from hyp.hypotheses.lab import Lab


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def edit(old: str, new: str, text: str = H003_YAML) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))
BILLION_LAUGHS = 'l0: &l0 "lol"\n' + BOMB

# name: (file text, the line the error must name, words the message must contain)
BAD_FILES = {
    "yaml syntax": (edit("title: Hybrid", "title: [Hybrid"), None, ["YAML syntax error"]),
    "tab indentation": (edit("version: v2.3", "version: v2.3\n\tauthor: x"), None, ["YAML syntax error"]),
    "misspelled key": (edit("learning_rate: 2.0e-4", "learning_rat: 2.0e-4"), "learning_rat",
                       ["experiment.training.learning_rat", "unknown key", "did you mean 'learning_rate'"]),
    "unknown top-level key": (edit("author:", "autor:"), "autor:", ["autor", "unknown key", "author"]),
    "unknown key in a criterion": (edit('primary:   {metric: score, op: ">=", value: 9.0}',
                                        'primary:   {metric: score, op: ">=", value: 9.0, weight: 2}'),
                                   "primary:", ["success_criteria.primary.weight", "unknown key"]),
    "wrong type: words for a number": (edit("epochs: 6", "epochs: six"), "epochs: six",
                                       ["experiment.training.epochs", "integer"]),
    "wrong type: fraction for an integer": (edit("epochs: 6", "epochs: 6.5"), "epochs: 6.5",
                                            ["experiment.training.epochs"]),
    "wrong type: list for a string": (edit("title: Hybrid curated + synthetic data reaches 9/10", "title: [a, b]"),
                                      "title:", ["title", "string"]),
    "wrong type: list for a mapping": (edit('  training.epochs: "slightly more training for synthetic data"',
                                            "  - a list, not a mapping"), "rationale:", ["rationale"]),
    "missing id": (edit("id: H003\n", ""), None, ["id", "required"]),
    "missing title": (edit("title: Hybrid curated + synthetic data reaches 9/10\n", ""), None, ["title", "required"]),
    "missing statement": (re.sub(r"statement: >\n(  .*\n)+", "", H003_YAML), None, ["statement", "required"]),
    "missing model name": (edit('model: {name: "builtin:tiny"}', "model: {quantization: none}"), "model:",
                           ["experiment.model.name", "required"]),
    "missing curated path": (edit("curated: {path: data/curated.json, select_top: 100}", "curated: {select_top: 100}"),
                             "curated:", ["experiment.dataset.curated.path", "required"]),
    "missing eval suite": (edit("eval: {suite: evals/personality.yaml, temperature: 0.7}", "eval: {temperature: 0.7}"),
                           "eval:", ["experiment.eval.suite", "required"]),
    "missing primary criterion": (edit('  primary:   {metric: score, op: ">=", value: 9.0}\n', ""),
                                  "success_criteria:", ["success_criteria.primary", "required"]),
    "unknown operator": (edit('op: ">=", value: 9.0', 'op: "=>", value: 9.0'), "primary:",
                         ["success_criteria.primary.op", "between"]),
    "between with one value": (edit("op: between, value: [8.8, 9.2]", "op: between, value: 9.0"), "Overall score",
                               ["predictions[4]", "two values"]),
    "between with three values": (edit("op: between, value: [8.8, 9.2]", "op: between, value: [8.8, 9.0, 9.2]"),
                                  "Overall score", ["predictions[4]"]),
    "between upside down": (edit("op: between, value: [8.8, 9.2]", "op: between, value: [9.2, 8.8]"),
                            "Overall score", ["predictions[4]", "low"]),
    "one-sided op with two values": (edit('op: ">=", value: 9.0', 'op: ">=", value: [9.0, 9.5]'), "primary:",
                                     ["success_criteria.primary", "one number"]),
    "id not the file name": (edit("id: H003", "id: H004"), "id: H004", ["id", "H004", "file name"]),
    "id not an id": (edit("id: H003", "id: hyp3"), "id: hyp3", ["id"]),
    "python object tag": (edit("author: Cláudio", "author: !!python/object/apply:os.system ['touch {marker}']"),
                          "author:", ["author", "tag", "not allowed"]),
    "custom tag": (edit("author: Cláudio", "author: !secret x"), "author:", ["author", "tag"]),
    "billion laughs": (BILLION_LAUGHS + H003_YAML, "l0:", ["anchors and aliases are not allowed"]),
    "merge key": (edit("rationale:\n", "base: &b {x: 1}\nrationale:\n  <<: *b\n"), "base:", ["not allowed"]),
    "duplicate key": (edit("author: Cláudio", "author: Cláudio\nauthor: Someone"), "author: Someone",
                      ["author", "duplicate"]),
    "curated data file missing": (edit("data/curated.json", "data/nope.json"), "curated:",
                                  ["experiment.dataset.curated.path", "data/nope.json", "does not exist"]),
    "synthetic data file missing": (edit("data/synthetic.json", "data/nope.json"), "synthetic:",
                                    ["experiment.dataset.synthetic.path", "does not exist"]),
    "eval suite missing": (edit("evals/personality.yaml", "evals/nope.yaml"), "eval:",
                           ["experiment.eval.suite", "evals/nope.yaml", "does not exist"]),
    "model directory missing": (edit('model: {name: "builtin:tiny"}', 'model: {name: "./models/tinyllama"}'),
                                "model:", ["experiment.model.name", "./models/tinyllama", "does not exist"]),
    "model directory missing in a lab folder": (edit('model: {name: "builtin:tiny"}', 'model: {name: "data/base"}'),
                                                "model:", ["experiment.model.name", "data/base", "does not exist"]),
    "not a mapping": ("- just\n- a list\n", None, ["mapping"]),
    "not UTF-8": (None, None, ["UTF-8"]),
}


def write_bad(lab, case, tmp_path):
    text, line_needle, words = BAD_FILES[case]
    path = lab / "hypotheses" / "H003.yaml"
    if text is None:
        path.write_bytes(H003_YAML.replace("Cláudio", "Cl\xe1udio").encode("latin-1"))
    else:
        path.write_text(text.replace("{marker}", str(tmp_path / "pwned")), encoding="utf-8")
    line = line_of(text, line_needle) if line_needle else None
    return path, line, words


@pytest.mark.parametrize("command", ["validate", "show"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_exits_2_with_one_line_naming_file_line_and_field(lab, tmp_path, case, command):
    path, line, words = write_bad(lab, case, tmp_path)
    before = path.read_bytes()

    r = run_hyp(command, "H003", lab=lab)

    assert r.code == 2, r
    assert len(r.err_lines) == 1, r.err
    message = r.err_lines[0]
    assert re.search(r"H003\.yaml:\d+: ", message), message
    if line is not None:
        assert f"H003.yaml:{line}: " in message, message
    for word in words:
        assert word in message, message
    assert "Traceback" not in r.err
    assert r.out == ""
    assert path.read_bytes() == before
    assert not store_exists(lab)
    assert not (tmp_path / "pwned").exists()


def test_an_alias_bomb_is_refused_quickly(lab, tmp_path):
    import time

    (lab / "hypotheses" / "H003.yaml").write_text(BILLION_LAUGHS + H003_YAML, encoding="utf-8")
    start = time.perf_counter()
    assert run_hyp("validate", lab=lab).code == 2
    assert time.perf_counter() - start < 2


def test_validate_reports_every_problem_of_a_file_one_line_each(lab):
    text = edit("epochs: 6", "epochs: six", edit("author:", "autor:"))
    (lab / "hypotheses" / "H003.yaml").write_text(text, encoding="utf-8")
    r = run_hyp("validate", lab=lab)
    assert r.code == 2
    assert [m.split(": ")[2] for m in r.err_lines] == ["autor", "experiment.training.epochs"]
    assert f"H003.yaml:{line_of(text, 'autor:')}:" in r.err_lines[0]


def test_validate_names_which_file_of_several_is_bad(lab):
    (lab / "hypotheses" / "H004.yaml").write_text(edit("id: H003", "id: H004", edit("op: \">=\", value: 9.0",
                                                                                   "op: \"=>\", value: 9.0")))
    r = run_hyp("validate", lab=lab)
    assert r.code == 2
    assert len(r.err_lines) == 1
    assert "H004.yaml" in r.err
    ok = run_hyp("validate", "H003", lab=lab)
    assert ok.code == 0
    assert "H003" in ok.out


def test_validate_passes_a_good_file(lab):
    r = run_hyp("validate", lab=lab)
    assert r.code == 0, r
    assert "1 hypothesis valid: H003" in r.out


@pytest.mark.parametrize("written", ["1e-4", "1E-4", "1.0e-4", "0.0001"])
def test_exponents_without_a_dot_are_floats(lab, written):
    text = edit("learning_rate: 2.0e-4", f"learning_rate: {written}")
    (lab / "hypotheses" / "H003.yaml").write_text(text, encoding="utf-8")
    hyp = Lab(lab).load("H003")
    assert isinstance(hyp.experiment.training.learning_rate, float)
    assert hyp.experiment.training.learning_rate == pytest.approx(1e-4)
    r = run_hyp("show", "H003", "--json", lab=lab)
    assert r.json["hypothesis"]["experiment"]["training"]["learning_rate"] == pytest.approx(1e-4)


def test_defaults_fill_what_the_file_leaves_out(lab):
    e = Lab(lab).load("H003").experiment
    assert (e.training.batch_size, e.training.grad_accum, e.training.max_seq_length) == (2, 4, 512)
    assert (e.eval.max_new_tokens, e.eval.top_p, e.eval.samples, e.replicates) == (384, 0.9, 1, 1)
    assert e.model.quantization == "none"


@pytest.mark.parametrize(("old", "new", "field"), [
    ("epochs: 6", "epochs: true", "epochs"),
    ("  eval:", "  replicates: true\n  eval:", "replicates"),
    ("select_top: 100", "select_top: false", "select_top"),
])
def test_a_boolean_is_not_a_number(lab, old, new, field):
    (lab / "hypotheses" / "H003.yaml").write_text(edit(old, new), encoding="utf-8")
    r = run_hyp("validate", lab=lab)
    assert r.code == 2
    assert len(r.err_lines) == 1
    assert field in r.err


def test_a_boolean_for_a_number_names_its_own_line(lab):
    text = edit("  eval:", "  replicates: true\n  eval:")
    (lab / "hypotheses" / "H003.yaml").write_text(text, encoding="utf-8")
    r = run_hyp("validate", lab=lab)
    assert f"H003.yaml:{line_of(text, 'replicates: true')}: " in r.err


def test_a_boolean_inside_a_range_is_not_a_number(lab):
    text = edit("op: between, value: [8.8, 9.2]", "op: between, value: [true, 9.2]")
    (lab / "hypotheses" / "H003.yaml").write_text(text, encoding="utf-8")
    assert run_hyp("validate", lab=lab).code == 2


def test_a_criterion_threshold_must_be_a_number(lab):
    (lab / "hypotheses" / "H003.yaml").write_text(edit('op: ">=", value: 9.0', 'op: ">=", value: .nan'))
    r = run_hyp("validate", lab=lab)
    assert r.code == 2


def test_a_folded_statement_reads_as_plain_text(lab):
    r = run_hyp("show", "H003", "--json", lab=lab)
    statement = r.json["hypothesis"]["statement"]
    assert statement.strip() == "A dataset of 67% curated and 33% synthetic conversations reaches 9/10 personality " \
                                "transfer."


def test_a_bad_evaluation_suite_is_named_by_validate_and_stops_record(lab):
    suite = lab / "evals" / "personality.yaml"
    text = suite.read_text(encoding="utf-8").replace("  - {id: Q2,", "  - {idd: Q2,")
    suite.write_text(text, encoding="utf-8")
    r = run_hyp("validate", "H003", lab=lab)
    assert r.code == 2
    assert f"personality.yaml:{line_of(text, 'idd: Q2')}: questions[1]" in r.err
    record = run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab)
    assert record.code == 2
    assert "personality.yaml" in record.err
    assert not store_exists(lab)


def test_list_skips_a_broken_file_and_says_so(lab):
    (lab / "hypotheses" / "H004.yaml").write_text(edit("id: H003", "id: H009"), encoding="utf-8")
    r = run_hyp("list", "--json", lab=lab)
    assert r.code == 0
    assert [row["id"] for row in r.json] == ["H003"]
    assert "H004.yaml" in r.err and "file name" in r.err


def test_an_edit_in_the_same_timestamp_tick_is_not_missed(lab):
    import os

    (lab / ".hyp").mkdir()
    assert run_hyp("list", lab=lab).code == 0  # fills the parse cache
    path = lab / "hypotheses" / "H003.yaml"
    before = os.stat(path)
    path.write_text(edit("epochs: 6", "epochs: 5"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as if both writes fell in one clock tick
    r = run_hyp("show", "H003", "--json", lab=lab)
    assert r.json["hypothesis"]["experiment"]["training"]["epochs"] == 5
