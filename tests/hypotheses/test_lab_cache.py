"""The parse cache (.hyp/parsed.json) is a shortcut, never a source: what it holds must be what the file says."""

from __future__ import annotations

import json

from conftest import H003_YAML, make_lab, run_hyp


def test_a_hand_edited_parse_cache_is_not_trusted(tmp_path):
    """Issue 17, audit: the cached `data` changed (title FORGED, the goal 1.0) with its `stat` kept showed
    FORGED and AMENDED-AFTER-RESULTS though the file was untouched."""
    lab = make_lab(tmp_path / "lab", {"H003": H003_YAML})
    assert run_hyp("record", "H003", "--metric", "score=8", lab=lab).code == 0
    assert run_hyp("list", lab=lab).code == 0  # writes the cache
    cache = lab / ".hyp" / "parsed.json"
    data = json.loads(cache.read_text())
    entry = data["H003"]
    entry["data"]["title"] = "FORGED"
    entry["data"]["success_criteria"]["primary"]["value"] = 1.0
    cache.write_text(json.dumps(data))

    listed = run_hyp("list", "--json", lab=lab)
    assert listed.code == 0, listed.err
    (row,) = listed.json
    assert row["title"] == "Hybrid curated + synthetic data reaches 9/10"
    assert row["status"] == "REJECTED" and row["lock"] != "amended-after-results"
    verdict = run_hyp("verdict", "H003", lab=lab)
    assert "FORGED" not in verdict.out and "AMENDED" not in verdict.out
    assert "REJECTED" in verdict.out
    # read again from the file, the cache holds the file's data once more
    assert json.loads(cache.read_text())["H003"]["data"]["title"] != "FORGED"


def test_a_cache_entry_without_its_digest_is_read_from_the_file(tmp_path):
    """An entry of an older cache (no digest) is re-read, never served."""
    lab = make_lab(tmp_path / "lab", {"H003": H003_YAML})
    (lab / ".hyp").mkdir()
    assert run_hyp("list", lab=lab).code == 0
    cache = lab / ".hyp" / "parsed.json"
    data = json.loads(cache.read_text())
    data["H003"].pop("digest")
    data["H003"]["data"]["title"] = "OLD"
    cache.write_text(json.dumps(data))
    assert run_hyp("list", "--json", lab=lab).json[0]["title"] != "OLD"
