"""The demo's trained answers scored before and after the coherence checks, against a person's scores.

    python benchmarks/demo_scoring/compare.py OLD_ANSWERS_DIR

OLD_ANSWERS_DIR holds H003-answers.json and H004-answers.json as the previous release's `hyp run` of the
demo logged them (answers with the keyword rubric's scores). The same answers are scored again with
today's rubric (coherence checks included) and both are compared with hand_scores.json beside this file:
score, flags, and per criterion the share of answers scored alike and linear-weighted Cohen's κ.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> dict:
    from hyp.experiments.scoring import Scorers, score_set
    from hyp.experiments.vocabulary import lab_vocabulary
    from hyp.hypotheses.agreement import weighted_kappa
    from hyp.hypotheses.criteria import CRITERIA
    from hyp.hypotheses.lab import Lab
    from hyp.hypotheses.scaffold import init_lab

    folder = Path((argv or sys.argv[1:])[0])
    hand = json.loads((HERE / "hand_scores.json").read_text())
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        lab = Lab(init_lab(Path(tmp) / "lab", example="persona"))
        for hid in ("H003", "H004"):
            hyp = lab.load(hid)
            suite = lab.load_suite(hyp.experiment.eval.suite)
            answers = json.loads((folder / f"{hid}-answers.json").read_text())
            items = [(suite.question(a["question"]), a["response"], bool(a.get("truncated"))) for a in answers]
            new = score_set(items, Scorers(suite, lab_vocabulary(lab, hyp, suite))).scores
            rows = []
            for a, s in zip(answers, new, strict=True):
                rows.append({"question": a["question"], "before": a["total"], "after": s.total,
                             "hand": sum(hand[hid][a["question"]]), "flags": list(s.flags),
                             "answer": a["response"]})
            kappa = {}
            for i, c in enumerate(CRITERIA):
                person = [hand[hid][a["question"]][i] for a in answers]
                before = [a[c] for a in answers]
                after = [getattr(s, c) for s in new]
                kappa[c] = {"before": weighted_kappa(person, before), "after": weighted_kappa(person, after),
                            "agree_before": sum(x == y for x, y in zip(person, before, strict=True)) / len(person),
                            "agree_after": sum(x == y for x, y in zip(person, after, strict=True)) / len(person)}
            n = len(rows)
            out[hid] = {"score_before": sum(r["before"] for r in rows) / (8 * n) * 10,
                        "score_after": sum(r["after"] for r in rows) / (8 * n) * 10,
                        "score_hand": sum(r["hand"] for r in rows) / (8 * n) * 10, "answers": rows, "kappa": kappa}
    for hid, r in out.items():
        print(f"{hid}: score before {r['score_before']:.2f}, after {r['score_after']:.2f}, by hand "
              f"{r['score_hand']:.2f}")
        for row in r["answers"]:
            print(f"  {row['question']} {row['before']}→{row['after']} (hand {row['hand']}) "
                  f"{'; '.join(row['flags']) or '—'} | {row['answer'][:90]}")
        for c, k in r["kappa"].items():
            print(f"  κ {c}: {k['before']:.2f} → {k['after']:.2f} (agree {k['agree_before']:.0%} → "
                  f"{k['agree_after']:.0%})")
    return out


if __name__ == "__main__":
    main()
