"""Issue 17, case 10 (the audit's variant): an answer file within the 100 MB input limit whose answers are
megabytes long held `hyp record` for minutes (the coherence checks read every word). An answer is scored
up to MAX_RESPONSE_CHARS; a longer one is bad input, one line, nothing logged."""

from __future__ import annotations

import json

import pytest

from conftest import make_lab, mlflow_runs, run_hyp
from hyp.experiments.record import MAX_RESPONSE_CHARS

LONG = "João is the founder and CEO of Softtor, and he likes direct TypeScript code. " * 20_000  # 1.5 MB


@pytest.mark.parametrize("kind", ["responses", "scores"])
def test_an_answer_megabytes_long_is_refused_at_once(tmp_path, kind):
    lab = make_lab(tmp_path / "lab")
    assert len(LONG) > MAX_RESPONSE_CHARS
    if kind == "responses":
        path = lab / "r.json"
        path.write_text(json.dumps([{"question": f"Q{i}", "response": LONG if i == 1 else "Direct."}
                                    for i in range(1, 9)]))
        where = "r.json: [0].response: 1,540,000 characters"
    else:
        path = lab / "s.csv"
        rows = ["question,agent,factual,personality,complete,response"]
        rows += [f'Q{i},2,2,2,2,"{LONG if i == 1 else "Direct."}"' for i in range(1, 9)]
        path.write_text("\n".join(rows) + "\n")
        where = "s.csv:2: not a CSV row hyp can read (field larger than field limit (131072))"
    result = run_hyp("record", "H003", f"--{kind}", str(path), lab=lab)
    assert result.code == 2 and len(result.err_lines) == 1, result.err
    assert where in result.err
    assert mlflow_runs(lab) == []
