"""Shared pieces for the registry tests: a small lab on disk and an in-process `hyp` runner.

Labs are real: hyp.toml, data, an evaluation suite and hypothesis files, with MLflow on a SQLite
store under the lab's .hyp/ once something is recorded. Nothing is mocked.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

# A shell starts a background job (`.ci/run &`, nohup) with SIGINT ignored, and children inherit
# that: the hyp processes the Ctrl-C tests start would ignore the SIGINT they are sent. With a
# handler here instead, exec gives those children SIGINT's default action again, as in a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Rich reads the width once, when the console is built; a wide one keeps table cells unwrapped.
os.environ["COLUMNS"] = "200"

# `make test` runs the suite in pytest-xdist workers, one per core share: each worker's torch (and every
# hyp process it starts, which inherit this) takes its share of the cores, not all of them, or the
# workers slow each other down many times over. Read by torch when it is first imported, after this.
if workers := int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0")):
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))

HYP_ENV = ("HYP_TRACKING_URI", "HYP_SWEEP_STORAGE", "HYP_NO_INDEX", "HYP_DEBUG")

HYP_TOML = """[lab]
experiment = "registry-tests"
audience = "João"
[tracking]
uri = "sqlite:///.hyp/mlflow.db"
"""

SUITE_YAML = """\
name: personality-test
persona: {name: Cláudio, markers: [Softtor, Molting, direct, TypeScript], wrong_identities: [Gabriel]}
agent_patterns: ["I'll start by", "Let me analyze", "I need to"]
template_markers: ["<|user|>", "<|assistant|>", "<|system|>", "User Story"]
questions:
  - {id: Q1, prompt: Who is João?, facts: [[Softtor], [founder, CEO]], forbidden: [ADRP]}
  - {id: Q2, prompt: What is Molting?, facts: [[personality], [model, TinyLlama]]}
  - {id: Q3, prompt: What is Moltbook?, facts: [[social network], [agents]]}
  - {id: Q4, prompt: What is your tech stack?, facts: [[TypeScript], [Next.js, Prisma]]}
  - {id: Q5, prompt: What are you working on?, facts: [[CRM], [Softtor]]}
  - {id: Q6, prompt: How do you test?, facts: [[TDD], [failing, red]]}
  - {id: Q7, prompt: What GPU do you use?, facts: [[RTX 3050], [4 GB, VRAM]]}
  - {id: Q8, prompt: Who are you?, facts: [[Cláudio, Claudio], [developer]]}
"""

# A transcription of a hand-scored, rejected hypothesis (like the seed lab's H003).
H003_YAML = """\
# H003: the hybrid data mix, transcribed from the hand-scored report.
id: H003
title: Hybrid curated + synthetic data reaches 9/10
statement: >
  A dataset of 67% curated and 33% synthetic conversations
  reaches 9/10 personality transfer.
version: v2.3
parent: H002
author: Cláudio
created: 2026-02-11
rationale:
  training.epochs: "slightly more training for synthetic data"

experiment:
  model: {name: "builtin:tiny"}
  dataset:
    curated: {path: data/curated.json, select_top: 100}
    # a third of the final mix is synthetic
    synthetic: {path: data/synthetic.json, ratio: 0.33}
  training: {epochs: 6, learning_rate: 2.0e-4}
  eval: {suite: evals/personality.yaml, temperature: 0.7}

predictions:
  - {label: Agent-like responses, metric: agent_like_responses, op: between, value: [0, 1]}
  - {label: Factual accuracy, metric: factual_responses, op: ">=", value: 7}
  - {label: Some personality, metric: personality_responses, op: ">=", value: 1}
  - {label: Hallucinations, metric: hallucinations, op: "<=", value: 1}
  - {label: Overall score, metric: score, op: between, value: [8.8, 9.2]}

success_criteria:
  primary:   {metric: score, op: ">=", value: 9.0}
  secondary: {metric: agent_like_responses, op: "==", value: 0}
  tertiary:  {metric: truncated_responses, op: "<=", value: 5}

on_failure:
  # the cheapest thing to try first
  - option: A
    title: Revert to pure curation
    changes: {experiment.dataset.synthetic.ratio: 0.0, experiment.training.epochs: 4}
    expected: [8.0, 8.5]
    effort: 1-2h
    risk: low
