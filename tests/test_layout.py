"""The code's shape, held like behaviour: small modules (one job each)."""

from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "hyp"
MAX_LINES = 450


def test_no_module_over_450_lines():
    long = {str(p.relative_to(SRC)): n for p in SRC.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}, f"split these by job: {long}"
