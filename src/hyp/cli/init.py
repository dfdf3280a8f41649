import click


@click.command("init")
@click.argument("directory", type=click.Path())
@click.option("--example", default=None, help="Copy a shipped example lab (persona).")
def command(directory, example):
    """Create a lab in DIRECTORY."""
    from hyp.cli.console import out
    from hyp.hypotheses.scaffold import init_lab

    path = init_lab(directory, example)
    out().print(f"Created lab in [bold]{path}[/]. Next: cd {path} && hyp list")
