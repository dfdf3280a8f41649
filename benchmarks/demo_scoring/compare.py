"""The demo's trained answers scored before and after the coherence checks (issue 14), against a person's.

    python benchmarks/demo_scoring/compare.py [--record]

H003-answers.json and H004-answers.json beside this file are the answers `hyp run` logged for the demo
(kept, so this can be run again); hand_scores.json holds the developer's scores of the same answers.
"Before" is the keyword rubric alone (what hyp scored before issue 14), "after" today's rubric with its
coherence checks. Printed: score, each answer's points and flags, and per criterion the share of answers
scored alike and linear-weighted Cohen's κ. With --record, the hand scores also go through
`hyp record H00x --scores` in a new demo lab, and `hyp show --json` gives the κ hyp itself reports.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    from hyp.experiments.rubric import score_answer
    from hyp.experiments.scoring import Scorers, score_set
    from hyp.experiments.vocabulary import lab_vocabulary
    from hyp.hypotheses.agreement import weighted_kappa
    from hyp.hypotheses.criteria import CRITERIA
    from hyp.hypotheses.lab import Lab
    from hyp.hypotheses.scaffold import init_lab

    argv = sys.argv[1:] if argv is None else argv
    hand = json.loads((HERE / "hand_scores.json").read_text())
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(init_lab(Path(tmp) / "lab", example="persona"))
        for hid in ("H003", "H004"):
            hyp = lab.load(hid)
            suite = lab.load_suite(hyp.experiment.eval.suite)
            answers = json.loads((HERE / f"{hid}-answers.json").read_text())
            items = [(suite.question(a["question"]), a["response"], a["truncated"]) for a in answers]
            before = [score_answer(q, text, suite, truncated=t) for q, text, t in items]
            after = score_set(items, Scorers(suite, lab_vocabulary(lab, hyp, suite))).scores
            person = {a["question"]: hand[hid][a["question"]] for a in answers}
            rows = [{"question": a["question"], "before": b.total, "after": s.total, "hand": sum(person[a["question"]]),
                     "flags": list(s.flags), "answer": a["response"]}
                    for a, b, s in zip(answers, before, after, strict=True)]
            kappa = {}
            for i, c in enumerate(CRITERIA):
                by_hand = [person[a["question"]][i] for a in answers]
                old, new = [getattr(b, c) for b in before], [getattr(s, c) for s in after]
                kappa[c] = {"before": weighted_kappa(by_hand, old), "after": weighted_kappa(by_hand, new),
                            "agree_before": _agree(by_hand, old), "agree_after": _agree(by_hand, new)}
            points = 8 * len(rows)
            out[hid] = {"score_before": sum(r["before"] for r in rows) / points * 10,
                        "score_after": sum(r["after"] for r in rows) / points * 10,
                        "score_hand": sum(r["hand"] for r in rows) / points * 10, "answers": rows, "kappa": kappa}
            if "--record" in argv:
                out[hid]["recorded"] = _recorded(lab.root, hid, answers, person)
    _print(out)
    return out


def _agree(a: list[int], b: list[int]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def _recorded(root: Path, hid: str, answers: list[dict], person: dict) -> object:
    """The hand scores through `hyp record --scores` (with each answer), then what `hyp show --json` says."""
    table = root / f"{hid}-hand.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["question", "agent", "factual", "personality", "complete", "response"])
        for a in answers:
            w.writerow([a["question"], *person[a["question"]], a["response"]])
    hyp = [sys.executable, "-m", "hyp"]
    subprocess.run([*hyp, "record", hid, "--scores", str(table)], cwd=root, check=True, capture_output=True)
    shown = subprocess.run([*hyp, "show", hid, "--json"], cwd=root, check=True, capture_output=True, text=True)
    return json.loads(shown.stdout).get("agreements")


def _print(out: dict) -> None:
    for hid, r in out.items():
        print(f"{hid}: score before {r['score_before']:.2f}, after {r['score_after']:.2f}, by hand "
              f"{r['score_hand']:.2f}")
        for row in r["answers"]:
            print(f"  {row['question']} {row['before']}→{row['after']} (hand {row['hand']}) "
                  f"{'; '.join(row['flags']) or '—'} | {row['answer'][:90]}")
        for c, k in r["kappa"].items():
            print(f"  κ {c}: {k['before']:.2f} → {k['after']:.2f} (agree {k['agree_before']:.0%} → "
                  f"{k['agree_after']:.0%})")
        if "recorded" in r:
            print(f"  hyp show --json agreements after `hyp record --scores`: {json.dumps(r['recorded'])[:600]}")


if __name__ == "__main__":
    main()
