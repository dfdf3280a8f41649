"""`hyp init` and `hyp new`: labs and hypothesis files that validate from the start."""

import datetime as dt

import pytest

from conftest import run_hyp
from hyp.hypotheses.lab import Lab


def test_init_creates_an_empty_lab(tmp_path):
    r = run_hyp("init", tmp_path / "mylab")
    assert r.code == 0, r
    lab = tmp_path / "mylab"
    assert (lab / "hyp.toml").is_file()
    for sub in ("hypotheses", "data", "evals", "reports"):
        assert (lab / sub).is_dir()
    assert ".hyp/" in (lab / ".gitignore").read_text()
    assert Lab(lab).settings.experiment == "mylab"
    assert run_hyp("init", lab).code == 2  # never over an existing lab


def test_the_shipped_example_lab_validates(tmp_path):
    assert run_hyp("init", tmp_path / "persona", "--example", "persona").code == 0
    r = run_hyp("validate", lab=tmp_path / "persona")
    assert r.code == 0, r
    assert "H003" in r.out


def test_an_unknown_example_is_refused(tmp_path):
    r = run_hyp("init", tmp_path / "x", "--example", "nope")
    assert r.code == 2
    assert "persona" in r.err  # names the examples there are


def test_new_from_a_parent_option_applies_its_changes(lab):
    r = run_hyp("new", "H005", "--from", "H003", "--option", "A", lab=lab)
    assert r.code == 0, r
    path = lab / "hypotheses" / "H005.yaml"
    hyp = Lab(lab).load("H005")
    assert hyp.id == "H005"
    assert hyp.parent == "H003"
    assert hyp.experiment.dataset.synthetic.ratio == 0.0
    assert hyp.experiment.training.epochs == 4
    assert hyp.experiment.training.learning_rate == pytest.approx(2.0e-4)  # the rest is the parent's
    assert hyp.created == dt.date.today()
    assert "Revert to pure curation" in hyp.title
    overall = next(p for p in hyp.predictions if p.metric == "score")
    assert (overall.op, overall.value) == ("between", (8.0, 8.5))  # the option's expected score
    assert "H003" in hyp.rationale["training.epochs"]
    assert hyp.on_failure == []  # the parent's plan was for the parent's failure
    text = path.read_text(encoding="utf-8")
    assert "# a third of the final mix is synthetic" in text  # the parent's comments survive
    assert run_hyp("validate", "H005", lab=lab).code == 0


def test_new_from_a_parent_without_an_option_copies_it(lab):
    assert run_hyp("new", "H004", "--from", "H003", lab=lab).code == 0
    child, parent = Lab(lab).load("H004"), Lab(lab).load("H003")
    assert child.parent == "H003"
    assert child.experiment == parent.experiment
    assert child.success_criteria == parent.success_criteria


def test_new_from_the_template_validates(lab):
    r = run_hyp("new", "H006", lab=lab)
    assert r.code == 0, r
    hyp = Lab(lab).load("H006")
    assert hyp.id == "H006"
    assert hyp.parent is None
    assert run_hyp("validate", "H006", lab=lab).code == 0


def test_an_existing_id_is_refused_and_left_alone(lab):
    path = lab / "hypotheses" / "H003.yaml"
    before = path.read_bytes()
    for args in (["new", "H003"], ["new", "H003", "--from", "H003", "--option", "A"]):
        r = run_hyp(*args, lab=lab)
        assert r.code == 2
        assert "already exists" in r.err
    assert path.read_bytes() == before


@pytest.mark.parametrize("hid", ["../x", "../../H004", "hypotheses/H004", "H12", "h004", "H004x", "H-004", "H004.yaml",
                                 ""])
def test_ids_outside_the_pattern_are_refused(lab, hid):
    r = run_hyp("new", hid, lab=lab)
    assert r.code == 2
    assert len(r.err_lines) == 1
    assert "not a hypothesis id" in r.err
    assert sorted(p.name for p in (lab / "hypotheses").iterdir()) == ["H003.yaml"]
    assert not (lab / "x.yaml").exists() and not (lab.parent / "x.yaml").exists()


