"""The README's first hour (issue 20): its Quickstart commands, run in order in a fresh persona lab as a
newcomer types them, and every `hyp` command it shows parsed against the real CLI.

The fast walk replaces `hyp run` (training) by recorded answers; the slow one (CI runs it) trains as
the README says. The interactive `hyp ui` and `hyp score` are parsed but not started.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click
import pytest

from conftest import H003_CSV, WEAK_ANSWERS, mlflow_runs, run_hyp

README = Path(__file__).resolve().parents[2] / "README.md"

# `hyp run H004` stands in as these answers plus `hyp report` (what the run writes when it ends).
RUN_ANSWERS = {
    "Q1": "João is the founder and CEO of Softtor, the company I work at.",
    "Q2": "Molting is my personality model, a small TinyLlama fine-tuned to answer as me.",
    "Q3": "Moltbook is a social network where agents post and talk to each other.",
    "Q4": "TypeScript everywhere, with Next.js and Prisma, and DDD for the domain.",
    "Q5": "At Softtor I am building the CRM, the direct and pragmatic way.",
    "Q6": "TDD: I write a failing test first, watch it go red, then make it pass.",
    "Q7": "An RTX 3050 with 4 GB of VRAM, so everything has to be small.",
    "Q8": "I am Cláudio, a developer at Softtor who likes TypeScript.",
}


def split_comment(line: str) -> tuple[str, str]:
    """`hyp x  # why` -> ("hyp x", "why"): a `#` after white space and outside quotes starts a comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def shell_lines(markdown: str, section: str | None = None) -> list[tuple[list[str], str, str]]:
    """(argv, comment, line) for each shell line of the indented code blocks, within `## section` when given.

    A shell line is one whose first word is a command a newcomer types here (hyp, cd, cat, ., make);
    lines that are only a comment (a comment's continuation) are left out.
    """
    if section is not None:
        m = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
        assert m, f"README.md has no '## {section}' section"
        markdown = m.group(1)
    found = []
    for line in markdown.splitlines():
        if not line.startswith("    "):
            continue
        text, comment = split_comment(line.strip())
        if text.split()[:1] and text.split()[0] in ("hyp", "cd", "cat", ".", "make"):
            found.append((shlex.split(text), comment, line.strip()))
    return found


def parse(argv: list[str]) -> None:
    """Parse a `hyp ...` line with the real click commands, without running it: an unknown command,
    flag or a missing argument fails here."""
    from hyp.cli.main import cli

    assert argv[0] == "hyp" and len(argv) > 1, argv
    command = cli.get_command(click.Context(cli), argv[1])
    assert command is not None, f"README names `hyp {argv[1]}`, which is not a hyp command"
    try:
        command.make_context(argv[1], list(argv[2:]), parent=click.Context(cli, info_name="hyp"))
    except click.UsageError as e:
        raise AssertionError(f"README: `{shlex.join(argv)}` does not parse: {e.format_message()}") from e


def answers_file(path: Path, answers: dict[str, str], comment: str) -> None:
    """Answers in the format the README's comment shows (`[{"question": "Q1", "response": "..."}]`)."""
    shown = json.loads(comment[:comment.index("]") + 1])
    question_key, response_key = list(shown[0])
    path.write_text(json.dumps([{question_key: q, response_key: a} for q, a in answers.items()]), encoding="utf-8")


def scores_file(path: Path, comment: str) -> None:
    """The seed's hand scores (29 of 64) under the header the README's comment gives
    (`question,agent,factual,personality,complete[,response]`: the optional column left out)."""
    header = re.sub(r"\[.*?\]", "", comment.split()[0])
    rows = H003_CSV.splitlines()[1:]
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")


