"""The LLM judge: one request per answer and criterion at temperature 0, the key only in its header,
a cache that makes rescoring free, and the rubric as the fallback for anything that goes wrong."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import make_lab, run_hyp
from hyp.errors import BadInput
from hyp.experiments.judge import apply_judgements, judge_answers
from hyp.experiments.rubric import score_answer
from hyp.hypotheses.criteria import CRITERIA
from hyp.hypotheses.judging import PROMPTS, JudgeSettings, judge_lock_content, render_prompt
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.schema import EvalSuite

KEY = "sk-judge-test-7f3a9c1e5b"
SUITE = EvalSuite.model_validate({
    "name": "judge-test",
    "persona": {"name": "Cláudio", "markers": ["Softtor", "TypeScript"], "wrong_identities": ["Gabriel"]},
    "agent_patterns": ["I'll start by"],
    "template_markers": ["<|user|>"],
    "questions": [
        {"id": "Q1", "prompt": "Who is João?", "facts": [["Softtor"], ["founder", "CEO"]], "forbidden": ["ADRP"]},
        {"id": "Q2", "prompt": "What is your stack?", "facts": [["TypeScript"]]},
    ],
})
Q1, Q2 = SUITE.questions
# The fake judge reads "grade=N" out of the answer, so each answer's judged score is known in advance.
ITEMS = [(Q1, "João founded Softtor. grade=2"), (Q2, "I write TypeScript all day. grade=1")]


class Judge:
    """An OpenAI-compatible chat endpoint on 127.0.0.1. A hosted model cannot run here, so this stands
    in for Ollama, vLLM or a llama.cpp server, which speak the same API; it grades deterministically."""

    def __init__(self):
        self.requests: list[dict] = []  # {"headers", "body"} of every request, in order
        self.reply = self.grade  # body of the request -> the reply's message content
        self.status = 200

    def grade(self, body: dict) -> str:
        answer = body["messages"][-1]["content"].split("-----")[1]
        return json.dumps({"score": int(re.search(r"grade=(\d)", answer).group(1)), "rationale": "as asked"})

    def __enter__(self):
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                judge.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                content = judge.reply(body)
                data = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
                if judge.status != 200:
                    data = json.dumps({"error": {"message": f"model {body['model']!r} not found"}})
                self.send_response(judge.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def settings(self, **kw) -> JudgeSettings:
        return JudgeSettings(base_url=f"http://127.0.0.1:{self.server.server_address[1]}/v1", model="judge-7b", **kw)


@pytest.fixture(autouse=True)
def _direct(monkeypatch):
    # A proxy from the developer's environment would otherwise carry requests for 127.0.0.1 away.
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_one_request_per_answer_and_criterion_then_none_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_TEST_KEY", KEY)
    with Judge() as judge:
        settings = judge.settings(api_key_env="JUDGE_TEST_KEY")
        first = judge_answers(settings, ITEMS, SUITE, tmp_path / "cache")
        assert len(judge.requests) == len(ITEMS) * len(CRITERIA) == first.requests
        assert first.scores == [{c: (2, "as asked") for c in CRITERIA}, {c: (1, "as asked") for c in CRITERIA}]
        assert first.warnings == [] and first.cached == 0
        for r in judge.requests:
            assert r["path"] == "/v1/chat/completions"
            assert r["body"]["temperature"] == 0 and r["body"]["model"] == "judge-7b"
            assert r["headers"]["Authorization"] == f"Bearer {KEY}"
        asked = {(r["body"]["messages"][-1]["content"].split("-----")[1].strip(),
                  r["body"]["messages"][-1]["content"].split(".")[0]) for r in judge.requests}
        assert len(asked) == 8  # every (answer, criterion) once, none twice

        again = judge_answers(settings, ITEMS, SUITE, tmp_path / "cache")
        assert len(judge.requests) == 8 and again.requests == 0 and again.cached == 8
        assert again.scores == first.scores


def test_no_key_variable_means_no_authorization_header(tmp_path):
    with Judge() as judge:
        judge_answers(judge.settings(criteria=("factual",)), ITEMS[:1], SUITE, tmp_path)
        assert len(judge.requests) == 1 and "Authorization" not in judge.requests[0]["headers"]


def test_a_missing_key_variable_stops_before_any_request(tmp_path, monkeypatch):
    monkeypatch.delenv("JUDGE_TEST_KEY", raising=False)
    with Judge() as judge:
        with pytest.raises(BadInput, match="JUDGE_TEST_KEY"):
            judge_answers(judge.settings(api_key_env="JUDGE_TEST_KEY"), ITEMS, SUITE, tmp_path)
        assert judge.requests == []


def test_a_malformed_reply_is_retried_once_then_left_to_the_rubric(tmp_path):
    with Judge() as judge:
        judge.reply = lambda body: "I think this deserves a 2."
        result = judge_answers(judge.settings(criteria=("factual",)), ITEMS, SUITE, tmp_path)
        assert len(judge.requests) == 4 == result.requests  # two answers, each asked twice
        assert result.scores == [{}, {}]
        assert len(result.warnings) == 2 and "Q1 factual" in result.warnings[0]
        assert "not one JSON object" in result.warnings[0]
        assert list(tmp_path.iterdir()) == []  # a fallback is not cached: the next pass asks again

        rubric = [score_answer(q, a, SUITE) for q, a in ITEMS]
        merged, sources = apply_judgements(rubric, result.scores)
        assert merged == rubric and all(set(s.values()) == {"rubric"} for s in sources)


def test_a_reply_or_a_cache_file_nested_too_deep_is_a_bad_reply_not_a_crash(tmp_path):
    """Python's JSON decoder recurses: 5,000 `[` from a judge server, or in a cache file, were a
    RecursionError (exit 1). A reply like that is a bad reply, left to the rubric; such a cache file is no cache."""
    deep = "[" * 5000 + "]" * 5000
    with Judge() as judge:
        judge.reply = lambda body: deep
        result = judge_answers(judge.settings(criteria=("factual",)), ITEMS[:1], SUITE, tmp_path)
        assert result.requests == 2 and result.scores == [{}]
        assert len(result.warnings) == 1 and "not one JSON object" in result.warnings[0]

        judge.reply = judge.grade
        first = judge_answers(judge.settings(criteria=("factual",)), ITEMS[:1], SUITE, tmp_path)
        (cached,) = tmp_path.iterdir()
        cached.write_text(deep)
        again = judge_answers(judge.settings(criteria=("factual",)), ITEMS[:1], SUITE, tmp_path)
        assert again.requests == 1 and again.cached == 0
        assert again.scores == first.scores == [{"factual": (2, "as asked")}]


def test_a_second_try_that_answers_is_used(tmp_path):
    with Judge() as judge:
        replies = iter(['{"score": 3, "rationale": "off the scale"}', '```json\n{"score": 1, "rationale": "ok"}\n```'])
        judge.reply = lambda body: next(replies)
        result = judge_answers(judge.settings(criteria=("agent",)), ITEMS[:1], SUITE, tmp_path)
        assert result.requests == 2 and result.scores == [{"agent": (1, "ok")}] and result.warnings == []


def test_a_server_that_is_down_falls_back_quickly_with_one_warning(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = JudgeSettings(base_url=f"http://127.0.0.1:{port}/v1", model="judge-7b")
    start = time.monotonic()
    result = judge_answers(settings, ITEMS, SUITE, tmp_path, timeout_s=2)
    assert time.monotonic() - start < 2
    assert result.scores == [{}, {}]
    assert result.requests == 2  # the first judgement and its retry; then it stops asking
    assert len(result.warnings) == 1 and "cannot connect" in result.warnings[0]
    assert "the 8 judgements left" in result.warnings[0]


def test_a_model_the_server_does_not_have_stops_the_asking_at_once(tmp_path):
    with Judge() as judge:
        judge.status = 404  # what Ollama answers for a model it has not pulled
        result = judge_answers(judge.settings(), ITEMS, SUITE, tmp_path)
        assert len(judge.requests) == 1 and result.scores == [{}, {}]
    assert result.warnings == [f"judge: {judge.settings().base_url}: HTTP 404: "
                               "{\"error\": {\"message\": \"model 'judge-7b' not found\"}}; "
                               "the rubric scores the 8 judgements left"]


def test_a_server_that_never_answers_falls_back_within_the_timeout(tmp_path):
    with socket.socket() as listener:  # accepts connections, never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        settings = JudgeSettings(base_url=f"http://127.0.0.1:{listener.getsockname()[1]}/v1", model="m")
        start = time.monotonic()
        result = judge_answers(settings, ITEMS, SUITE, tmp_path, timeout_s=0.3)
        assert time.monotonic() - start < 2
    assert result.scores == [{}, {}] and len(result.warnings) == 1 and "within 0.3 s" in result.warnings[0]


def test_the_key_appears_nowhere_the_judge_writes_or_returns(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_CRED", KEY)  # a name redact() would not guess is a secret
    with Judge() as judge:
        # A hostile or buggy server echoes the Authorization header into its rationale.
        judge.reply = lambda body: json.dumps({"score": 2, "rationale": f"you sent {judge.requests[-1]['headers']}"})
        result = judge_answers(judge.settings(api_key_env="JUDGE_CRED"), ITEMS, SUITE, tmp_path / "cache")
        assert len(judge.requests) == 8
    files = list((tmp_path / "cache").iterdir())
    assert len(files) == 8
    assert all(KEY not in f.read_text(encoding="utf-8") for f in files)
    assert KEY not in repr(result) and "[JUDGE_CRED redacted]" in result.scores[0]["agent"][1]


def test_judge_scores_take_precedence_over_the_rubric_per_criterion():
    rubric = [score_answer(q, a, SUITE) for q, a in ITEMS]
    assert rubric[0].personality == 1  # one marker (Softtor)
    merged, sources = apply_judgements(rubric, [{"personality": (2, "speaks as Cláudio")}, {}])
    assert merged[0].personality == 2 and merged[0].factual == rubric[0].factual
    assert merged[1] == rubric[1]
    assert sources[0] == {"agent": "rubric", "factual": "rubric", "personality": "judge", "complete": "rubric"}


def test_the_prompt_carries_the_rubric_the_suite_and_the_answer():
    system, user = render_prompt("factual", Q1, SUITE, "Answer with {braces}")
    assert system["role"] == "system" and '"score"' in system["content"]
    assert user["role"] == "user"
    for text in ("Who is João?", "1. Softtor", "2. founder or CEO", "- ADRP", "Answer with {braces}"):
        assert text in user["content"]
    assert judge_lock_content(JudgeSettings("http://x/v1", "m", criteria=("factual",)))["prompts"] == {
        "factual": PROMPTS["factual"]}


JUDGE_TOML = '\n[judge]\nbase_url = "http://127.0.0.1:11434/v1"\nmodel = "{model}"\n'


def test_the_lock_changes_with_the_judges_model_only_when_a_judge_is_configured(tmp_path):
    lab = make_lab(tmp_path / "lab")
    hyp = Lab(lab).load("H003")
    without = Lab(lab).lock_inputs(hyp)
    assert "judge" not in without  # labs without a judge keep the lock they had

    toml = (lab / "hyp.toml").read_text(encoding="utf-8")
    (lab / "hyp.toml").write_text(toml + JUDGE_TOML.format(model="qwen2.5:7b-instruct"), encoding="utf-8")
    first = Lab(lab).lock_inputs(hyp)
    assert first["judge"]["model"] == "qwen2.5:7b-instruct" and set(first["judge"]["prompts"]) == set(CRITERIA)
    (lab / "hyp.toml").write_text(toml + JUDGE_TOML.format(model="llama3.1:8b"), encoding="utf-8")
    assert Lab(lab).lock_inputs(hyp) != first
    assert {k: v for k, v in first.items() if k != "judge"} == without


@pytest.mark.parametrize("table, message", [
    ('model = "m"', "judge.base_url: required"),
    ('base_url = "127.0.0.1:11434"\nmodel = "m"', "judge.base_url: expected an http"),
    ('base_url = "http://h/v1"\nmodel = ""', "judge.model: expected a non-empty string"),
    ('base_url = "http://h/v1"\nmodel = "m"\ncriteria = ["tone"]', "judge.criteria: unknown criterion 'tone'"),
    ('base_url = "http://h/v1"\nmodel = "m"\ncriteria = []', "judge.criteria: expected a non-empty list"),
    ('base_url = "http://h/v1"\nmodel = "m"\ntemperature = 0', "judge.temperature: unknown key"),
    (f'base_url = "http://h/v1"\nmodel = "m"\napi_key_env = "{KEY}"', "judge.api_key_env: expected the NAME"),
])
def test_a_bad_judge_section_exits_2_naming_the_key(tmp_path, table, message):
    lab = make_lab(tmp_path / "lab")
    with (lab / "hyp.toml").open("a", encoding="utf-8") as f:
        f.write(f"\n[judge]\n{table}\n")
    result = run_hyp("validate", lab=lab)
    assert result.code == 2
    assert "hyp.toml: " + message in result.err
    assert KEY not in result.err + result.out  # a key pasted in place of its variable's name is not echoed


def test_a_judge_for_some_criteria_reads_back_in_canonical_order(tmp_path):
    lab = make_lab(tmp_path / "lab")
    with (lab / "hyp.toml").open("a", encoding="utf-8") as f:
        f.write('\n[judge]\nbase_url = "http://h:1/v1/"\nmodel = "m"\napi_key_env = "OPENAI_API_KEY"\n'
                'criteria = ["personality", "factual"]\n')
    assert Lab(lab).settings.judge == JudgeSettings("http://h:1/v1", "m", "OPENAI_API_KEY", ("factual", "personality"))


def test_cache_files_are_one_per_judgement(tmp_path):
    with Judge() as judge:
        judge_answers(judge.settings(criteria=("complete",)), ITEMS, SUITE, tmp_path)
    names = sorted(p.name for p in Path(tmp_path).iterdir())
    assert len(names) == 2 and all(re.fullmatch(r"[0-9a-f]{64}\.json", n) for n in names)
    assert json.loads((tmp_path / names[0]).read_text())["model"] == "judge-7b"


def test_a_lab_with_a_judge_scores_recorded_answers_through_it(tmp_path, blank_store, monkeypatch):
    """`hyp record --responses` in a lab whose hyp.toml names a judge: the judge's scores decide (no hand
    scores exist), the rubric's are kept beside them, a second pass asks nothing, and the key never reaches
    the store or the report."""
    monkeypatch.setenv("JUDGE_TEST_KEY", KEY)
    lab = make_lab(tmp_path / "lab", store=blank_store)
    answers = [{"question": f"Q{i}", "response": "A plain answer with nothing the rubric looks for. grade=2"}
               for i in range(1, 9)]
    (lab / "answers.json").write_text(json.dumps(answers))
    with Judge() as judge:
        with open(lab / "hyp.toml", "a") as f:
            f.write(f'\n[judge]\nbase_url = "{judge.settings().base_url}"\nmodel = "judge-7b"\n'
                    'api_key_env = "JUDGE_TEST_KEY"\n')
        first = run_hyp("record", "H003", "--responses", lab / "answers.json", lab=lab)
        assert first.code == 0, first
        assert len(judge.requests) == 8 * len(CRITERIA)
        verdict = run_hyp("verdict", "H003", "--json", lab=lab).json
        assert verdict["observations"]["score"]["estimate"] == 10.0  # the judge's 2s, not the rubric's
        assert verdict["observations"]["rubric.score"]["estimate"] < 10.0
        assert verdict["verdict"] == "CONFIRMED"

        second = run_hyp("record", "H003", "--responses", lab / "answers.json", lab=lab)
        assert second.code == 0, second
        assert len(judge.requests) == 8 * len(CRITERIA)  # all from the cache
    assert run_hyp("report", "H003", lab=lab).code == 0
    leaked = [p for p in lab.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaked == []  # not in mlflow.db, the artifacts, the judge cache, the report or the index