@pytest.mark.parametrize(("args", "what"), [
    (["new", "H005", "--from", "H003", "--option", "Z"], "A"),  # names the options there are
    (["new", "H005", "--option", "A"], "--from"),
    (["new", "H005", "--from", "H009"], "H009"),
])
def test_bad_parents_and_options_are_refused(lab, args, what):
    r = run_hyp(*args, lab=lab)
    assert r.code == 2
    assert what in r.err
    assert not (lab / "hypotheses" / "H005.yaml").exists()


def test_an_option_that_would_make_an_invalid_file_writes_nothing(lab):
    path = lab / "hypotheses" / "H003.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("experiment.training.epochs: 4",
                                                             "experiment.training.epoch: 4"), encoding="utf-8")
    r = run_hyp("new", "H005", "--from", "H003", "--option", "A", lab=lab)
    assert r.code == 2
    assert "epoch" in r.err
    assert not (lab / "hypotheses" / "H005.yaml").exists()


@pytest.mark.parametrize("args", [["show", "../H003"], ["verdict", "../H003"], ["validate", "../H003"],
                                  ["record", "../H003", "--metric", "score=1"], ["amend", "../H003", "--reason", "x"]])
def test_every_command_refuses_a_path_for_an_id(lab, args):
    r = run_hyp(*args, lab=lab)
    assert r.code == 2
    assert "not a hypothesis id" in r.err
    assert not (lab / ".hyp" / "mlflow.db").exists()


def test_a_new_hypothesis_from_a_parent_gets_its_own_version_and_a_flagged_statement(lab):
    from hyp.hypotheses.scaffold import new_hypothesis

    path = new_hypothesis(Lab(lab), "H007", parent="H003",
                          changes={"experiment.training.learning_rate": 0.0017762736670118092})
    text = path.read_text(encoding="utf-8")
    new, parent = Lab(lab).load("H007"), Lab(lab).load("H003")
    assert new.version != parent.version and new.version
    assert "# copied from H003: rewrite it to say what H007 claims" in text
    assert "learning_rate: 0.00177627}" in text  # six figures, as a person writes it, not 17 digits
    assert not any(line != line.rstrip() for line in text.splitlines())  # no trailing spaces


def test_a_second_child_of_a_parent_gets_the_next_free_version_not_its_siblings(lab):
    """H003 is v2.3 and its first child v2.4; a second child was v2.4 too, two hypotheses under one label."""
    from hyp.hypotheses.scaffold import new_hypothesis

    new_hypothesis(Lab(lab), "H004", parent="H003")
    new_hypothesis(Lab(lab), "H005", parent="H003")
    versions = [Lab(lab).load(h).version for h in ("H003", "H004", "H005")]
    assert versions == ["v2.3", "v2.4", "v2.5"]


def _everything(folder):
    """Each path under `folder` (links not followed) with what it is: what a refused init must leave."""
    import os

    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else "dir" if path.is_dir() else path.read_bytes()
    return out


# Issue 17 (audit): what sits where `hyp init` writes. Each was exit 1 after copying half the example, or a
# write through a link to wherever it pointed.
TAKEN = [
    ("data is a file", "data", "is a file where the lab needs a folder", ["--example", "persona"]),
    ("reports is a file", "reports", "is a file where the lab needs a folder", ["--example", "persona"]),
    ("hypotheses is a file", "hypotheses", "is a file where the lab needs a folder", ["--example", "persona"]),
    ("hypotheses is a file, no example", "hypotheses", "is a file where the lab needs a folder", []),
    ("a dangling link where the README goes", "README.md", "is a symbolic link", ["--example", "persona"]),
    ("a dangling link where the data goes", "data", "is a symbolic link", ["--example", "persona"]),
    ("a dangling link where hyp.toml goes", "hyp.toml", "", []),
]


