"""A suite's `reference:` answer (SPEC §4): an empty one is bad input, named by file, line and field
(exit 2), not a silent ROUGE-L of 0 for every answer."""

from __future__ import annotations

import pytest

from conftest import make_lab, run_hyp, store_exists


@pytest.mark.parametrize("reference", ['""', "'   '"])
def test_an_empty_reference_answer_is_refused_with_its_place(tmp_path, reference):
    lab = make_lab(tmp_path / "lab")
    suite = lab / "evals" / "personality.yaml"
    text = suite.read_text(encoding="utf-8")
    suite.write_text(text.replace("forbidden: [ADRP]}", f"forbidden: [ADRP], reference: {reference}}}"),
                     encoding="utf-8")
    line = next(i for i, row in enumerate(suite.read_text(encoding="utf-8").splitlines(), 1) if "reference" in row)

    for args in (["validate"], ["record", "H003", "--scores", lab / "scores.csv"]):
        result = run_hyp(*args, lab=lab)
        assert result.code == 2, result
        (message,) = result.err_lines
        assert f"personality.yaml:{line}: questions[0].reference: empty" in message
    assert not store_exists(lab)  # nothing was logged


def test_a_reference_with_text_is_accepted(tmp_path):
    lab = make_lab(tmp_path / "lab")
    suite = lab / "evals" / "personality.yaml"
    suite.write_text(suite.read_text(encoding="utf-8").replace(
        "forbidden: [ADRP]}", "forbidden: [ADRP], reference: João founded Softtor.}"), encoding="utf-8")
    assert run_hyp("validate", lab=lab).code == 0
