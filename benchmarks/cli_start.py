"""How fast the CLI answers: `hyp --help`, and `hyp list` / `hyp show` on the demo lab with results.

Goal (developers' guide): well under half a second. Medians of repeated runs, each a new process,
next to a bare `python -c pass` in the same run.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from list_speed import median_seconds  # noqa: E402  (one timing loop for the CLI benchmarks)


def main(argv: list[str] | None = None) -> dict:
    from hyp.hypotheses.scaffold import init_lab

    hyp = [sys.executable, "-m", "hyp"]
    with tempfile.TemporaryDirectory() as tmp:
        lab = init_lab(Path(tmp) / "lab", example="persona")
        for hid, score in (("H002", 8.2), ("H003", 7.1)):
            subprocess.run([*hyp, "record", hid, "--metric", f"score={score}"], cwd=lab, check=True,
                           capture_output=True)
        result = {"help_s": median_seconds([*hyp, "--help"], lab),
                  "list_s": median_seconds([*hyp, "list"], lab),
                  "show_s": median_seconds([*hyp, "show", "H003"], lab),
                  "python_start_s": median_seconds([sys.executable, "-c", "pass"], lab)}
    for key, value in result.items():
        print(f"{key}: {value:.3f}")
    return result


if __name__ == "__main__":
    main()
