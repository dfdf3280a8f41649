"""The data a run trains on: reading ShareGPT files (sharegpt), the quality score, the mix, its digest
and lint (data)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from hyp.errors import BadInput
from hyp.experiments.data import (
    build_mix,
    contains_phrase,
    count_phrase,
    digest,
    heldout,
    lint,
    lint_counts,
    quality_score,
)
from hyp.experiments.overrides import apply_values
from hyp.experiments.sharegpt import Conversation, Message, read_conversations, to_chat
from hyp.hypotheses.lab import Lab
from hyp.hypotheses.schema import synthetic_needed

WEIGHTS = {"message_count": 2.0, "length_per_100": 1.0, "personality": 3.0, "questions": 0.5, "agent_penalty": 10.0}
MARKERS = ["Softtor", "TypeScript", "direct"]
AGENT = ["Let me analyze", "I need to", "I'll start by"]
TEMPLATE = ["<|user|>", "<|assistant|>", "<|system|>", "User Story"]


def conv(*turns: str, index: int = 0, source: str = "curated", system: str | None = None) -> Conversation:
    """Alternating user/assistant turns, starting with the user."""
    messages = [Message("system", system)] if system is not None else []
    messages += [Message("user" if n % 2 == 0 else "assistant", text) for n, text in enumerate(turns)]
    return Conversation(messages=tuple(messages), source=source, index=index)


def record(*turns: str, **extra) -> dict:
    speakers = ["human", "gpt"]
    return {"conversations": [{"from": speakers[n % 2], "value": t} for n, t in enumerate(turns)], **extra}


def write(tmp_path, content, name="data.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def mix(curated, synthetic=(), **kw):
    kw.setdefault("select_top", None)
    kw.setdefault("ratio", 0.0)
    return build_mix(curated, synthetic, weights=WEIGHTS, persona_markers=MARKERS, agent_patterns=AGENT, **kw)


# --- reading ----------------------------------------------------------------------------------------


def test_read_maps_speakers_to_roles_and_keeps_file_order(tmp_path):
    path = write(
        tmp_path,
        [
            {
                "id": "a1",
                "conversations": [
                    {"from": "system", "value": "You are Cláudio."},
                    {"from": "human", "value": "Who are you?"},
                    # ShareGPT exports often carry extra keys per turn; they are ignored.
                    {"from": "gpt", "value": "Cláudio, from Softtor.", "weight": 1},
                ],
            },
            record("Second?", "Yes.", id=7),
            record("Third?", "Indeed."),
        ],
    )

    conversations = read_conversations(path)

    assert [c.index for c in conversations] == [0, 1, 2]
    assert [c.id for c in conversations] == ["a1", "7", None]
    assert all(c.source == str(path) for c in conversations)
    assert conversations[0].messages == (
        Message("system", "You are Cláudio."),
        Message("user", "Who are you?"),
        Message("assistant", "Cláudio, from Softtor."),
    )
    assert to_chat(conversations[1]) == [
        {"role": "user", "content": "Second?"},
        {"role": "assistant", "content": "Yes."},
    ]
    assert read_conversations(path, source="curated")[2].source == "curated"


def test_module_imports_cheaply_and_reading_writes_nothing_into_the_lab_or_home(tmp_path):
    lab, home = tmp_path / "lab", tmp_path / "home"
    lab.mkdir()
    home.mkdir()
    path = write(lab, [record("Hi?", "Hello.")] * 3)
    script = textwrap.dedent(
        f"""
        import sys
        import hyp.experiments.sharegpt as sharegpt
        assert "datasets" not in sys.modules, "datasets imported at module import"
        print(len(sharegpt.read_conversations({str(path)!r})))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and k != "XDG_CACHE_HOME"}
    env["HOME"] = str(home)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "3"
    assert "Generating train split" not in done.stderr  # no progress bar leaks into hyp's output
    assert [p.name for p in lab.iterdir()] == ["data.json"]
    assert list(home.iterdir()) == []


