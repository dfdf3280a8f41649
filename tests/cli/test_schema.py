"""`hyp schema`: the JSON Schema editors use to validate and complete hypothesis files."""

from conftest import run_hyp


def resolve(schema, node):
    ref = node.get("$ref")
    return schema["$defs"][ref.rsplit("/", 1)[1]] if ref else node


def test_the_schema_requires_what_the_spec_requires_and_forbids_unknown_keys():
    r = run_hyp("schema")
    assert r.code == 0
    schema = r.json
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"id", "title", "statement", "experiment", "success_criteria"} <= set(schema["required"])
    assert schema["properties"]["id"]["pattern"] == "^H[0-9]{3,}$"
    assert schema["additionalProperties"] is False
    experiment = resolve(schema, schema["properties"]["experiment"])
    training = resolve(schema, experiment["properties"]["training"])
    assert training["additionalProperties"] is False  # `learning_rat` is an error in the editor too
    assert "learning_rate" in training["properties"]
    criteria = resolve(schema, schema["properties"]["success_criteria"])
    assert criteria["required"] == ["primary"]
    condition = resolve(schema, criteria["properties"]["primary"])
    assert condition["properties"]["op"]["enum"] == [">=", "<=", ">", "<", "==", "between"]


def test_the_suite_schema_describes_evaluation_suites():
    r = run_hyp("schema", "--suite")
    assert r.code == 0
    assert {"name", "persona", "questions"} <= set(r.json["required"])
    assert "agent_patterns" in r.json["properties"]
