import click


@click.command("ui")
@click.option("--port", type=int, default=5000, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the store to the network.")
@click.pass_context
def command(ctx, port, host):
    """The MLflow UI for this lab's runs (Ctrl-C stops it)."""
    from hyp.cli.console import lab_from
    from hyp.store.server import serve

    # click.echo, not rich: the address must stay on one line, and reach a pipe at once.
    code = serve(lab_from(ctx), host, port, echo=click.echo)
    ctx.exit(code)
