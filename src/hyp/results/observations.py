"""Turns the runs of one hypothesis into what the verdict needs. Pure: runs in, results out.

The evidence is every finished result of the registered experiment, pooled (SPEC §7): the
replicates of every `hyp run` and every `hyp record`. A result leaves it only when a later one
names it with `--supersede`; a run with `--set` deviations is listed beside it, never in it.
"""

from __future__ import annotations

from hyp.errors import BadInput
from hyp.files import json_or, parse_json
from hyp.hypotheses.criteria import CRITERIA
from hyp.hypotheses.lock import Amendment
from hyp.results.results import (
    AMENDMENT_TAG,
    LOCKING_KINDS,
    RESULT_KINDS,
    SEQ_TAG,
    SUPERSEDE_REASON_TAG,
    SUPERSEDES_TAG,
    Attempt,
    Results,
)
from hyp.store.base import RunRecord


def results_from_runs(runs: list[RunRecord]) -> Results:
    out = Results(runs=len(runs))
    tops = [r for r in runs if r.parent_run_id is None]
    locking = sorted((r for r in tops if r.kind in LOCKING_KINDS), key=lambda r: r.start_time)
    # A run that failed or was killed logged no results, so it locks nothing (a model name fixed after a
    # failed first run is not an amendment); one still running does, so the file cannot change under it.
    tagged = [r for r in locking if r.tags.get("hyp.lock") and r.status in ("FINISHED", "RUNNING")]
    if tagged:
        out.lock_sha = tagged[0].tags["hyp.lock"]
        out.lock_run_id = tagged[0].run_id
        out.lock_pending = tagged[0].status == "RUNNING"
        out.lock_copies = [r.run_id for r in locking
                           if r.tags.get("hyp.lock") == out.lock_sha and r.run_id != out.lock_run_id]
    out.locking_runs = len(locking)
    out.locking_ids = [r.run_id for r in locking if r.status == "FINISHED"]
    out.tampering = _tampering(locking)
    out.amendments = _amendments(runs)
    out.running = [{"run_id": r.run_id, **{k: v for k, v in r.tags.items() if k in ("hyp.pid", "hyp.host",
                    "hyp.proc_start")}} for r in runs if r.status == "RUNNING"]

    superseded = _superseded(tops)
    latest, counted = None, []
    for top in sorted(_finished_results(tops), key=lambda r: r.start_time):
        units = _units(top, runs)
        deviations = deviations_of(top)
        by = superseded.get(top.run_id)
        counts = not deviations and by is None
        scores = [u.metrics["score"] for u in units if "score" in u.metrics]
        out.attempts.append(Attempt(top.run_id, top.name, top.kind, top.start_time, top.status, len(units),
                                    sum(scores) / len(scores) if scores else None, counts, deviations,
                                    by[0] if by else None, by[1] if by else None))
        if counts:
            out.evidence += [dict(u.metrics) for u in units]
            counted += units
            latest = top
    # Nothing counts yet (every attempt deviates or was superseded): the report and `hyp score` still
    # show the latest attempt, marked as outside the evidence.
    latest = latest or max(_finished_results(tops), key=lambda r: r.start_time, default=None)
    if latest is not None:
        out.result_run_id, out.result_kind = latest.run_id, latest.kind
        units = _units(latest, runs)
        out.child_run_ids = [u.run_id for u in units if u.run_id != latest.run_id]
        out.flags = _flags(units)
        # Agreement is pooled like the evidence: over every answer of every result that counts, so
        # two hand-scored replicates of a 4-question suite are 8 answers, not 4.
        out.agreements = agreements_of(counted or units)
    return out


def _flags(units: list[RunRecord]) -> dict[str, list[str]]:
    out = {}
    for u in units:
        found = _json_tag([u], "hyp.flags", {})
        prefix = f"{u.name}: " if len(units) > 1 else ""
        out |= {f"{prefix}{answer}": flags for answer, flags in found.items() if isinstance(flags, list)}
    return out


def _json_tag(units: list[RunRecord], key: str, default):
    for u in units:
        if (value := json_or(u.tags.get(key), default)) is not default:
            return value
    return default


# --- agreement between scorers (SPEC §4, precedence) ------------------------------------------------------

AGREEMENT_TAG = "hyp.agreement"  # each scorer's points on each answer of a run, written by scoring.answer_tags
SCORERS = ("hand", "judge", "rubric")  # in precedence order
PAIRS = (("hand", "judge"), ("hand", "rubric"), ("judge", "rubric"))


def points_text(points: dict[str, int]) -> str:
    """One scorer's points on one answer as the tag keeps them: a digit per criterion, `-` where it gave none."""
    return "".join(str(points[c]) if c in points else "-" for c in CRITERIA)


def scored_answers(tags: dict[str, str]) -> list[tuple[str, str, dict[str, dict[str, int]]]] | None:
    """(answer id, its text shortened, scorer -> criterion -> points) per answer of one run; None when the
    run has no such tag. A long tag is split over `hyp.agreement`, `hyp.agreement.2`, ... (MLflow's limit)."""
    parts = sorted((int(k.rpartition(".")[2]) if k != AGREEMENT_TAG else 1, k) for k in tags
                   if k == AGREEMENT_TAG or (k.startswith(AGREEMENT_TAG + ".") and k.rpartition(".")[2].isdigit()))
    found, out = False, []
    for _, key in parts:
        part = json_or(tags[key], {})
        scorers = part.get("scorers")
        if not isinstance(scorers, list) or not isinstance(part.get("answers"), list):
            continue  # an older tag (a list of agreements) or one edited by hand
        found = True
        for row in part["answers"]:
            if not isinstance(row, list) or len(row) != len(scorers) + 2 or not all(isinstance(x, str) for x in row):
                continue
            points = {s: {c: int(d) for c, d in zip(CRITERIA, digits, strict=False) if d in "012"}
                      for s, digits in zip(scorers, row[1:-1], strict=True) if s in SCORERS}
            out.append((row[0], row[-1], points))
    return out if found else None


