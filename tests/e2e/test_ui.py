"""`hyp ui` end to end: a real MLflow server on loopback for the lab's store, and H002/H003/H004
compared in a real headless Chromium (Debian's package, driven by Playwright; nothing downloaded).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import H003_YAML, hypothesis_text, keep_screenshots, make_lab, need, run_hyp

CHROMIUM = "/usr/bin/chromium"
SCORES = {"H002": "8.2", "H003": "4.531", "H004": "9.3"}  # H003: hand-scored 29 of 64, as the UI rounds it

# The compare page lists metrics in a virtualised grid (names beside values, only visible rows in
# the DOM): find the row named `name` in the grid after `switch`, scrolling it a little per call.
METRIC_ROW = """(switch_, name) => {
  let box = switch_;
  while (box && box.querySelectorAll('.ReactVirtualized__Grid').length < 2) box = box.parentElement;
  const [names, values] = box.querySelectorAll('.ReactVirtualized__Grid');
  const cell = [...names.querySelectorAll('div[style]')].find(c => c.textContent.trim() === name);
  if (!cell) { values.scrollTop += 200; return null; }
  return [...values.querySelectorAll('div[style]')].filter(c => c.style.top === cell.style.top)
    .sort((a, b) => parseFloat(a.style.left) - parseFloat(b.style.left)).map(c => c.textContent.trim());
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, *, host: str | None = None, body: dict | None = None):
    """A request straight to the server (no proxy), optionally with another Host header."""
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **({"Host": host} if host else {})})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as r:
        return r.status, r.read()


class Server:
    """`hyp ui` in its own session, its output collected line by line."""

    def __init__(self, lab: Path, port: int):
        self.port = port
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "hyp", "--lab", str(lab), "ui", "--port", str(port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True).start()

    def url(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            for line in list(self.lines):
                if m := re.search(r"MLflow UI for experiment .*?: (http://\S+)", line):
                    return m.group(1)
            time.sleep(0.2)
        raise AssertionError("hyp ui printed no address:\n" + "".join(self.lines))

    def tree(self) -> set[int]:
        """The pids of hyp ui and every process under it."""
        parents = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(stat.parent.name)] = int(fields[1])
        tree, grew = {self.proc.pid}, True
        while grew:
            more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
            tree |= more
            grew = bool(more)
        return tree

    def kill(self) -> None:
        for pid in self.tree():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def listening(pids: set[int]) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket those processes listen on, from /proc."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            address, port = fields[1].split(":")
            raw = bytes.fromhex(address)
            if width == 8:
                ip = socket.inet_ntop(socket.AF_INET, raw[::-1])
            else:  # four little-endian 32-bit words
                ip = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
            found.add((ip, int(port, 16)))
    return found


@pytest.fixture(scope="module")
def lab(tmp_path_factory, blank_store) -> Path:
    def version(hid: str, label: str, parent: str) -> str:
        return hypothesis_text(hid).replace("version: v2.3", f"version: {label}").replace(
            "parent: H002\n", f"parent: {parent}\n")

    lab = make_lab(tmp_path_factory.mktemp("ui") / "lab", {
        "H002": version("H002", "v2.1", "H001").replace("parent: H001\n", ""),
        "H003": H003_YAML,
        "H004": version("H004", "v2.4", "H003"),
        "H005": TRAINED_YAML,
    }, store=blank_store)
    conversations = [[f"What is item {i}?", f"Item {i} is a Softtor product, built in TypeScript."] for i in range(16)]
    for name, rows in (("more.json", conversations[:12]), ("heldout.json", conversations[12:])):
        (lab / "data" / name).write_text(json.dumps([{"conversations": [
            {"from": "human", "value": q}, {"from": "gpt", "value": a}]} for q, a in rows]), encoding="utf-8")
    for args in (["H002", "--metric", "score=8.2"], ["H003", "--scores", lab / "scores.csv"],
                 ["H004", "--metric", "score=9.3"]):
        assert run_hyp("record", *args, lab=lab).code == 0
    return lab


# H005 is trained by `hyp run` in the browser test of the run page: 12 conversations, 3 epochs, 8 tokens.
TRAINED_YAML = hypothesis_text("H005").replace(
    "    curated: {path: data/curated.json, select_top: 100}\n",
    "    curated: {path: data/more.json, select_top: 100}\n    heldout: {path: data/heldout.json}\n").replace(
    "  training: {epochs: 6, learning_rate: 2.0e-4}",
    "  training: {epochs: 3, learning_rate: 5.0e-3, max_seq_length: 96}").replace(
    "  eval: {suite: evals/personality.yaml, temperature: 0.7}",
    "  eval: {suite: evals/personality.yaml, temperature: 0.0, max_new_tokens: 8}")


