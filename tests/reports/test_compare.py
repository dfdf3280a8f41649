"""`hyp compare`: the latest results of several hypotheses side by side, differences only unless --all."""

from __future__ import annotations

import io

import pytest

from conftest import H003_YAML, hypothesis_text, make_lab, mlflow_runs, run_hyp
from hyp.reports.compare import side_by_side
from hyp.store.base import RunRecord


def record(run_id: str, params: dict, metrics: dict) -> RunRecord:
    return RunRecord(run_id, "H", "H", "record", "FINISHED", 0, 1, None, {}, params, metrics)


def test_a_run_compares_question_by_question_from_its_replicates():
    """Issue 19: `hyp run` keeps per-question scores on its replicates only; compare still shows them."""
    from hyp.reports.compare import with_replicates

    parent = RunRecord("p", "H004", "H004", "run", "FINISHED", 0, 1, None, {}, {}, {"score": 7.0})
    replicates = [RunRecord(f"r{i}", f"H004-r{i}", "H004", "replicate", "FINISHED", 0, 1, "p", {}, {},
                            {"score": 6.0 + 2 * i, "Q1.total": 5.0 + i}) for i in range(2)]
    failed = RunRecord("r2", "H004-r2", "H004", "replicate", "FAILED", 0, 1, "p", {}, {}, {"Q1.total": 0.0})

    shown = with_replicates(parent, [parent, *replicates, failed])

    assert shown.metrics == {"score": 7.0, "Q1.total": 5.5}  # the parent's own score stands


def test_only_rows_that_differ_unless_all_rows():
    runs = [record("a", {"training.epochs": "6", "training.lora_r": "16"}, {"score": 7.4, "Q10.total": 5.0}),
            record("b", {"training.epochs": "4", "training.lora_r": "16"}, {"score": 7.4, "Q2.total": 4.0})]
    heads = [{"id": "H002"}, {"id": "H003"}]

    diff = side_by_side(heads, runs)
    full = side_by_side(heads, runs, all_rows=True)

    assert diff.params == {"training.epochs": ["6", "4"]}
    assert diff.metrics == {"Q2.total": [None, 4.0], "Q10.total": [5.0, None]}  # a missing value is a difference
    assert full.params == {"training.epochs": ["6", "4"], "training.lora_r": ["16", "16"]}
    assert list(full.metrics) == ["score", "Q2.total", "Q10.total"]


@pytest.fixture
def lab(tmp_path, blank_store):
    """H002 (6 epochs, 8.2) and H003 (4 epochs, hand-scored 4.5) recorded; H005 never run."""
    h2 = hypothesis_text("H002").replace("version: v2.3", "version: v2.1").replace("parent: H002\n", "")
    h3 = H003_YAML.replace("training: {epochs: 6,", "training: {epochs: 4,")
    lab = make_lab(tmp_path / "lab", {"H002": h2, "H003": h3, "H005": hypothesis_text("H005")}, store=blank_store)
    assert run_hyp("record", "H002", "--metric", "score=8.2", "--metric", "points=52", lab=lab).code == 0
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0
    return lab


def test_json_has_one_value_per_hypothesis_in_the_order_given(lab):
    r = run_hyp("compare", "H003", "H002", "--json", lab=lab)

    assert r.code == 0, r
    data = r.json
    (run3,), (run2,) = mlflow_runs(lab, "H003"), mlflow_runs(lab, "H002")
    assert [(x["id"], x["run_id"]) for x in data["runs"]] == [("H003", run3.info.run_id), ("H002", run2.info.run_id)]
    assert data["params"] == {"training.epochs": ["4", "6"]}
    assert data["metrics"]["score"] == [4.5312, 8.2]  # 29 of 64 points, as the rubric rounds it
    assert data["metrics"]["points"] == [29.0, 52.0]
    assert data["metrics"]["Q1.total"] == [5.0, None]
    assert "training.lora_r" not in data["params"]


def test_all_shows_equal_rows_too(lab):
    data = run_hyp("compare", "H002", "H003", "--all", "--json", lab=lab).json

    assert data["params"]["training.lora_r"] == ["16", "16"]
    assert data["params"]["training.epochs"] == ["6", "4"]


def test_the_table_highlights_changes_from_the_first_column(lab):
    from rich.console import Console

    from hyp.cli import compare as cli_compare
    from hyp.hypotheses.lab import Lab
    from hyp.reports.compare import compare

    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, color_system="standard", width=200).print(
        cli_compare._table(compare(Lab(lab), ["H002", "H003"])))
    text = buffer.getvalue()

    assert "\x1b[1;33m4\x1b[0m" in text  # epochs 6 → 4, in bold yellow
    assert "\x1b[1;33m4.531 (-3.669, no interval)\x1b[0m" in text  # H002 is one number: no better or worse
    assert "H002 v2.1" in text and "H003 v2.3" in text
    plain = run_hyp("compare", "H002", "H003", lab=lab)
    assert plain.code == 0 and "training.epochs" in plain.out and "lora_r" not in plain.out


@pytest.mark.parametrize(("args", "what"), [
    (["H002", "H042"], "H042"),
    (["H002", "H005"], "no results"),
    (["H002"], "at least two"),
    (["H002", "X1"], "not a hypothesis id"),
])
def test_unknown_or_unrecorded_hypotheses_exit_2(lab, args, what):
    r = run_hyp("compare", *args, lab=lab)

    assert r.code == 2, r
    assert what in r.err
    assert r.out == ""


def scores_csv(path, rows):
    path.write_text("question,agent,factual,personality,complete\n"
                    + "".join(f"Q{i},{','.join(map(str, r))}\n" for i, r in enumerate(rows, start=1)))
    return path


def test_differences_are_paired_by_question_and_called_better_only_when_clear(lab):
    (lab / "hypotheses" / "H006.yaml").write_text(hypothesis_text("H006"))
    (lab / "hypotheses" / "H007.yaml").write_text(hypothesis_text("H007"))
    clear = scores_csv(lab / "clear.csv", [[2, 2, 2, 2]] * 8)
    mixed = scores_csv(lab / "mixed.csv", [[2, 2, 2, 2], [0, 0, 0, 0], [2, 2, 2, 2], [0, 0, 0, 0],
                                           [2, 2, 2, 1], [0, 0, 1, 0], [2, 1, 0, 1], [1, 0, 0, 1]])
    assert run_hyp("record", "H006", "--scores", clear, lab=lab).code == 0
    assert run_hyp("record", "H007", "--scores", mixed, lab=lab).code == 0

    data = run_hyp("compare", "H003", "H006", "H007", "H002", "--json", lab=lab).json
    base, better, unclear, point = data["differences"]["score"]
    assert base is None
    assert better["low"] > 0 and better["method"] == "cluster-t"  # every question gained
    assert unclear["low"] < 0 < unclear["high"]  # gains and losses: no clear difference
    assert point["low"] is None and point["method"] == "point"  # H002 is one recorded number
    table = run_hyp("compare", "H003", "H006", "H007", lab=lab).out
    assert "better" in table and "no clear difference" in table
