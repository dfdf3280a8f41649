"""The registry commands stay light: no torch, transformers, peft, datasets, mlflow or optuna at import or run time."""

import json
import subprocess
import sys
import textwrap

from conftest import make_lab, run_hyp

HEAVY = ("torch", "transformers", "peft", "datasets", "mlflow", "optuna")

CHECK = textwrap.dedent("""
    import json, sys
    heavy, lab, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    loaded = lambda: sorted(m for m in heavy if m in sys.modules)
    report = []
    import hyp.cli.main
    report.append(["import hyp.cli.main", 0, loaded()])
    for args in json.loads(sys.argv[4]):
        try:
            hyp.cli.main.main(["--lab", lab, *args])
            code = 0
        except SystemExit as e:
            code = e.code
        report.append([" ".join(args), code, loaded()])
    open(out, "w").write(json.dumps(report))
""")

COMMANDS = [
    ["--help"],
    ["list"],
    ["list", "--json"],
    ["show", "H003"],
    ["show", "H003", "--json"],
    ["verdict", "H003"],
    ["verdict", "H003", "--json"],
    ["validate"],
    ["validate", "H003"],
    ["schema"],
    ["new", "H010"],
    ["new", "H011", "--from", "H003", "--option", "A"],
    ["compare", "--help"],
    ["ui", "--help"],
    ["score", "--help"],
    ["sweep", "--help"],
    ["estimate", "--help"],
    ["estimate", "H003", "--json"],
]


def test_registry_commands_load_no_heavy_library(tmp_path, blank_store):
    lab = make_lab(tmp_path / "lab", store=blank_store)
    # Results exist (recorded by another process), so list/show/verdict have something to read.
    assert run_hyp("record", "H003", "--scores", lab / "scores.csv", lab=lab).code == 0
    report_path = tmp_path / "report.json"

    p = subprocess.run([sys.executable, "-c", CHECK, json.dumps(HEAVY), str(lab), str(report_path),
                        json.dumps(COMMANDS)], capture_output=True, text=True, timeout=120)

    assert p.returncode == 0, p.stderr
    report = json.loads(report_path.read_text())
    assert [(cmd, code) for cmd, code, _ in report] == [("import hyp.cli.main", 0)] + [
        (" ".join(c), 0) for c in COMMANDS]
    assert [(cmd, mods) for cmd, _, mods in report if mods] == []
    assert "REJECTED" in p.stdout  # list/show/verdict really did read the results