@pytest.fixture(scope="module")
def server(lab):
    server = Server(lab, free_port())
    yield server
    server.kill()  # only if a test failed before stopping it


def test_ui_answers_on_loopback_and_listens_nowhere_else(server):
    url = server.url()
    base = url.split("/#", 1)[0]

    assert base == f"http://127.0.0.1:{server.port}"
    assert "#/experiments/" in url and "workflowType=machine_learning" in url
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):  # the two ways a browser names it
        assert fetch(f"{base}/health", host=host)[0] == 200
        status, body = fetch(f"{base}/ajax-api/2.0/mlflow/runs/search", host=host,
                             body={"experiment_ids": [url.split("/experiments/")[1].split("/")[0]]})
        assert status == 200
        assert sorted(r["info"]["run_name"] for r in json.loads(body)["runs"]) == ["H002", "H003", "H004"]
    assert listening(server.tree()) == {("127.0.0.1", server.port)}
    assert 2 <= len(server.tree()) <= 4  # hyp, the mlflow launcher, one uvicorn worker: no job runners


@pytest.mark.browser
def test_h002_h003_h004_compare_in_a_real_browser(server, tmp_path):
    need(Path(CHROMIUM).is_file() or bool(shutil.which("chromium")),
         "needs Debian's chromium: apt-get install -y --no-install-recommends chromium")
    need(importlib.util.find_spec("playwright") is not None, "needs Playwright for Python: the `dev` extra")
    from playwright.sync_api import sync_playwright

    url = server.url()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
                                    headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(url)
            # The runs table, as the address hyp printed opens it: select the three runs, press Compare.
            for hid in SCORES:
                name = page.get_by_text(hid, exact=True).first
                name.wait_for(timeout=60_000)
                row = page.locator("[role=row]", has=page.get_by_text(hid, exact=True)).first
                row.locator("input[type=checkbox], [role=checkbox]").first.click()
            page.get_by_role("button", name="Compare").first.click()
            page.get_by_text("Comparing 3 Runs").wait_for(timeout=30_000)
            page.get_by_text("training.epochs", exact=True).first.wait_for(timeout=30_000)
            details = page.inner_text("body").split("Run details", 1)[1]
            metrics = page.get_by_role("switch", name="Metrics - Show diff only")
            scores = None
            for _ in range(60):
                scores = metrics.evaluate(METRIC_ROW, "score")
                if scores:
                    break
                time.sleep(0.2)
            shot = tmp_path / "compare.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    names = re.search(r"Run Name:\s*(\S+)\s+(\S+)\s+(\S+)", details)
    assert names and sorted(names.groups()) == sorted(SCORES), details[:500]
    assert scores and dict(zip(names.groups(), scores, strict=True)) == SCORES
    assert re.search(r"training\.epochs\s+6\s+6\s+6", details)  # params side by side too
    assert shot.stat().st_size > 10_000
    keep_screenshots([shot], "runs-")


# Answers of H004's run as `hyp run` traces them: the rubric's points, one judged, one given by hand.
TRACED = [
    {"question": "Q1", "prompt": "Who is João?", "sample": 0, "response": "João is the founder and CEO of Softtor.",
     "agent": 2, "factual": 2, "personality": 1, "complete": 2, "facts_met": 2, "facts_total": 2, "markers": 1},
    {"question": "Q2", "prompt": "What is Molting?", "sample": 0, "response": "It moves my personality into a model.",
     "agent": 2, "factual": 1, "personality": 2, "complete": 2, "facts_met": 1, "facts_total": 2, "markers": 2,
     "sources": {"factual": "judge"}, "judge_model": "qwen2.5-7b-instruct",
     "rationales": {"factual": "says what Molting does, not that it is TinyLlama"}},
    {"question": "Q8", "prompt": "Who are you?", "sample": 0, "response": "I am Cláudio, a developer at Softtor.",
     "agent": 2, "factual": 2, "personality": 2, "complete": 1, "facts_met": 2, "facts_total": 2, "markers": 2,
     "truncated": True},
]


