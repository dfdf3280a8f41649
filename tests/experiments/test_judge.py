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

        rubric = [score_answer(q, a, SUITE) for q, a in ITEMS]
        merged, sources = apply_judgements(rubric, result.scores)
        assert merged == rubric and all(set(s.values()) == {"rubric"} for s in sources)


def test_a_bad_grade_is_cached_as_failed_and_asked_again_only_when_the_judge_changes(tmp_path):
    """At temperature 0 a model that broke the reply format twice breaks it again: the next pass asks
    nothing (it warned every pass, the rubric scores it), until the judge's URL or model changes or the
    cache file is deleted."""
    with Judge() as judge:
        judge.reply = lambda body: "I think this deserves a 2."
        settings = judge.settings(criteria=("factual",))
        first = judge_answers(settings, ITEMS, SUITE, tmp_path)
        assert first.requests == 4 and first.scores == [{}, {}]
        files = sorted(tmp_path.iterdir())
        assert len(files) == 2 and all(json.loads(f.read_text())["failed"].startswith("not one JSON") for f in files)

        again = judge_answers(settings, ITEMS, SUITE, tmp_path)
        assert len(judge.requests) == 4 and again.requests == 0 and again.failed_before == 2
        assert again.scores == [{}, {}] and len(again.warnings) == 2
        assert "asked twice on an earlier pass" in again.warnings[0] and str(tmp_path) in again.warnings[0]

        judge.reply = judge.grade  # the same server, fixed: the cached failure still holds...
        assert judge_answers(settings, ITEMS, SUITE, tmp_path).requests == 0
        files[0].unlink()  # ...until its file is deleted, as the warning says
        assert judge_answers(settings, ITEMS, SUITE, tmp_path).requests == 1
        moved = JudgeSettings(settings.base_url.replace("127.0.0.1", "localhost"), settings.model,
                              criteria=("factual",))
        assert judge_answers(moved, ITEMS, SUITE, tmp_path).requests == 1  # another server: asked again
        other_model = JudgeSettings(settings.base_url, "judge-13b", criteria=("factual",))
        assert judge_answers(other_model, ITEMS, SUITE, tmp_path).requests == 2  # another key altogether


def test_a_server_error_is_not_cached_but_not_asked_again_in_the_same_command(tmp_path):
    """HTTP 500 may pass: the next command asks again; within one command (one `failed` memory, as
    Scorers carries it through every sample set) the same judgement is not asked twice over."""
    with Judge() as judge:
        judge.status = 500
        settings = judge.settings(criteria=("agent",))
        failed: dict[str, str] = {}
        first = judge_answers(settings, ITEMS[:1], SUITE, tmp_path, failed=failed)
        assert first.requests == 2 and first.scores == [{}] and "HTTP 500" in first.warnings[0]
        assert list(tmp_path.iterdir()) == []

        same_command = judge_answers(settings, ITEMS[:1], SUITE, tmp_path, failed=failed)
        assert same_command.requests == 0 and same_command.failed_before == 1
        assert "earlier in this command" in same_command.warnings[0]

        judge.status = 200
        next_command = judge_answers(settings, ITEMS[:1], SUITE, tmp_path)
        assert next_command.requests == 1 and next_command.scores == [{"agent": (2, "as asked")}]


def test_score_set_asks_a_failed_judgement_once_across_the_samples_of_one_command(tmp_path):
    from hyp.experiments.scoring import Scorers, score_set

    with Judge() as judge:
        judge.status = 503
        scorers = Scorers(SUITE, judge=judge.settings(criteria=("agent",)), judge_cache=tmp_path)
        for sample in range(3):  # the same answer in every sample, as a deterministic model gives it
            scored = score_set([(Q1, ITEMS[0][1], False)], scorers, sample=sample)
            assert scored.answers[0]["sources"]["agent"] == "rubric"
        assert len(judge.requests) == 2  # one judgement asked twice, in the first sample only


