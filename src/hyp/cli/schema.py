import click


@click.command("schema")
@click.option("--suite", is_flag=True, help="The schema of evaluation suites instead.")
def command(suite):
    """Print the JSON Schema of hypothesis files, for editors."""
    from hyp.cli.console import print_json
    from hyp.hypotheses.schema import EvalSuite, Hypothesis

    model = EvalSuite if suite else Hypothesis
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "hyp evaluation suite" if suite else "hyp hypothesis"
    print_json(schema)