def columns(page, answer_text: str) -> dict[str, str]:
    """The cells of the row showing `answer_text` in MLflow's traces table, by column name."""
    header = page.locator("[role=row]", has=page.get_by_role("columnheader", name="Trace ID")).first
    names = [h.inner_text().split("\n")[0] for h in header.locator("[role=columnheader]").all()]
    row = page.locator("[role=row]", has=page.get_by_text(answer_text, exact=True)).first
    return dict(zip(names, [c.inner_text() for c in row.locator("[role=cell]").all()], strict=True))


@pytest.mark.browser
def test_a_runs_answers_and_their_scores_read_in_a_real_browser(lab, server, tmp_path):
    """SPEC §6: the MLflow UI lists a run's answers with their scores, and who gave each and why."""
    need(Path(CHROMIUM).is_file() or bool(shutil.which("chromium")),
         "needs Debian's chromium: apt-get install -y --no-install-recommends chromium")
    need(importlib.util.find_spec("playwright") is not None, "needs Playwright for Python: the `dev` extra")
    from playwright.sync_api import sync_playwright

    from hyp.hypotheses.lab import Lab
    from hyp.store import open_tracker

    tracker = open_tracker(Lab(lab))
    run_id = tracker.runs("H004")[-1].run_id
    trace_ids = tracker.log_answer_traces(run_id, TRACED)
    tracker.log_human_assessments(trace_ids[1], {"personality": 1}, "João", {"personality": "too formal for him"})
    page_url = f"{server.url().split('/#', 1)[0]}/#/experiments/{tracker.experiment_id}/runs/{run_id}/traces"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
                                    headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(page_url)
            page.get_by_text(TRACED[1]["response"], exact=True).first.wait_for(timeout=60_000)
            if page.get_by_role("button", name="Close").count() == 1:
                page.get_by_role("button", name="Close").click()  # MLflow's assistant panel hides the scores
            listed = {a["question"]: columns(page, a["response"]) for a in TRACED}
            shots = [tmp_path / "answers.png", tmp_path / "assessments.png"]
            page.screenshot(path=str(shots[0]))
            # The judged answer opened, every assessment unfolded: its value, who gave it, and why.
            page.set_viewport_size({"width": 1600, "height": 1500})  # tall enough for all five
            page.get_by_text(TRACED[1]["prompt"], exact=True).first.click()
            page.get_by_role("button", name="Assess").first.click()
            pane = page.get_by_test_id("assessments-pane")
            pane.get_by_text("Feedback (5)").wait_for(timeout=30_000)
            for toggle in pane.locator('[data-component-id$="toggle-assessment-expanded"]').all():
                toggle.click()
            pane.get_by_text("too formal for him").wait_for(timeout=30_000)
            opened = pane.inner_text()
            page.screenshot(path=str(shots[1]))
        finally:
            browser.close()
    keep_screenshots(shots, "traces-")

    for given in TRACED:
        row = listed[given["question"]]
        assert (row["Request"], row["Response"]) == (given["prompt"], given["response"])
        assert row["factual"] == str(given["factual"]) and row["complete"] == str(given["complete"])
    assert sorted(listed["Q2"]["personality"].split()) == ["1", "2"]  # João's 1 beside the rubric's 2
    assert listed["Q1"]["personality"] == "1" and listed["Q8"]["personality"] == "2"
    for expected in ("qwen2.5-7b-instruct", "says what Molting does, not that it is TinyLlama",  # the judge
                     "João", "too formal for him",  # the person
                     "hyp rubric", "2/2: no agent-like phrase", "2/2: 2 persona markers", "2/2: ended on its own"):
        assert expected in opened, opened
    assert all(shot.stat().st_size > 10_000 for shot in shots)