def agreements_of(units: list[RunRecord]) -> list[dict]:
    """Per pair of scorers that scored the same answers and per criterion: percent agreement, weighted κ
    with its 95% interval, the confusion matrix and every answer they scored differently, over the
    answers of all `units` together."""
    pooled: list[tuple[str, str, dict]] = []
    names = _unit_names(units)
    holders = [(u, found) for u in units if (found := scored_answers(u.tags)) is not None]
    for u, found in holders:
        # Answer ids are unique within a run; across runs the run's name goes before them.
        prefix = f"{names[u.run_id]}: " if len(holders) > 1 else ""
        pooled += [(prefix + answer, text, points) for answer, text, points in found]
    if not holders:
        # Runs logged before the tag held each answer's points carry their own agreement only.
        return [{**g, "percent": g["percent"] * 100} for g in _json_tag(units, AGREEMENT_TAG, [])
                if isinstance(g, dict) and isinstance(g.get("percent"), int | float)]
    return pooled_agreements(pooled)


def pooled_agreements(pooled: list[tuple[str, str, dict[str, dict[str, int]]]]) -> list[dict]:
    """Pure: (answer label, its text, scorer -> criterion -> points) in, one agreement per pair and criterion out."""
    from hyp.hypotheses.agreement import agreement

    out = []
    for first, second in PAIRS:
        for c in CRITERIA:
            both = [(label, text, p[first][c], p[second][c]) for label, text, p in pooled
                    if c in p.get(first, {}) and c in p.get(second, {})]
            if not both:
                continue
            a, b = [x for _, _, x, _ in both], [y for _, _, _, y in both]
            g = agreement(c, first, second, [label for label, *_ in both], a, b)
            out.append({**g.to_json(), "percent": g.percent * 100, "first_points": sum(a), "second_points": sum(b),
                        "differences": [{"answer": label, "first": x, "second": y, **({"text": text} if text else {})}
                                        for label, text, x, y in both if x != y]})
    judged = {g["criterion"] for g in out if (g["first"], g["second"]) == ("hand", "judge")}
    for g in out:
        # What a person's scores check: the automatic scores that would count without them, i.e. the
        # judge's where it scored the criterion, else the rubric's (evidence.untrusted reads this).
        g["checks_automatic"] = g["first"] == "hand" and (g["second"] == "judge" or g["criterion"] not in judged)
    return out


def _unit_names(units: list[RunRecord]) -> dict[str, str]:
    names = {u.run_id: u.name or u.run_id[:8] for u in units}
    taken = list(names.values())
    return {rid: name if taken.count(name) == 1 else f"{name} ({rid[:8]})" for rid, name in names.items()}


def metric_sources(runs: list[RunRecord]) -> list[str]:
    """The runs whose metrics are the hypothesis's observations: every finished result's finished
    replicates, or the result run itself. Only their metrics need reading."""
    tops = [r for r in runs if r.parent_run_id is None]
    return [u.run_id for top in _finished_results(tops) for u in _units(top, runs)]


def deviations_of(run: RunRecord) -> list[dict]:
    """The registered experiment values this run changed (`--set`); more replicates are not a change."""
    try:
        found = parse_json(run.tags.get("hyp.deviations") or "[]", "hyp.deviations")
    except (ValueError, BadInput):
        return [{"key": "unreadable hyp.deviations tag"}]
    return [d for d in found if isinstance(d, dict) and d.get("key") != "replicates"]


def _finished_results(tops: list[RunRecord]) -> list[RunRecord]:
    return [r for r in tops if r.kind in RESULT_KINDS and r.status == "FINISHED"]


def _units(top: RunRecord, runs: list[RunRecord]) -> list[RunRecord]:
    children = [r for r in runs if r.parent_run_id == top.run_id and r.kind == "replicate" and r.status == "FINISHED"]
    return children or [top]


def _superseded(tops: list[RunRecord]) -> dict[str, tuple[str, str]]:
    """run id -> (the finished result that superseded it, the reason given)."""
    out = {}
    for r in _finished_results(tops):
        for target in filter(None, (r.tags.get(SUPERSEDES_TAG) or "").split(",")):
            out[target.strip()] = (r.run_id, r.tags.get(SUPERSEDE_REASON_TAG, ""))
    return out


def _tampering(locking: list[RunRecord]) -> list[str]:
    problems = []
    unlocked = [r for r in locking if r.status == "FINISHED" and not r.tags.get("hyp.lock")]
    if unlocked:
        problems.append(f"results without a lock tag in the store (run {unlocked[0].run_id})")
    # `hyp record` has no --set: deviations on a record were written by hand, and would take it out of the evidence.
    forged = [r for r in locking if r.kind == "record" and r.tags.get("hyp.deviations")]
    if forged:
        problems.append(f"a hyp record carries --set deviations it cannot have (run {forged[0].run_id})")
    seqs = [int(r.tags[SEQ_TAG]) for r in locking if r.tags.get(SEQ_TAG, "").isdigit()]
    if seqs and max(seqs) > len(locking):
        problems.append(f"{max(seqs) - len(locking)} result run(s) were deleted from the store")
    return problems


def _amendments(runs: list[RunRecord]) -> list[Amendment]:
    amendments = []
    for r in runs:
        for key, value in r.tags.items():
            if key.startswith(AMENDMENT_TAG):
                try:
                    amendments.append(Amendment(**parse_json(value, key)))
                except (ValueError, TypeError, BadInput):
                    continue
    return sorted(amendments, key=lambda a: a.time)
