"""Bad input everywhere (issue 6): every case exits 2 with one line naming the file, line or field,
and writes nothing: no store, no run, no report, no changed file. Real CLI, real MLflow."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conftest import H003_CSV, make_lab, run_hyp


def snapshot(lab: Path) -> dict[str, str]:
    """Every file of the lab but hyp's caches, by content: what a failed command must leave alone."""
    out = {}
    for path in sorted(lab.rglob("*")):
        rel = path.relative_to(lab).as_posix()
        if path.is_file() and rel not in (".hyp/parsed.json", ".hyp/index.json"):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def write(lab: Path, rel: str, content: str | bytes) -> None:
    path = lab / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


HUGE = '[{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "' + "a" * 2_100_000 + '"}]}]'

# (what is broken, files to write, command, what the one line must name)
CASES = [
    ("data: not JSON", {"data/curated.json": "[{oops"}, ["data", "H003"], "curated.json"),
    ("data: wrong shape", {"data/curated.json": '{"conversations": []}'}, ["data", "H003"], "curated.json"),
    ("data: no conversations key", {"data/curated.json": '[{"turns": []}]'}, ["data", "H003"], "curated.json"),
    ("data: empty file", {"data/curated.json": ""}, ["data", "H003"], "curated.json"),
    ("data: empty list", {"data/curated.json": "[]"}, ["data", "H003"], "curated.json"),
    ("data: invalid UTF-8", {"data/curated.json": b'[{"conversations": "\xff\xfe"}]'}, ["data", "H003"],
     "curated.json"),
    ("data: huge single conversation", {"data/curated.json": HUGE}, ["data", "H003"], "curated.json"),
    ("data: missing file", {"data/synthetic.json": None}, ["data", "H003"], "synthetic.json"),
    ("suite: not YAML", {"evals/personality.yaml": "questions: [\n"}, ["data", "H003"], "personality.yaml"),
    ("suite: unknown key", {"evals/personality.yaml": "name: s\npersona: {name: x}\nquestion: []\n"},
     ["data", "H003"], "personality.yaml:3: question: unknown key (did you mean 'questions'?)"),
    ("suite: duplicate question id",
     {"evals/personality.yaml": "name: s\npersona: {name: x}\nquestions:\n  - {id: Q1, prompt: a}\n"
                                "  - {id: Q1, prompt: b}\n"}, ["data", "H003"], "personality.yaml"),
    ("--set: unknown key", {}, ["run", "H003", "--set", "training.epoch=4"], "did you mean 'epochs'"),
    ("--set: wrong type", {}, ["run", "H003", "--set", "training.epochs=many"], "training.epochs"),
    ("--set: no value", {}, ["run", "H003", "--set", "training.epochs"], "training.epochs"),
    ("--scores: missing column", {"s.csv": "question,agent,factual,personality\nQ1,2,2,2\n"},
     ["record", "H003", "--scores", "{lab}/s.csv"], "complete"),
    ("--scores: out of range", {"s.csv": H003_CSV.replace("Q1,2,1,1,1", "Q1,3,1,1,1")},
     ["record", "H003", "--scores", "{lab}/s.csv"], "s.csv"),
    ("--scores: unknown question", {"s.csv": H003_CSV.replace("Q8,", "Q9,")},
     ["record", "H003", "--scores", "{lab}/s.csv"], "Q9"),
    ("--scores: not a number", {"s.csv": H003_CSV.replace("Q1,2,1,1,1", "Q1,two,1,1,1")},
     ["record", "H003", "--scores", "{lab}/s.csv"], "s.csv"),
    ("--responses: unknown question", {"r.json": '[{"question": "Q42", "response": "hi"}]'},
     ["record", "H003", "--responses", "{lab}/r.json"], "Q42"),
    ("--responses: wrong shape", {"r.json": '{"Q1": "hi"}'}, ["record", "H003", "--responses", "{lab}/r.json"],
     "r.json"),
    ("--metric: not a number", {}, ["record", "H003", "--metric", "score=high"], "score"),
    ("hyp.toml: unreachable tracking URI",
     {"hyp.toml": '[lab]\nexperiment = "x"\n[tracking]\nuri = "postgresql://nobody@127.0.0.1:9/none"\n'},
     ["record", "H003", "--metric", "score=8"], "cannot reach 127.0.0.1:9"),
    ("hyp.toml: not TOML", {"hyp.toml": "[lab\n"}, ["list"], "hyp.toml"),
]


@pytest.mark.parametrize("what,files,command,names", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, what, files, command, names):
    lab = make_lab(tmp_path / "lab")
    for rel, content in files.items():
        if content is None:
            (lab / rel).unlink()
        else:
            write(lab, rel, content)
    before = snapshot(lab)
    result = run_hyp(*[arg.format(lab=lab) for arg in command], lab=lab)
    assert result.code == 2, (what, result.out, result.err)
    assert len(result.err_lines) == 1, result.err
    assert names in result.err, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert snapshot(lab) == before, "a failed command changed the lab"