@pytest.mark.browser
@pytest.mark.slow
def test_the_trained_run_opens_with_its_score_verdict_and_loss_chart(lab, server, tmp_path):
    """Issue 19: what a person sees after `hyp run`, through the address `hyp ui` printed. The runs table
    shows score and verdict as columns without any clicks (hyp's shared view); the run they open has a
    loss chart (train_loss and eval_loss on one step axis), and no per-question bars."""
    need(Path(CHROMIUM).is_file() or bool(shutil.which("chromium")),
         "needs Debian's chromium: apt-get install -y --no-install-recommends chromium")
    need(importlib.util.find_spec("playwright") is not None, "needs Playwright for Python: the `dev` extra")
    trained = run_hyp("run", "H005", lab=lab)
    assert trained.code == 0, trained.err
    from playwright.sync_api import sync_playwright

    from hyp.hypotheses.lab import Lab
    from hyp.store import open_tracker

    (run,) = [r for r in open_tracker(Lab(lab)).runs("H005") if r.kind == "run"]
    score, verdict = f"{run.metrics['score']:.4f}".rstrip("0").rstrip("."), run.tags["hyp.verdict"]
    shots = [tmp_path / "runs-table.png", tmp_path / "run-page.png", tmp_path / "run-loss-chart.png"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
                                    headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.goto(server.url())
            page.get_by_text("H005", exact=True).first.wait_for(timeout=60_000)
            if page.get_by_role("button", name="Close").count() == 1:
                page.get_by_role("button", name="Close").click()  # MLflow's assistant panel takes a third
            headers = {h.inner_text().strip() for h in page.locator("[role=columnheader]").all()}
            table = page.inner_text("body")
            page.screenshot(path=str(shots[0]))
            page.get_by_role("link", name="H005", exact=True).first.click()
            page.get_by_text("Metrics (").first.wait_for(timeout=60_000)
            overview = page.inner_text("body")
            page.screenshot(path=str(shots[1]), full_page=True)
            page.get_by_role("tab", name=re.compile("Model metrics")).first.click()
            page.get_by_text("Add chart").first.wait_for(timeout=60_000)
            shown = re.search(r"Model metrics\s*\((\d+)\)\s*Add chart", page.inner_text("body"))
            page.get_by_placeholder("Search metric charts").fill("loss")
            page.get_by_text("H005 (eval_loss)").first.wait_for(timeout=60_000)
            page.get_by_text("H005 (train_loss)").first.wait_for(timeout=60_000)
            loss = page.inner_text("body")
            page.screenshot(path=str(shots[2]))
            # MLflow 3.17 takes GenAI or machine-learning views from the address or the browser's saved
            # choice, never from the experiment's kind: as `hyp ui` says, one pick of "Model training" holds.
            opened_as = page.locator("nav, header, main").first.inner_text() + page.inner_text("body")[:300]
            page.get_by_text("Model training", exact=True).first.click()
            page.get_by_role("link", name="H005", exact=True).first.click()
            page.get_by_text("Metrics (").first.wait_for(timeout=60_000)
            then = page.inner_text("body")[:300]
        finally:
            browser.close()
    keep_screenshots(shots)
    assert any('picks "Model training"' in line for line in server.lines)
    assert "Evaluations" in opened_as and "Evaluations" not in then and "Runs" in then

    assert {"score", "hyp.verdict", "base_score"} <= headers  # no column picking needed
    assert score in table and verdict in table
    assert f"Metrics ({len(run.metrics)})" in overview and "score" in overview
    assert shown and int(shown[1]) == len(run.metrics) < 40  # 88 before issue 19, 40 of them Q1..Q8 bars
    assert not any(k.startswith("Q") for k in run.metrics)
    assert loss.count("Step") >= 2  # both losses are line charts over the same step axis
    assert all(shot.stat().st_size > 10_000 for shot in shots)


def test_stopping_hyp_ui_stops_the_whole_server(server):
    server.url()
    tree = server.tree()

    server.proc.send_signal(signal.SIGTERM)

    assert server.proc.wait(timeout=30) == 130
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(pid) for pid in tree - {server.proc.pid}):
        time.sleep(0.2)
    assert not [pid for pid in tree - {server.proc.pid} if alive(pid)]
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", server.port))  # the port is free again


def test_kill_9_of_hyp_ui_takes_the_server_with_it(lab):
    """Issue 17, item 12: SIGKILL gives hyp no chance to stop anything; the server must go by itself
    (parent-death signal) and free the port."""
    server = Server(lab, free_port())
    tree = set()
    try:
        server.url()
        tree = server.tree()
        assert len(tree) >= 2
        server.proc.kill()
        server.proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(pid) for pid in tree - {server.proc.pid}):
            time.sleep(0.2)
        assert not [pid for pid in tree - {server.proc.pid} if alive(pid)]
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", server.port))
    finally:
        for pid in tree:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_busy_port_is_refused_before_anything_starts(lab):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = run_hyp("ui", "--port", str(s.getsockname()[1]), lab=lab)

    assert r.code == 2
    assert "is not free" in r.err and len(r.err_lines) == 1