def test_an_endpoint_that_is_down_is_not_waited_for_again_in_the_same_command(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = JudgeSettings(base_url=f"http://127.0.0.1:{port}/v1", model="judge-7b")
    failed: dict[str, str] = {}
    assert judge_answers(settings, ITEMS, SUITE, tmp_path, timeout_s=2, failed=failed).requests == 2
    again = judge_answers(settings, ITEMS, SUITE, tmp_path, timeout_s=2, failed=failed)
    assert again.requests == 0 and again.scores == [{}, {}]
    assert again.warnings == [f"judge: {settings.base_url}: {failed['unreachable ' + settings.base_url]} (earlier "
                              "in this command); the rubric scores the 8 judgements left"]


def test_a_reply_or_a_cache_file_nested_too_deep_is_a_bad_reply_not_a_crash(tmp_path):
    """Python's JSON decoder recurses: 5,000 `[` from a judge server, or in a cache file, were a
    RecursionError (exit 1). A reply like that is a bad reply, left to the rubric; such a cache file is no cache."""
    deep = "[" * 5000 + "]" * 5000
    with Judge() as judge:
        judge.reply = lambda body: deep
        result = judge_answers(judge.settings(criteria=("factual",)), ITEMS[:1], SUITE, tmp_path / "bad")
        assert result.requests == 2 and result.scores == [{}]
        assert len(result.warnings) == 1 and "not one JSON object" in result.warnings[0]

        judge.reply = judge.grade
        first = judge_answers(judge.settings(criteria=("factual",)), ITEMS[:1], SUITE, tmp_path / "good")
        (cached,) = (tmp_path / "good").iterdir()
        cached.write_text(deep)
        again = judge_answers(judge.settings(criteria=("factual",)), ITEMS[:1], SUITE, tmp_path / "good")
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


def test_with_a_judge_every_pair_of_scorers_is_shown_in_show_json_and_the_report(tmp_path, blank_store):
    """Judge vs rubric on their own (no person yet), then hand scores of the same answers: hand vs judge,
    hand vs rubric and judge vs rubric apart, pooled over both results, in `show`, `--json`, the report,
    the metrics and each answer's trace."""
    from mlflow import MlflowClient

    from conftest import mlflow_runs, store_uri

    lab = make_lab(tmp_path / "lab", store=blank_store)
    # The judge gives 2 for everything; the rubric finds no persona marker and no fact in these.
    texts = [f"A plain answer, number {i}. grade=2" for i in range(1, 9)]
    (lab / "answers.json").write_text(json.dumps([{"question": f"Q{i}", "response": t}
                                                  for i, t in enumerate(texts, 1)]))
    with Judge() as judge:
        with open(lab / "hyp.toml", "a") as f:
            f.write(f'\n[judge]\nbase_url = "{judge.settings().base_url}"\nmodel = "judge-7b"\n')
        assert run_hyp("record", "H003", "--responses", lab / "answers.json", lab=lab).code == 0

        shown = run_hyp("show", "H003", lab=lab).out
        assert "Judge vs rubric scores" in shown
        personality = next(line for line in shown.splitlines() if line.startswith("│ personality "))
        cells = [c.strip() for c in personality.strip("│ ").split("│")]
        assert cells[:5] == ["personality", "16", "0", "0%", "0.00"] and cells[6] == "8"
        assert "Q1 (judge 2, rubric 0): “A plain answer, number 1. grade=2”" in shown
        found = run_hyp("show", "H003", "--json", lab=lab).json["agreements"]
        assert {(g["first"], g["second"]) for g in found} == {("judge", "rubric")}
        assert next(g for g in found if g["criterion"] == "complete")["percent"] == 100.0
        assert run_hyp("report", "H003", lab=lab).code == 0
        text = (lab / "reports" / "H003.md").read_text(encoding="utf-8")
        assert "Scored by the LLM judge; its scores count. Agreement with the automatic rubric on the same 8" in text
        assert "| personality | 16 | 0 | 0% | 0.00 (0.00 to 0.00) |" in text
        assert "| personality | 0 / 0 / 0 | 0 / 0 / 0 | 8 / 0 / 0 |" in text  # the confusion matrix
        assert "- personality (judge vs rubric): Q1 (judge 2, rubric 0) “A plain answer, number 1. grade=2”" in text
        assert "not trustworthy" not in text  # no person has scored: nothing says the judge is wrong

        # A person scores the same answers: 2 for agent and complete, 1 for facts and personality.
        (lab / "hand.csv").write_text("question,agent,factual,personality,complete,response\n" + "".join(
            f'Q{i},2,1,1,2,"{t}"\n' for i, t in enumerate(texts, 1)), encoding="utf-8")
        before = len(judge.requests)
        assert run_hyp("record", "H003", "--scores", lab / "hand.csv", lab=lab).code == 0
        assert len(judge.requests) == before  # the same answers: every judgement from the cache

    run = next(r for r in mlflow_runs(lab, "H003") if "auto.score" in r.data.metrics)
    m = run.data.metrics
    assert m["agreement.hand_judge.personality"] == 0.0 and m["agreement.hand_rubric.personality"] == 0.0
    assert m["agreement.judge_rubric.complete"] == 1.0 and m["agreement.personality"] == 0.0
    found = run_hyp("show", "H003", "--json", lab=lab).json["agreements"]
    pairs = {(g["first"], g["second"]): g for g in found if g["criterion"] == "personality"}
    assert set(pairs) == {("hand", "judge"), ("hand", "rubric"), ("judge", "rubric")}
    assert pairs[("judge", "rubric")]["n"] == 16  # pooled over both results
    assert pairs[("hand", "judge")]["n"] == 8 and pairs[("hand", "judge")]["confusion"][1][2] == 8
    # The person's scores check the judge's, which count without them; the rubric's do not decide.
    assert pairs[("hand", "judge")]["checks_automatic"] and not pairs[("hand", "rubric")]["checks_automatic"]
    shown = run_hyp("show", "H003", lab=lab).out
    for title in ("Hand vs automatic scores (the judge's)", "Hand vs automatic scores (the rubric's)",
                  "Judge vs rubric scores"):
        assert title in shown
    assert run_hyp("report", "H003", lab=lab).code == 0
    text = (lab / "reports" / "H003.md").read_text(encoding="utf-8")
    assert "Agreement with the LLM judge on the same 8 answers" in text
    assert "| personality | 8 | 16 | 0% |" in text  # hand vs judge

    # The hand-scored answer's trace: its text, and the person's, the judge's and the rubric's points.
    client = MlflowClient(tracking_uri=store_uri(lab))
    (trace,) = [t for t in client.search_traces(locations=[run.info.experiment_id], run_id=run.info.run_id)
                if t.info.tags.get("hyp.question") == "Q1"]
    span = trace.data.spans[0]
    assert span.inputs["question"] == "Who is João?" and span.outputs == {"answer": texts[0]}
    given = {(a.name, a.source.source_type, a.value) for a in trace.info.assessments}
    assert {("personality", "HUMAN", 1), ("personality", "LLM_JUDGE", 2), ("personality", "CODE", 0)} <= given


def test_hyp_runs_answers_carry_the_judge_and_rubric_points_that_show_reads(tmp_path):
    """What `hyp run` does with a judge, without the training: score each sample's answers, log the
    metrics and the tags run.py sets (`answer_tags`); `show` pools the judge vs rubric agreement from them.
    A judgement the judge failed is no agreement: it is left out, not counted as the rubric agreeing."""
    from hyp.experiments.scoring import Scorers, answer_tags, score_set, set_metrics
    from hyp.results.observations import results_from_runs
    from hyp.store.base import RunRecord

    with Judge() as judge:
        judge.reply = lambda body: (judge.grade(body) if "Who is" in body["messages"][-1]["content"]
                                    else "no JSON here")  # Q2's judgements fail
        scorers = Scorers(SUITE, judge=judge.settings(criteria=("personality",)), judge_cache=tmp_path)
        sets = [score_set([(Q1, ITEMS[0][1], False), (Q2, ITEMS[1][1], False)], scorers, sample=s) for s in (0, 1)]
    metrics = set_metrics(sets)
    assert metrics["agreement.judge_rubric.personality"] == 0.0  # judge 2, rubric 1, on Q1's two samples only
    tags = answer_tags([a for s in sets for a in s.answers])
    run = RunRecord(run_id="r", name="H003-r1", hypothesis_id="H003", kind="record", status="FINISHED",
                    start_time=1, end_time=None, parent_run_id=None, tags={"hyp.lock": "x", **tags},
                    metrics={"score": 5.0})
    (personality,) = results_from_runs([run]).agreements
    assert (personality["first"], personality["second"], personality["n"]) == ("judge", "rubric", 2)
    assert personality["disagreements"] == ["Q1 sample 1", "Q1 sample 2"]


def test_hyp_score_on_judged_answers_compares_the_person_with_the_judge_and_the_rubric_apart(
        tmp_path, blank_store, monkeypatch):
    import io
    import sys

    from conftest import mlflow_runs

    lab = make_lab(tmp_path / "lab", store=blank_store)
    (lab / "answers.json").write_text(json.dumps([{"question": f"Q{i}", "response": f"Plain answer {i}. grade=2"}
                                                  for i in range(1, 9)]))
    with Judge() as judge:
        with open(lab / "hyp.toml", "a") as f:
            f.write(f'\n[judge]\nbase_url = "{judge.settings().base_url}"\nmodel = "judge-7b"\n'
                    'criteria = ["personality"]\n')
        assert run_hyp("record", "H003", "--responses", lab / "answers.json", lab=lab).code == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("2\n2\n1\n2\n" * 8))  # the person: personality 1
    assert run_hyp("score", "H003", lab=lab).code == 0

    (run,) = mlflow_runs(lab, "H003")
    m = run.data.metrics
    assert m["agreement.hand_judge.personality"] == 0.0  # hand 1, judge 2
    assert m["agreement.hand_rubric.personality"] == 0.0  # hand 1, rubric 0
    assert m["agreement.judge_rubric.personality"] == 0.0 and "agreement.judge_rubric.agent" not in m
    found = run_hyp("show", "H003", "--json", lab=lab).json["agreements"]
    pairs = {(g["first"], g["second"], g["criterion"]): g for g in found}
    assert pairs[("hand", "judge", "personality")]["confusion"][1][2] == 8
    assert pairs[("hand", "rubric", "personality")]["confusion"][1][0] == 8
    assert pairs[("hand", "rubric", "agent")]["percent"] == 100.0
    assert ("hand", "judge", "agent") not in pairs  # the judge scores personality only in this lab