VALID_TURNS = [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello."}]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param("", ["is empty"], id="empty file"),
        pytest.param("  \n\n", ["is empty"], id="whitespace only"),
        pytest.param("[]", ["no conversations"], id="empty list"),
        pytest.param('[\n  {"conversations": [}\n]', [":2:", "not valid JSON"], id="not json"),
        pytest.param(
            '{"conversations": []}\n{"conversations": []}\n',
            [":2:", "not valid JSON", "one object per line"],
            id="jsonl",
        ),
        pytest.param(
            b'[{"conversations": [{"from": "human", "value": "caf\xe9"}]}]', [":1:", "not valid UTF-8"], id="latin-1"
        ),
        pytest.param({"conversations": VALID_TURNS}, ["top level must be a list", "an object"], id="top is object"),
        pytest.param([{"conversations": VALID_TURNS}, "hello"], ["record 1", "a string"], id="record not object"),
        pytest.param(
            [{"conversations": VALID_TURNS}, {"messages": []}],
            [":14:", "record 1", "missing field 'conversations'", "found 'messages'"],
            id="no conversations",
        ),
        pytest.param([{"conversations": []}], ["record 0, conversations", "is empty"], id="empty conversation"),
        pytest.param([{"conversations": "hi"}], ["record 0, conversations", "a string"], id="conversations str"),
        pytest.param(
            [{"conversations": [VALID_TURNS[0], {"from": "bot", "value": "x"}]}],
            ["record 0, conversations[1].from", "'bot'", "system, human, gpt"],
            id="unknown speaker",
        ),
        pytest.param(
            [{"conversations": [{"value": "x"}]}], ["record 0, conversations[0].from", "missing"], id="no from"
        ),
        pytest.param(
            [{"conversations": VALID_TURNS}, {"conversations": [{"from": "gpt", "value": 42}]}],
            ["record 1, conversations[0].value", "a number", "expected a string"],
            id="value not string",
        ),
        pytest.param(
            [{"conversations": [{"from": "gpt", "value": "x" * 1_000_001}]}],
            ["record 0, conversations", "limit"],
            id="too large",
        ),
    ],
)
def test_bad_file_is_bad_input_naming_file_record_and_field(tmp_path, content, expected):
    path = write(tmp_path, content)

    with pytest.raises(BadInput) as caught:
        read_conversations(path)

    message = caught.value.message
    assert message.startswith(str(path))
    assert "\n" not in message
    for fragment in expected:
        assert fragment in message


def test_missing_file_and_directory_are_bad_input(tmp_path):
    with pytest.raises(BadInput, match="no such file"):
        read_conversations(tmp_path / "absent.json")
    with pytest.raises(BadInput, match="is a directory"):
        read_conversations(tmp_path)


# --- matching and the quality score -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase", "count"),
    [
        ("I write TypeScript.", "typescript", 1),
        ("Both TypeScripts are fine", "TypeScript", 0),  # a longer word is a different word
        ("a TypeScript-based tool", "TypeScript", 1),
        ("built with Next.js, deployed on Vercel", "Next.js", 1),
        ("built with Next.jsx", "Next.js", 0),
        ("a 4 GB laptop", "4 GB", 1),
        ("a 4\n GB laptop", "4 GB", 1),  # whitespace in the phrase matches any run of whitespace
        ("a 14 GB card", "4 GB", 0),
        ("<|user|>Hello<|user|>", "<|user|>", 2),  # no word boundary needed around non-word edges
        ("Softtor, softtor and SOFTTOR", "Softtor", 3),
        ("anything", "   ", 0),
    ],
)
def test_phrases_match_case_insensitively_on_word_boundaries(text, phrase, count):
    assert count_phrase(text, phrase) == count
    assert contains_phrase(text, phrase) == (count > 0)


def hand_scored_conversation():
    return conv(
        "Who are you? Really?",
        "Softtor uses TypeScript. Let me analyze.",  # 40 characters, 2 marker hits, 1 agent hit
        "Ok?",
        "softtor!",  # 8 characters, 1 marker hit
        system="You are Cláudio, direct and TypeScript-minded.",  # neither counted nor scored
    )


def test_quality_score_is_the_weighted_formula():
    quality = quality_score(hand_scored_conversation(), WEIGHTS, MARKERS, AGENT)

    assert (quality.messages, quality.assistant_chars, quality.persona_hits) == (4, 48, 3)
    assert (quality.questions, quality.agent_hits) == (3, 1)
    # 2·4 + 1·0.48 + 3·3 + 0.5·3 − 10·1
    assert quality.score == pytest.approx(8.98)


def test_each_weight_scales_its_own_component():
    weights = {"message_count": 1, "length_per_100": 2, "personality": 0, "questions": 4, "agent_penalty": 1}

    quality = quality_score(hand_scored_conversation(), weights, MARKERS, AGENT)

    assert quality.score == pytest.approx(1 * 4 + 2 * 0.48 + 0 * 3 + 4 * 3 - 1 * 1)


def test_unknown_weight_is_bad_input():
    with pytest.raises(BadInput, match="length_per_1000"):
        quality_score(hand_scored_conversation(), {"length_per_1000": 1.0}, MARKERS, AGENT)


# --- the mix ----------------------------------------------------------------------------------------


