"""Answers as MLflow traces: one trace per answer, linked to its run, with one assessment per criterion
saying who gave the points (the rubric's code, an LLM judge, a person) and why."""

from __future__ import annotations

import json
import time

from hyp.hypotheses.criteria import CRITERIA
from hyp.store.secrets import redact

RUBRIC = "hyp rubric"
PREVIEW = 1000  # MLflow's own cut for the request/response columns of its trace list


def log_answer_traces(tracker, run_id: str, answers: list[dict]) -> list[str]:
    """One trace per answer in the run's experiment, linked to `run_id`; the trace ids, in order.

    The traces are written straight to the tracker's store, not through MLflow's tracing provider:
    that provider exports to the process-wide tracking URI (not this tracker's), on a background
    queue, and only logs a warning when the write fails. Written here, a failure raises and the
    traces are in the store when this returns."""
    if not answers:
        return []
    client = _tracing_client(tracker)
    run = tracker.client.get_run(run_id)
    experiment_id = run.info.experiment_id
    tags = {"hyp.id": run.data.tags["hyp.id"]} if run.data.tags.get("hyp.id") else {}
    now_ns = time.time_ns()
    built = [_trace(answer, run_id, experiment_id, tags, now_ns) for answer in answers]
    # One transaction per trace for its info and assessments, then one for every span. In the other
    # order each trace would already exist (log_spans creates it) and cost a merge, twice as slow.
    ids = [client.start_trace(info).trace_id for info, _ in built]
    client.log_spans(experiment_id, [span for _, span in built])
    return ids


def log_human_assessments(tracker, trace_id: str, scores: dict[str, int], source_id: str,
                          rationales: dict[str, str] | None = None) -> None:
    """Hand-given points on an answer's trace, next to the rubric's (`hyp score`)."""
    from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback

    client = _tracing_client(tracker)
    source = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=source_id)
    for criterion in CRITERIA:
        if criterion in scores:
            rationale = (rationales or {}).get(criterion) or f"scored by hand ({source_id})"
            client.log_assessment(trace_id, Feedback(name=criterion, value=int(scores[criterion]),
                                                     rationale=rationale, source=source))


def answer_traces(tracker, run_id: str) -> dict[tuple[str, int], str]:
    """The traces of a run's answers by (question id, sample): how `hyp score` finds the trace of the
    answer it scored."""
    client = _tracing_client(tracker)
    experiment_id = tracker.client.get_run(run_id).info.experiment_id
    out, token = {}, None
    while True:
        page = client.search_traces(locations=[experiment_id], run_id=run_id, max_results=500,
                                    page_token=token, include_spans=False)
        for trace in page:
            tags = trace.info.tags
            if "hyp.question" in tags:
                out[(tags["hyp.question"], int(tags.get("hyp.sample", 0)))] = trace.info.trace_id
        token = page.token
        if not token:
            return out


def _tracing_client(tracker):
    # The tracker's client first: connecting switches MLflow's telemetry off before MLflow loads.
    uri = tracker.client.tracking_uri
    from mlflow.tracing.client import TracingClient

    return TracingClient(uri)


def _trace(answer: dict, run_id: str, experiment_id: str, tags: dict[str, str], now_ns: int):
    import secrets

    from mlflow.entities import Span, TraceInfo, TraceLocation, TraceState
    from mlflow.tracing.constant import (
        TRACE_SCHEMA_VERSION,
        TRACE_SCHEMA_VERSION_KEY,
        SpanAttributeKey,
        TraceMetadataKey,
        TraceTagKey,
    )

    question = str(answer.get("question", "?"))
    sample = int(answer.get("sample") or 0)
    inputs = {"question": redact(str(answer.get("prompt") or question)), "question_id": question}
    response = answer.get("response")
    outputs = {"answer": redact(response) if isinstance(response, str) else None}
    otel_trace, otel_span = secrets.randbits(128) or 1, secrets.randbits(64) or 1
    trace_id = f"tr-{otel_trace:032x}"
    request, reply = json.dumps(inputs, ensure_ascii=False), json.dumps(outputs, ensure_ascii=False)
    span = Span.from_dict({
        "trace_id": _b64(otel_trace, 16), "span_id": _b64(otel_span, 8), "parent_span_id": None,
        "name": _name(question, sample), "start_time_unix_nano": now_ns, "end_time_unix_nano": now_ns,
        "status": {"code": "STATUS_CODE_OK", "message": ""}, "events": [],
        "attributes": {SpanAttributeKey.REQUEST_ID: json.dumps(trace_id), SpanAttributeKey.SPAN_TYPE: '"LLM"',
                       SpanAttributeKey.INPUTS: request, SpanAttributeKey.OUTPUTS: reply},
    })
    info = TraceInfo(
        trace_id=trace_id,
        trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=now_ns // 1_000_000,
        execution_duration=0,  # the answers were generated before; their timing is the run's
        state=TraceState.OK,
        request_preview=_cut(inputs["question"]),
        response_preview=_cut(outputs["answer"] or ""),
        trace_metadata={TraceMetadataKey.SOURCE_RUN: run_id, TRACE_SCHEMA_VERSION_KEY: str(TRACE_SCHEMA_VERSION),
                        TraceMetadataKey.INPUTS: _cut(request), TraceMetadataKey.OUTPUTS: _cut(reply)},
        tags={TraceTagKey.TRACE_NAME: _name(question, sample), **tags, "hyp.question": question,
              "hyp.sample": str(sample)},
        assessments=_assessments(answer),
    )
    return info, span