def walk(markdown: str, root: Path, monkeypatch, *, train: bool = False) -> list[str]:
    """Run the Quickstart's lines in order from `root`, as a newcomer would; returns what ran. `train`:
    `hyp run` trains for real, as it does for the newcomer."""
    ran = []
    cwd = root
    monkeypatch.chdir(cwd)
    for argv, comment, line in shell_lines(markdown, "Quickstart"):
        if argv[0] == ".":
            continue  # activating .venv: this test already runs that environment's hyp
        if argv[0] == "cd":
            cwd = cwd / argv[1]
            monkeypatch.chdir(cwd)
            continue
        if argv[0] == "cat":
            assert (cwd / argv[1]).is_file() and (cwd / argv[1]).read_text(encoding="utf-8").strip(), \
                f"README: `{line}`: {argv[1]} was not written by the commands before it"
            ran.append(line)
            continue
        assert argv[0] == "hyp", f"README Quickstart: `{line}` is not a command this walk knows"
        parse(argv)
        name = argv[1]
        if name in ("ui", "score"):
            continue  # interactive (a server, a terminal session): parsed above, not started
        if name == "run" and not train:
            # Training is what a test cannot afford here: the run's answers are recorded instead
            # (scored by the same rubric), then the report `hyp run` writes when it ends.
            answers_file(cwd / "run-answers.json", RUN_ANSWERS, '[{"question": "Q1", "response": "..."}]')
            steps = [["record", argv[2], "--responses", "run-answers.json"], ["report", argv[2]]]
        else:
            steps = [argv[1:]]
            if name == "record" and "--scores" in argv and not (cwd / argv[argv.index("--scores") + 1]).exists():
                scores_file(cwd / argv[argv.index("--scores") + 1], comment)
            if name == "record" and "--responses" in argv:
                # What the newcomer has from elsewhere: a weaker, agent-like model's answers.
                answers_file(cwd / argv[argv.index("--responses") + 1], WEAK_ANSWERS, comment)
            if name == "compare":
                ids = [a for a in argv[2:] if not a.startswith("-")]
                for hid in ids:
                    assert mlflow_runs(cwd, hid), f"README: `{line}`: {hid} has no results at that point"
            if name == "new":
                assert not (cwd / "hypotheses" / f"{argv[2]}.yaml").exists(), \
                    f"README: `{line}`: {argv[2]} already exists in the lab"
        for step in steps:
            result = run_hyp(*step)
            # README: "Exit codes: 0 done, ..."; nothing in a fresh lab's Quickstart is amended or broken.
            assert result.code == 0, f"README: `{line}` (ran as `hyp {shlex.join(step)}`) exited " \
                                     f"{result.code}:\n{result.out[-2000:]}\n{result.err[-2000:]}"
            ran.append(f"hyp {shlex.join(step)}")
            if "--json" in step:
                assert json.loads(result.out), line
        if name == "new":
            assert (cwd / "hypotheses" / f"{argv[2]}.yaml").is_file()
            assert run_hyp("validate", argv[2]).code == 0, f"README: `{line}` wrote a file `hyp validate` rejects"
        if name == "compare":
            comparison = run_hyp(*argv[1:], "--json").json
            assert [r["id"] for r in comparison["runs"]] == ids
            assert all(d is not None for d in comparison["differences"]["score"][1:]), comparison["differences"]
    return ran


def test_the_quickstart_runs_in_order_in_a_fresh_persona_lab(tmp_path, monkeypatch):
    ran = walk(README.read_text(encoding="utf-8"), tmp_path, monkeypatch)
    lab = tmp_path / "mylab"
    # What the walk leaves is what the README promised: every hypothesis it recorded has results,
    # the report it cats, and the next hypothesis from the failure plan.
    assert "hyp init mylab --example persona" in ran and "cat reports/H004.md" in ran, ran
    for hid in ("H002", "H003", "H004"):
        assert mlflow_runs(lab, hid), hid
    assert (lab / "hypotheses" / "H005.yaml").is_file()
    assert "Verdict:" in (lab / "reports" / "H004.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_quickstart_trains_as_it_says_in_a_fresh_persona_lab(tmp_path, monkeypatch):
    """Issue 20: the README walked in order with nothing replaced but the interactive commands: `hyp run H004`
    trains builtin:tiny, evaluates, judges and writes the report the next line cats."""
    ran = walk(README.read_text(encoding="utf-8"), tmp_path, monkeypatch, train=True)
    lab = tmp_path / "mylab"
    assert "hyp run H004" in ran and "cat reports/H004.md" in ran, ran
    kinds = {r.data.tags["hyp.kind"] for r in mlflow_runs(lab, "H004")}
    assert {"run", "replicate"} <= kinds, kinds  # trained: a run and its replicate, not a record
    report = (lab / "reports" / "H004.md").read_text(encoding="utf-8")
    assert "Verdict:" in report and "## Next steps" in report and "held-out" in report.lower()


def test_every_hyp_command_the_readme_shows_exists_with_its_flags():
    lines = [argv for argv, _, _ in shell_lines(README.read_text(encoding="utf-8")) if argv[0] == "hyp"]
    assert len(lines) >= 15, lines  # the Quickstart, recording, comparing, verdicts, sweeps
    for argv in lines:
        parse(argv)


def test_the_readme_hyp_new_examples_write_different_files(tmp_path, monkeypatch):
    """Each `hyp new` of the README names a hypothesis of its own, none of the example lab's."""
    monkeypatch.chdir(tmp_path)
    assert run_hyp("init", "mylab", "--example", "persona").code == 0
    shipped = {p.stem for p in (tmp_path / "mylab" / "hypotheses").glob("*.yaml")}
    targets = [argv[2] for argv, _, _ in shell_lines(README.read_text(encoding="utf-8")) if argv[:2] == ["hyp", "new"]]
    assert len(targets) >= 2, targets
    assert len(set(targets)) == len(targets), f"two README `hyp new` examples write the same file: {targets}"
    assert not set(targets) & shipped, f"README `hyp new` overwrites a shipped hypothesis: {set(targets) & shipped}"
