"""Issue 20, the first hour: `hyp new --from` copies the parent's statement ("20 epochs", "dropping the
synthetic data") while the new file changes epochs or ratio; `hyp validate` said "ok" and nothing else."""

from conftest import run_hyp


def test_validate_warns_while_a_statement_is_still_its_parents(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_hyp("init", "lab", "--example", "persona").code == 0
    lab = tmp_path / "lab"
    assert run_hyp("new", "H005", "--from", "H004", "--option", "A", lab=lab).code == 0

    copied = run_hyp("validate", lab=lab)
    assert copied.code == 0 and "ok 5 hypotheses valid" in copied.out
    (warning,) = copied.err_lines
    assert warning.startswith("warning: ") and warning.endswith(
        "hypotheses/H005.yaml:4: statement: the same as H004's; rewrite it to say what H005 claims before its first "
        "results lock it")

    path = lab / "hypotheses" / "H005.yaml"
    text = path.read_text()
    start = text.index("statement: >")
    end = text.index("version:")
    path.write_text(text[:start] + "statement: Training 24 epochs on the curated set reaches 8/10.\n" + text[end:])
    rewritten = run_hyp("validate", "H005", lab=lab)
    assert rewritten.code == 0 and rewritten.err_lines == []