"""

# Eight hand-scored answers, 29 of 64 points (score 4.5): question, agent, factual, personality, complete.
H003_SCORES = [
    ("Q1", 2, 1, 1, 1),
    ("Q2", 1, 2, 0, 1),
    ("Q3", 2, 0, 0, 1),
    ("Q4", 0, 1, 1, 2),
    ("Q5", 2, 1, 2, 1),
    ("Q6", 1, 0, 0, 1),
    ("Q7", 2, 1, 0, 0),
    ("Q8", 1, 0, 1, 0),
]
H003_CSV = "question,agent,factual,personality,complete\n" + "".join(
    ",".join(map(str, row)) + "\n" for row in H003_SCORES
)

# Answers from a model that learned little (agent-like, thin on facts): the rubric rejects H003 on them.
WEAK_ANSWERS = {
    "Q1": "Let me analyze the question. João is someone at a company.",
    "Q2": "Molting is a personality model.",
    "Q3": "I need to check. Moltbook is a kind of notebook for agents.",
    "Q4": "TypeScript, mostly.",
    "Q5": "I'll start by saying I work on the CRM at Softtor.",
    "Q6": "I write tests first, TDD.",
    "Q7": "A GPU.",
    "Q8": "I am Cláudio, a developer.",
}


def hypothesis_text(hid: str = "H003", text: str = H003_YAML) -> str:
    """The H003 file under another id (the id must equal the file name)."""
    return text.replace("id: H003", f"id: {hid}", 1)


def make_lab(root: Path, hypotheses: dict[str, str] | None = None, store: Path | None = None,
             tracking: TrackingStore | None = None) -> Path:
    """A lab with the test suite, two data files and the given hypothesis files (default: H003).

    `store`: an empty MLflow database to start from (see `blank_store`); without it the first
    command that logs results creates the store, as for a user. `tracking`: log to that store instead
    (a tracking server, see `tracking_store`), in the given experiment.
    """
    root = Path(root)
    if store is not None:
        (root / ".hyp").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store, root / ".hyp" / "mlflow.db")
    (root / "hypotheses").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "evals").mkdir(exist_ok=True)
    toml = HYP_TOML
    if tracking is not None:
        toml = toml.replace('"sqlite:///.hyp/mlflow.db"', f'"{tracking.uri}"').replace(
            '"registry-tests"', f'"{tracking.experiment}"')
    (root / "hyp.toml").write_text(toml, encoding="utf-8")
    (root / "evals" / "personality.yaml").write_text(SUITE_YAML, encoding="utf-8")
    conversation = [{"conversations": [{"from": "human", "value": "Who is João?"},
                                       {"from": "gpt", "value": "The founder of Softtor."}]}]
    for name in ("curated.json", "synthetic.json"):
        (root / "data" / name).write_text(json.dumps(conversation), encoding="utf-8")
    (root / "scores.csv").write_text(H003_CSV, encoding="utf-8")
    for hid, text in (hypotheses if hypotheses is not None else {"H003": H003_YAML}).items():
        (root / "hypotheses" / f"{hid}.yaml").write_text(text, encoding="utf-8")
    return root


def lab_tracking(lab: Path) -> tuple[str, str]:
    """The lab's tracking URI (absolute, as hyp resolves it) and experiment, from its hyp.toml."""
    import tomllib

    settings = tomllib.loads((Path(lab) / "hyp.toml").read_text(encoding="utf-8"))
    uri = settings.get("tracking", {}).get("uri", "sqlite:///.hyp/mlflow.db")
    if uri.startswith("sqlite:///.hyp/"):
        uri = f"sqlite:///{Path(lab).resolve() / uri[len('sqlite:///'):]}"
    return uri, settings.get("lab", {}).get("experiment", "registry-tests")


def store_uri(lab: Path) -> str:
    return lab_tracking(lab)[0]


def store_exists(lab: Path) -> bool:
    return (Path(lab) / ".hyp" / "mlflow.db").exists()


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def run_hyp(*args: str, lab: Path | None = None) -> Result:
    """`hyp ARGS` in this process, through `main` so errors become exit codes as for a user."""
    from hyp.cli.main import main

    argv = (["--lab", str(lab)] if lab is not None else []) + [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return Result(code, out.getvalue(), err.getvalue())


def mlflow_runs(lab: Path, hid: str | None = None) -> list:
    """Every run in the lab's experiment, read with a plain MlflowClient (what the MLflow UI sees)."""
    from mlflow import MlflowClient

    uri, experiment = lab_tracking(lab)
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return []
    filt = f"tags.`hyp.id` = '{hid}'" if hid else ""
    return client.search_runs([exp.experiment_id], filt)


@pytest.fixture(autouse=True)
def _no_hyp_env(monkeypatch):
    # A developer's own store settings must never leak into (or receive writes from) the tests.
    for name in HYP_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True, scope="module")
