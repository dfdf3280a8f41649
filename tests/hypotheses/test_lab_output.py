"""`hyp report -o PATH` (Lab.output_path): never into another lab, never a folder, never past a user's file
where a plot goes."""

from __future__ import annotations

import hashlib

from conftest import H003_YAML, make_lab, run_hyp


def snapshot(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


def test_report_o_never_writes_into_another_lab(tmp_path):
    """Issue 17, audit: from lab A, `-o B/hypotheses/H009.yaml` wrote Markdown as H009.yaml and the plots
    into B's hypotheses/; `-o B/.hyp/x.md` too. Every lab above the target is protected as A protects itself."""
    lab = make_lab(tmp_path / "a")
    other = make_lab(tmp_path / "b", {"H003": H003_YAML, "H009": H003_YAML.replace("id: H003", "id: H009")})
    (other / "reports").mkdir()
    (tmp_path / "link").symlink_to(other / "hypotheses")  # the same folder by another name
    before = snapshot(other)
    for target in (other / "hypotheses" / "H009.yaml", other / "hypotheses" / "H010.yaml", other / ".hyp" / "x.md",
                   other / "hyp.toml", other / "data" / "new.md", other / "evals" / "sub" / "x.md",
                   other / "reports" / "H003.md", tmp_path / "link" / "H011.yaml"):
        r = run_hyp("report", "H003", "-o", target, lab=lab)
        assert r.code == 2 and len(r.err_lines) == 1, (target, r.err)
        assert f"is one of the files of the lab at {other}" in r.err, r.err
    assert snapshot(other) == before


def test_report_o_a_folder_is_refused(tmp_path):
    """`-o out/` wrote a file named `out`; a folder, new or existing, is refused alike: the report is a file."""
    lab = make_lab(tmp_path / "lab")
    (lab / "existing").mkdir()
    for target in (f"{lab}/out/", f"{lab}/existing/", f"{lab}/existing", f"{lab}/out/.", ".."):
        r = run_hyp("report", "H003", "-o", target, lab=lab)
        assert r.code == 2 and len(r.err_lines) == 1, (target, r.err)
        assert "folder" in r.err or "is a directory" in r.err, r.err
    assert not (lab / "out").exists() and list((lab / "existing").iterdir()) == []


def test_a_users_file_where_a_plot_goes_in_reports_is_refused_not_kept(tmp_path, blank_store):
    """Issue 17, audit: a link or a file of one's own at reports/H003-lineage.png stayed while `hyp report`
    said "Wrote" (the report then showed the user's file as its plot)."""
    lab = make_lab(tmp_path / "lab", store=blank_store)
    assert run_hyp("record", "H003", "--metric", "score=8", lab=lab).code == 0
    assert run_hyp("report", "H003", lab=lab).code == 0
    plots = sorted((lab / "reports").glob("H003-*.png"))
    assert plots
    plot = plots[0]
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    for make in (lambda: plot.symlink_to(notes), lambda: plot.write_text("my own picture\n")):
        plot.unlink()
        make()
        r = run_hyp("report", "H003", lab=lab)
        assert r.code == 2 and len(r.err_lines) == 1, r.err
        assert f"{plot.name}: already exists and is not a plot hyp drew" in r.err
        assert "Wrote" not in r.out
    assert notes.read_text() == "mine\n" and plot.read_text() == "my own picture\n"
    plot.unlink()
    assert run_hyp("report", "H003", lab=lab).code == 0  # its own plot, drawn again
    assert plot.read_bytes().startswith(b"\x89PNG")