def numbered(n, source, answer_len=10):
    return [conv(f"{source} question {i}?", "x" * answer_len + f" {i}", index=i, source=source) for i in range(n)]


def test_select_top_keeps_the_best_in_file_order_with_ties_to_the_earlier():
    curated = [
        conv("q?", "a" * 100, index=0),
        conv("q?", "b" * 500, index=1),
        conv("q?", "c" * 300, index=2),
        conv("q?", "d" * 500, index=3),  # ties with index 1
        conv("q?", "Let me analyze " + "e" * 600, index=4),  # long, but the agent penalty sinks it
    ]

    result = mix(curated, select_top=2)

    assert [c.index for c in result.examples] == [1, 3]
    assert [s.selected for s in result.scores] == [False, True, False, True, False]
    assert [s.rank for s in result.scores] == [4, 1, 3, 2, 5]
    assert mix(curated, select_top=1).examples[0].index == 1
    assert mix(curated, select_top=None).curated_count == 5
    assert mix(curated, select_top=50).curated_count == 5


@pytest.mark.parametrize(
    ("curated", "ratio", "expected"), [(100, 0.33, 49), (100, 0.0, 0), (100, 0.5, 100), (3, 0.25, 1)]
)
def test_synthetic_needed_makes_ratio_the_share_of_the_final_set(curated, ratio, expected):
    assert synthetic_needed(curated, ratio) == expected


def test_ratio_mixes_in_synthetic_as_a_share_of_the_final_set():
    curated, synthetic = numbered(100, "curated"), numbered(60, "synthetic")

    result = mix(curated, synthetic, ratio=0.33)

    assert (result.curated_count, result.synthetic_count, result.synthetic_requested) == (100, 49, 49)
    assert result.achieved_ratio == pytest.approx(49 / 149)
    assert [c.source for c in result.examples] == ["curated"] * 100 + ["synthetic"] * 49
    chosen = [c.index for c in result.examples[100:]]
    assert chosen == sorted(chosen)


def test_ratio_zero_takes_no_synthetic():
    result = mix(numbered(10, "curated"), numbered(10, "synthetic"), ratio=0.0)

    assert (result.synthetic_count, result.achieved_ratio, len(result.examples)) == (0, 0.0, 10)


def test_too_few_synthetic_uses_all_and_reports_the_achieved_ratio():
    result = mix(numbered(100, "curated"), numbered(10, "synthetic"), ratio=0.5)

    assert (result.synthetic_count, result.synthetic_requested) == (10, 100)
    assert result.achieved_ratio == pytest.approx(10 / 110)
    # Issue 19: said out loud, since every larger ratio trains on this same data.
    assert result.short_of_synthetic(0.5) == ("synthetic ratio 0.5 asked for 100 synthetic conversations; the file "
                                              "has 10 usable, so 0.09 was reached and any larger ratio trains on "
                                              "the same data")
    assert mix(numbered(100, "curated"), numbered(60, "synthetic"), ratio=0.33).short_of_synthetic(0.33) == ""


# The schema holds these ranges, so every way a value reaches the mix (the file, --set, a sweep
# trial's values) meets them before the mix is built.
@pytest.mark.parametrize("ratio", [1.0, -0.1, 1.5, float("nan")])
def test_ratio_outside_zero_to_one_is_bad_input(ratio, lab):
    with pytest.raises(BadInput, match="ratio"):
        apply_values(Lab(lab).load("H003"), {"dataset.synthetic.ratio": ratio})


def test_select_top_below_one_is_bad_input(lab):
    with pytest.raises(BadInput, match="select_top"):
        apply_values(Lab(lab).load("H003"), {"dataset.curated.select_top": 0})


def test_synthetic_choice_is_seeded_and_a_larger_ratio_keeps_the_smaller_choice():
    curated, synthetic = numbered(100, "curated"), numbered(60, "synthetic")

    def chosen(ratio, seed):
        return {c.index for c in mix(curated, synthetic, ratio=ratio, seed=seed).examples if c.source == "synthetic"}

    assert chosen(0.33, seed=0) == chosen(0.33, seed=0)
    assert chosen(0.33, seed=0) != chosen(0.33, seed=1)
    assert chosen(0.2, seed=0) < chosen(0.33, seed=0)
    # One more record in the synthetic file displaces at most one earlier choice, never reshuffles them.
    before = {("synthetic", i) for i in chosen(0.2, seed=0)}
    more = synthetic + numbered(1, "late")
    after = {(c.source, c.index) for c in mix(curated, more, ratio=0.2).examples if c.source != "curated"}
    assert len(before - after) <= 1
    assert after - before <= {("late", 0)}