def _no_hyp_env_module():
    saved = {name: os.environ.pop(name) for name in HYP_ENV if name in os.environ}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def blank_store(tmp_path_factory) -> Path:
    """An empty MLflow SQLite store with its schema migrated. Copying it into a lab skips the
    migrations (about a second per store, several under load); hyp still creates its experiment."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("blank-store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def lab(tmp_path) -> Path:
    """A fresh lab with H003 and no store."""
    return make_lab(tmp_path / "lab")


@pytest.fixture(autouse=True, scope="session")
def _user_cache(tmp_path_factory):
    """builtin:tiny is built once per user, in $HYP_CACHE_DIR: here once per test session, shared by every
    lab and every `hyp` subprocess, never the developer's own ~/.cache/hyp (unless HYP_CACHE_DIR is set
    for the session, to share one build between sessions)."""
    os.environ.setdefault("HYP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "hyp-builtin-cache"))


@pytest.fixture(scope="session")
def builtin_cache(_user_cache) -> Path:
    """builtin:tiny for the model, recipe and generation tests: the copy shipped with hyp (built into the
    session's user cache only without it)."""
    from hyp.experiments.models import BUILTIN_TINY, resolve_model_dir

    cache = Path(os.environ["HYP_CACHE_DIR"])
    resolve_model_dir(BUILTIN_TINY, cache)
    return cache


# --- services, browsers and GPUs ----------------------------------------------------------------------
# A test that needs something this machine may lack calls `need(...)`: without it the test skips with
# the reason shown, except in CI (.ci/run sets HYP_REQUIRE_SERVICES=1), where CI provides PostgreSQL and
# Chromium, so a missing one is a failure rather than a quiet skip. A CUDA GPU is never provided by CI:
# GPU tests carry `@pytest.mark.cuda` and a skipif, so they skip before any fixture is built.


def need(available: bool, reason: str) -> None:
    if available:
        return
    if os.environ.get("HYP_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (HYP_REQUIRE_SERVICES=1: CI must provide it)")
    pytest.skip(reason)


def postgres_url(database: str = "postgres") -> str | None:
    """A URL for PostgreSQL on 127.0.0.1 when it answers, else None."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return None
    user = os.environ.get("PGUSER", "postgres")
    return f"postgresql://{user}@127.0.0.1:5432/{database}"


@contextlib.contextmanager
def fresh_database(prefix: str, why: str = ""):
    """A new PostgreSQL database on 127.0.0.1, dropped afterwards (with whatever still holds it); yields its
    URL. Skips, or fails under HYP_REQUIRE_SERVICES=1, when PostgreSQL does not answer."""
    import uuid

    url = postgres_url()
    need(url is not None, f"PostgreSQL is not reachable on 127.0.0.1:5432{f' ({why})' if why else ''}")
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(url)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()



# --- a team's tracking server (SPEC §9) -----------------------------------------------------------------


def pytest_collection_modifyitems(config, items):
    """Tests on PostgreSQL (a sweep's study, the tracking server's backend store) run in one xdist worker
    (`--dist loadgroup`), one at a time as in a serial run: two workers' servers and sweep workers at
    once took more than PostgreSQL's 100 connections ("sorry, too many clients already")."""
    for item in items:
        params = getattr(item, "callspec", None)
        on_server = params is not None and any(params.params.get(k) == "server" for k in ("store", "tracking_store"))
        if item.get_closest_marker("postgres") or "mlflow_server" in item.fixturenames or on_server:
            item.add_marker(pytest.mark.xdist_group("postgres"))


@dataclass(frozen=True)
class TrackingStore:
    """Where a test lab logs: a URI and an experiment of its own."""
    kind: str  # "sqlite" or "server"
    uri: str
    experiment: str


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """`mlflow server` on 127.0.0.1 as a team runs it: a PostgreSQL backend store (a fresh database for
    this test session, dropped after) and proxied artifacts (`--artifacts-destination`) in a temporary
    folder. Yields its URL. Tests share it, each in an experiment of its own."""
    with fresh_database("hyp_server", "the tracking server's backend store") as database:
        yield from _serve(tmp_path_factory, database)


def _serve(tmp_path_factory, database: str):
    import subprocess
    import sys
    import time
    import urllib.request

    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = open(root / "server.log", "wb")
    # No job runner: its consumers are the GenAI features' (scorers, optimisation); hyp needs none of them.
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", database,
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # the first start migrates the schema: ~15 s, more under load
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mlflow server did not start: {(root / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield base
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(params=["sqlite", "server"])
def tracking_store(request) -> TrackingStore:
    """The contract suite's store, as Optuna tests every storage: the embedded SQLite file of a lab
    (uri None: the lab's own `.hyp/mlflow.db`) and a team's tracking server, in a fresh experiment."""
    import uuid

    experiment = f"contract-{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        return TrackingStore("sqlite", "sqlite:///.hyp/mlflow.db", experiment)
    return TrackingStore("server", request.getfixturevalue("mlflow_server"), experiment)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


def keep_screenshots(shots: list[Path], prefix: str = "") -> None:
    """The browser tests' screenshots, kept where a person can look at them after the run:
    $HYP_SCREENSHOT_DIR, else screenshots/ at the repository's root (ignored by git)."""
    folder = Path(os.environ.get("HYP_SCREENSHOT_DIR") or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    for shot in shots:
        shutil.copyfile(shot, folder / f"{prefix}{shot.name}")
