"""What scoring the answers costs `hyp run`: 8 answers of the demo suite through the rubric with its
coherence checks (word list included), in a fresh process (cold: imports and the word list load) and
again in the same process (warm). Goal (issue 14): under 1 s added to a run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CODE = """
import json, sys, time
started = time.perf_counter()
from hyp.experiments.scoring import Scorers, score_set
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.scaffold import init_lab
import tempfile, pathlib
from hyp.experiments.vocabulary import lab_vocabulary
lab = Lab(init_lab(pathlib.Path(tempfile.mkdtemp()) / "lab", example="persona"))
hyp = lab.load("H004")
suite = lab.load_suite(hyp.experiment.eval.suite)
vocabulary = lab_vocabulary(lab, hyp, suite)
answers = [(q, "Softtor is where I build the CRM in TypeScript with Next.js and Prisma; direct answers.", False)
           for q in suite.questions]
setup = time.perf_counter() - started
begun = time.perf_counter()
score_set(answers, Scorers(suite, vocabulary))
cold = time.perf_counter() - begun
begun = time.perf_counter()
for _ in range(20):
    score_set(answers, Scorers(suite, vocabulary))
warm = (time.perf_counter() - begun) / 20
print(json.dumps({"setup_s": setup, "cold_s": cold, "warm_s": warm}))
"""


def main(argv: list[str] | None = None) -> dict:
    runs = []
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    result = {k: sorted(r[k] for r in runs)[1] for k in runs[0]}
    for key, value in result.items():
        print(f"{key}: {value:.3f}")
    return result


if __name__ == "__main__":
    started = time.perf_counter()
    main()
