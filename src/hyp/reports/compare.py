"""`hyp compare`: the params and metrics of each hypothesis's latest result run, side by side.

`compare` fetches the runs; `side_by_side` is pure and decides the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hyp.errors import BadInput
from hyp.hypotheses.judged import judge_hypothesis
from hyp.hypotheses.lab import Lab
from hyp.trackers.base import RunRecord


@dataclass(frozen=True)
class Comparison:
    runs: list[dict]  # {"id", "run_id", "version", "verdict"}, one per hypothesis in the order given
    params: dict[str, list[str | None]]  # one value per hypothesis; None where a run lacks the key
    metrics: dict[str, list[float | None]]

    def to_json(self) -> dict:
        return {"runs": self.runs, "params": self.params, "metrics": self.metrics}


def compare(lab: Lab, ids: list[str], *, all_rows: bool = False) -> Comparison:
    from hyp.trackers.index import load_results

    hyps = [lab.load(hid) for hid in ids]  # an unknown id stops here, before the store is opened
    results = load_results(lab)
    for hid in ids:
        if hid not in results or results[hid].result_run_id is None:
            raise BadInput(f"{hid}: no results logged yet, nothing to compare (`hyp run {hid}` or `hyp record`)")
    from hyp.trackers import open_tracker

    tracker = open_tracker(lab)
    runs, heads = [], []
    for hyp in hyps:
        res = results[hyp.id]
        by_id = {r.run_id: r for r in tracker.runs(hyp.id)}
        if res.result_run_id not in by_id:
            raise BadInput(f"{hyp.id}: its result run {res.result_run_id} is no longer in the store")
        runs.append(by_id[res.result_run_id])
        heads.append({"id": hyp.id, "run_id": res.result_run_id, "version": hyp.version,
                      "verdict": judge_hypothesis(hyp, res).shown_verdict})
    return side_by_side(heads, runs, all_rows=all_rows)


def side_by_side(heads: list[dict], runs: list[RunRecord], *, all_rows: bool = False) -> Comparison:
    """Rows that differ between the runs (every row with `all_rows`): `score` first, then the summary
    metrics, then the dotted ones (per question, per dataset part), each in natural order."""

    def rows(tables: list[dict]) -> dict[str, list]:
        keys = sorted(set().union(*tables), key=lambda k: (k != "score", "." in k, _natural(k)))
        out = {k: [t.get(k) for t in tables] for k in keys}
        return out if all_rows else {k: v for k, v in out.items() if len(set(map(repr, v))) > 1}

    return Comparison(heads, rows([r.params for r in runs]), rows([r.metrics for r in runs]))


def _natural(key: str) -> list:
    # Q2.total before Q10.total: digit runs compare as numbers.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]
