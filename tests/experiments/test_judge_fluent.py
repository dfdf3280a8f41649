"""Issue 14, row 4 of its table: fluent, correct answers in other words. The keyword rubric cannot give
them factual points offline (5.0, the agent and complete points only); a judge reading the answers can,
and its scores come first, criterion by criterion (SPEC §4 precedence), so they score higher than the
keyword rubric gave them (5.2 in the issue's table)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from coherence_cases import TUNING
from test_coherence import SUITE, keyword_score, scored
from test_judge import Judge

from hyp.experiments.judge import apply_judgements, judge_answers
from hyp.experiments.rubric import evaluation_metrics

FLUENT = TUNING["fluent in other words"][1]
# What a person reading them gives these answers: every fact, said in other words (factual 2); the
# persona's tone without its marker words (personality 1); no agent phrasing; complete.
READ = {"agent": 2, "factual": 2, "personality": 1, "complete": 2}


def test_a_judge_gives_fluent_answers_in_other_words_the_points_the_keyword_rubric_cannot(tmp_path: Path):
    offline = scored(FLUENT)
    assert evaluation_metrics(offline)["score"] == keyword_score(FLUENT) == 5.0
    assert all(s.flags == () for s in offline)  # honest answers: nothing for the coherence checks

    with Judge() as judge:
        # A model judging meaning, not words: it grades each criterion as the person above did.
        def reads(body: dict) -> str:
            criterion = re.match(r"Criterion: (\w+)", body["messages"][-1]["content"]).group(1)
            return json.dumps({"score": READ.get(criterion, 2), "rationale": "said in other words"})

        judge.reply = reads
        items = [(SUITE.question(q), text) for q, text in FLUENT.items()]
        result = judge_answers(judge.settings(), items, SUITE, tmp_path / "cache")
        assert result.warnings == [] and result.requests == 8 * 4

    merged, sources = apply_judgements(offline, result.scores)
    metrics = evaluation_metrics(merged)
    assert metrics["score"] == 8.75  # 7 of 8 points an answer
    assert metrics["score"] > 5.2 > evaluation_metrics(offline)["score"]
    assert all(s == {"agent": "judge", "factual": "judge", "personality": "judge", "complete": "judge"}
               for s in sources)