@pytest.mark.parametrize("what,rel,names,args", TAKEN, ids=[t[0] for t in TAKEN])
def test_init_refuses_a_taken_place_before_writing_anything(tmp_path, what, rel, names, args):
    import os

    folder = tmp_path / "mine"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    if "link" in what:
        os.symlink(elsewhere / rel, folder / rel)
    else:
        (folder / rel).write_text("my own file\n")
    before = _everything(folder)

    r = run_hyp("init", folder, *args)

    assert r.code == 2 and len(r.err_lines) == 1, r.err
    assert f"{folder / rel}:" in r.err and names in r.err, r.err
    assert _everything(folder) == before, "a refused init changed the folder"
    assert not elsewhere.exists(), "written through a link"


def test_init_files_get_the_mode_of_any_new_file(tmp_path):
    """A copy kept the installed files' mode (0644 whatever the umask): a team's shared lab (umask 002) got
    files only their owner could write, a private one (umask 077) files all could read."""
    import os
    import stat

    for umask, mode in ((0o077, 0o600), (0o002, 0o664)):
        old = os.umask(umask)
        try:
            lab = tmp_path / f"lab-{umask:o}"
            assert run_hyp("init", lab, "--example", "persona").code == 0
        finally:
            os.umask(old)
        files = [p for p in lab.rglob("*") if p.is_file()]
        assert len(files) > 10
        assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {mode}
        assert {stat.S_IMODE(p.stat().st_mode) for p in lab.rglob("*") if p.is_dir()} == {0o777 & ~umask}


@pytest.fixture
def nothing_written(monkeypatch):
    """A regression must not create a lab in / or /etc while the test looks: every write fails loudly."""
    from pathlib import Path

    from hyp.hypotheses import scaffold

    def refuse(*args, **kwargs):
        raise AssertionError(f"hyp init wrote {args[:2]}")

    monkeypatch.setattr(scaffold, "write_atomic", refuse)
    monkeypatch.setattr(Path, "mkdir", refuse)


@pytest.mark.parametrize("path, names", [
    ("/", "/: is the file system's root"),
    ("/etc", "/etc: is a system folder"),
    ("/etc/hyp-lab", "/etc/hyp-lab: is a system folder"),
    ("/usr/local/lab", "is a system folder"),
    ("/var/lib/lab", "is a system folder"),
    ("/boot", "is a system folder"),
    ("/lib64/lab", "is a system folder"),
    ("/home", "/home: is a folder many folders share"),
    ("/tmp", "/tmp: is a folder many folders share"),
    ("/mnt", "is a folder many folders share"),
    ("/root", "/root: is a home folder itself"),
    ("/home/ada", "/home/ada: is a home folder itself"),
])
def test_init_refuses_the_root_system_folders_and_homes(nothing_written, path, names):
    """Issue 17, audit: `hyp init /` as root created /hyp.toml, /data, /evals ...; only /proc, /sys and /dev
    were refused. A lab in / or a home folder would also be found by `hyp` from every folder below it."""
    r = run_hyp("init", path)
    assert r.code == 2 and len(r.err_lines) == 1, r.err
    assert names in r.err and "make the lab in a folder of its own" in r.err


@pytest.mark.parametrize("path", ["/srv/lab", "/opt/lab", "/mnt/data/lab", "/home/ada/labs/x", "/root/lab",
                                  "/var/tmp/lab", "/tmp/x/lab", "/work/lab"])
def test_a_folder_of_ones_own_may_hold_a_lab(path):
    from pathlib import Path

    from hyp.hypotheses.scaffold import lab_root_problem

    assert lab_root_problem(Path(path)) is None


def test_a_home_folder_under_var_holds_labs_but_is_none_itself(monkeypatch):
    """A CI user's home may be /var/lib/jenkins: its own folders are the user's, the home itself is not a lab."""
    from pathlib import Path

    from hyp.hypotheses.scaffold import lab_root_problem

    monkeypatch.setenv("HOME", "/var/lib/jenkins")
    assert lab_root_problem(Path("/var/lib/jenkins/workspace/lab")) is None
    assert lab_root_problem(Path("/var/lib/jenkins")) == "is a home folder itself"
    assert lab_root_problem(Path("/var/lib/other/lab")) == "is a system folder"
