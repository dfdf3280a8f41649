"""A lab's report template is data: sandboxed, confined to its folder, its mistakes exit 2 with file:line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import make_lab, run_hyp


@pytest.fixture
def lab(tmp_path, blank_store) -> Path:
    lab = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--metric", "score=7.0", lab=lab).code == 0
    (lab / "templates").mkdir()
    return lab


def write(lab: Path, text: str, name: str = "report.md.j2") -> None:
    (lab / "templates" / name).write_text(text)


def test_a_template_cannot_reach_python_internals(lab, tmp_path):
    marker = tmp_path / "pwned"
    write(lab, "{{ ''.__class__.__mro__[1].__subclasses__() }}\n"
               "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}\n")

    r = run_hyp("report", "H003", lab=lab)

    assert r.code == 2, r
    assert r.err.startswith("error: templates/report.md.j2") and "not allowed" in r.err
    assert not marker.exists()
    assert not (lab / "reports" / "H003.md").exists()  # nothing half-written


def test_an_include_that_leaves_the_templates_folder_is_refused(lab):
    os.symlink("/etc/passwd", lab / "templates" / "passwd.j2")
    write(lab, "{% include 'passwd.j2' %}\n")

    r = run_hyp("report", "H003", lab=lab)

    assert r.code == 2, r
    assert "leads outside the templates folder" in r.err
    assert not (lab / "reports" / "H003.md").exists()


def test_a_relative_include_out_of_the_folder_is_refused(lab):
    (lab / "secret.txt").write_text("do not show")
    write(lab, "{% include '../secret.txt' %}\n")

    r = run_hyp("report", "H003", lab=lab)

    assert r.code == 2, r
    assert "do not show" not in r.out


def test_an_include_beside_the_template_works(lab):
    write(lab, "header for {{ h.id }}\n", "header.j2")
    write(lab, "{% include 'header.j2' %}{{ verdict }}\n")

    assert run_hyp("report", "H003", lab=lab).code == 0
    assert (lab / "reports" / "H003.md").read_text().startswith("header for H003\n")


def test_a_syntax_error_names_file_and_line(lab):
    write(lab, "line one\n{% if %}\n")

    r = run_hyp("report", "H003", lab=lab)

    assert r.code == 2, r
    assert r.err.startswith("error: templates/report.md.j2:2: template:")


def test_an_undefined_call_names_the_file(lab):
    write(lab, "ok\n{{ nothing() }}\n")

    r = run_hyp("report", "H003", lab=lab)

    assert r.code == 2, r
    assert r.err.startswith("error: templates/report.md.j2")


# Issue 17 (audit): a template may not make values, output or work without bound. Each runs in a process of
# its own with a deadline and a memory limit, so that a regression fails instead of hanging the suite or
# taking the machine's memory (before the fix `'x' * 10**10` asked for 10 GB and nested ranges ran for hours).
BOMBS = [
    ("a string multiplied", "{{ 'x' * 10**10 }}", "makes a value of 10,000,000,000 characters"),
    ("a list multiplied", "{{ [1, 2] * 10**9 }}", "makes a value of"),
    ("a power", "{{ 2 ** (10 ** 10) }}", "bits"),
    ("a string doubled with ~", "{% set ns = namespace(x='x') %}{% for i in range(40) %}"
                                "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x }}", "makes a value of"),
    ("a string doubled with +", "{% set ns = namespace(x='x') %}{% for i in range(40) %}"
                                "{% set ns.x = ns.x + ns.x %}{% endfor %}{{ ns.x }}", "makes a value of"),
    ("nested ranges", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "loops over more than 1,000,000 numbers"),
    ("endless output", "{% for i in range(99999) %}{% for j in range(9) %}{{ 'y' * 99999 }}{% endfor %}{% endfor %}",
     "renders more than 20,000,000 characters"),
    ("a loop no limit counts", "{% for c in 'x' * 999999 %}{% for d in 'x' * 999999 %}{% endfor %}{% endfor %}",
     "took more than 1 s to render"),
]

RENDER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
from pathlib import Path
import hyp.reports.templates as templates
from hyp.errors import BadInput
templates.RENDER_SECONDS = 1  # the backstop's limit, shortened for the test
try:
    templates.render(Path(sys.argv[1]), "report.md.j2", {"h": {"id": "H003"}})
except BadInput as e:
    print(e.message)
    sys.exit(2)
"""


@pytest.mark.parametrize("what,template,names", BOMBS, ids=[b[0] for b in BOMBS])
def test_a_template_bomb_is_refused_in_seconds_with_one_line(tmp_path, what, template, names):
    import subprocess
    import sys

    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "report.md.j2").write_text(template)
    result = subprocess.run([sys.executable, "-c", RENDER, str(folder)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr[-2000:])
    assert result.stdout.startswith("templates/report.md.j2") and names in result.stdout, result.stdout


def test_templates_within_the_limits_render_as_before(lab):
    write(lab, "{{ 'ab' ~ 'c' }} {{ '-' * 3 }} {{ [1] + [2] }} {{ 2 ** 10 }} {{ 6 * 7 }} {{ 1.5 * 2 }}"
               "{% for i in range(3) %} {{ i }}{% endfor %} {{ h.id ~ ': ' ~ verdict }}\n")

    r = run_hyp("report", "H003", lab=lab)

    assert r.code == 0, r.err
    assert (lab / "reports" / "H003.md").read_text() == "abc --- [1, 2] 1024 42 3.0 0 1 2 H003: REJECTED\n"
