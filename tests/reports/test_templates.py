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