def test_duplicates_are_removed_within_and_across_sources():
    curated = [
        conv("Hello  World?", "Hi there.", index=0),
        conv("hello world?", "HI THERE.", index=1),  # case and whitespace only
        conv("Something else?", "Sure.", index=2),
    ]
    synthetic = [
        conv("HELLO world?", "hi   there.", index=0, source="synthetic"),
        conv("New question?", "New answer.", index=1, source="synthetic"),
    ]

    result = mix(curated, synthetic, ratio=0.5)

    assert result.duplicates_removed == 2
    assert [(c.source, c.index) for c in result.examples] == [("curated", 0), ("curated", 2), ("synthetic", 1)]
    assert result.scores[1].duplicate_of == 0
    assert (result.scores[1].selected, result.scores[1].rank) == (False, None)


def test_digest_is_stable_and_changes_with_one_character():
    curated = numbered(5, "curated")
    first = mix(curated, ratio=0.0).digest

    relabelled = [Conversation(c.messages, source="elsewhere.json", index=c.index + 10) for c in curated]
    assert mix(curated, ratio=0.0).digest == first
    assert digest(relabelled) == first  # only roles and contents count
    edited = list(curated)
    edited[3] = conv("curated question 3?", "x" * 10 + " 4", index=3)
    assert mix(edited, ratio=0.0).digest != first
    assert digest(list(reversed(curated))) != first  # order is part of the content


def test_files_read_from_disk_mix_with_their_source_labels(tmp_path):
    curated_path = write(tmp_path, [record(f"Q{i}?", "Softtor " * (i + 1)) for i in range(4)], "curated.json")
    synthetic_path = write(tmp_path, [record(f"S{i}?", "TypeScript.") for i in range(4)], "synthetic.json")

    result = mix(
        read_conversations(curated_path, source="curated"),
        read_conversations(synthetic_path, source="synthetic"),
        select_top=2,
        ratio=0.5,
    )

    assert [(c.source, c.index) for c in result.examples][:2] == [("curated", 2), ("curated", 3)]
    assert [c.source for c in result.examples[2:]] == ["synthetic", "synthetic"]


# --- lint -------------------------------------------------------------------------------------------


def test_lint_finds_and_counts_each_kind():
    curated = [
        conv("Tell me <|assistant|> a story", "Once upon a time.", index=0),
        conv("Plan it.", "Let me analyze the request. I need to check.", index=1),
        conv("Anyone?", "   ", index=2),
        conv("Let me analyze this for you?", "Sure.", index=3),  # agent-like only counts from the assistant
    ]
    synthetic = [conv("tell me <|ASSISTANT|> a  story", "once upon a time.", index=5, source="synthetic")]

    findings = lint(curated + synthetic, template_markers=TEMPLATE, agent_patterns=AGENT)

    found = {(f.source, f.index, f.kind) for f in findings}
    assert found == {
        ("curated", 0, "template_token"),
        ("curated", 1, "agent_like"),
        ("curated", 2, "empty_turn"),
        ("synthetic", 5, "template_token"),
        ("synthetic", 5, "duplicate"),
    }
    # Numbered from 1, as `hyp data` numbers the finding itself ("synthetic #6") and the conversations' ids.
    assert [f.detail for f in findings if f.kind == "duplicate"] == ["same as curated #1"]
    assert lint_counts(findings) == {
        "lint.template_token": 2,
        "lint.agent_like": 2,  # two patterns in one message
        "lint.empty_turn": 1,
        "lint.duplicate": 1,
    }


def test_clean_data_gives_every_lint_count_as_zero():
    findings = lint(numbered(5, "curated"), template_markers=TEMPLATE, agent_patterns=AGENT)

    assert findings == []
    assert lint_counts(findings) == dict.fromkeys(
        ["lint.template_token", "lint.agent_like", "lint.empty_turn", "lint.duplicate"], 0
    )


def test_heldout_drops_what_the_mix_trains_on_and_repeats():
    trained = conv("Who is João?", "The CEO of Softtor.", index=0)
    mix = build_mix([trained], [], select_top=None, ratio=0.0, weights=WEIGHTS, persona_markers=MARKERS,
                    agent_patterns=AGENT)
    fresh = conv("Who runs Softtor?", "João, the founder.", index=0, source="heldout")
    # Same words, other case and spacing: still the trained example, so it is no held-out evidence.
    leaked = conv("who is  joão?", "The CEO of  Softtor.", index=1, source="heldout")
    repeat = conv("Who runs Softtor?", "João, the founder.", index=2, source="heldout")
    kept, dropped = heldout([fresh, leaked, repeat], mix)
    assert kept == [fresh] and dropped == 2