def _assessments(answer: dict) -> list:
    """One assessment per criterion from whoever gave the points that count, and beside it one from each
    scorer whose points those overrode (`judge`, `rubric` on the answer): a hand-scored answer whose
    text is known shows the person's, the judge's and the rubric's points side by side."""
    from mlflow.entities import AssessmentSource, AssessmentSourceType, Feedback

    sources = answer.get("sources") or {}
    rationales = answer.get("rationales") or {}
    out = []
    for criterion in CRITERIA:
        if answer.get(criterion) is None:
            continue
        who = sources.get(criterion) or answer.get("source") or "rubric"
        given = [(who, int(answer[criterion]), rationales.get(criterion))]
        for other in ("judge", "rubric"):
            value = (answer.get(other) or {}).get(criterion)
            if other != who and isinstance(value, int):
                why = (answer.get("judge_rationales") or {}).get(criterion) if other == "judge" else None
                given.append((other, value, why))
        for scorer, value, rationale in given:
            if scorer == "judge":
                source = AssessmentSource(AssessmentSourceType.LLM_JUDGE, answer.get("judge_model") or "judge")
                default = "the LLM judge's score"
            elif scorer == "hand":
                source = AssessmentSource(AssessmentSourceType.HUMAN, answer.get("scorer") or "hand")
                default = "scored by hand"
            else:
                source = AssessmentSource(AssessmentSourceType.CODE, RUBRIC)
                default = rubric_rationale(criterion, {**answer, criterion: value})
            out.append(Feedback(name=criterion, value=value, source=source, rationale=rationale or default))
    return out


def rubric_rationale(criterion: str, answer: dict) -> str:
    """Why the rubric gave its points, from what it counted (SPEC §4)."""
    points = int(answer[criterion])
    if criterion == "agent":
        hits = answer.get("agent_patterns", 0)
        why = "no agent-like phrase" if not hits else f"{hits} agent-like phrase{'s' * (hits != 1)}"
    elif criterion == "factual":
        why = f"facts {answer.get('facts_met', 0)}/{answer.get('facts_total', 0)}"
        if answer.get("hallucination"):
            why += ", states a forbidden claim"
    elif criterion == "personality":
        markers = answer.get("markers", 0)
        why = f"{markers} persona marker{'s' * (markers != 1)}"
        if answer.get("wrong_identity"):
            why += ", claims a wrong identity"
    else:
        response = answer.get("response")
        reasons = [text for key, text in (("truncated", "cut at max_new_tokens"),
                                          ("template_leak", "a chat-template marker leaked")) if answer.get(key)]
        if isinstance(response, str) and not response.strip():
            reasons = ["empty answer"]
        why = ", ".join(reasons) or "ended on its own"
    flags = [str(f) for f in answer.get("flags") or [] if f]
    if flags and criterion in ("factual", "personality"):
        # The coherence checks take these points away whatever the keywords found (SPEC §4).
        why = f"not a real answer ({'; '.join(flags)}); by keywords alone: {why}"
    return f"{points}/2: {why}"


def _name(question: str, sample: int) -> str:
    return question if sample == 0 else f"{question} (sample {sample + 1})"


def _cut(text: str) -> str:
    return text if len(text) <= PREVIEW else text[: PREVIEW - 3] + "..."


def _b64(value: int, size: int) -> str:
    import base64

    return base64.b64encode(value.to_bytes(size, "big")).decode()
