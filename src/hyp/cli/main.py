"""The `hyp` command: a click group whose subcommands load only when called.

Errors from the domain are exceptions of one tree (hyp.errors), mapped to exit codes here only.
"""

from __future__ import annotations

import errno
import importlib
import os
import signal
import sys

import click

# Pydantic looks for plugins through every installed package's entry points on its first model
# (~20 ms of a 0.2 s `hyp list`); hyp uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# name -> (module under hyp.cli, one-line help). The module is imported only when the command runs.
COMMANDS = {
    "init": ("init", "Create a lab (optionally from the shipped persona example)."),
    "new": ("new", "Write a new hypothesis file from a template, a parent's option or a sweep trial."),
    "list": ("listing", "Table of hypotheses with status and latest score."),
    "show": ("show", "One hypothesis in full, with its verdict."),
    "validate": ("validate", "Check hypothesis files; every error names file:line and the field."),
    "run": ("run", "Build the data, train, evaluate, log to MLflow, judge and write the report."),
    "sweep": ("sweep", "Optuna search under the VRAM limit, each trial an MLflow child run."),
    "estimate": ("estimate", "Predicted peak VRAM for the configuration, from the model's config alone."),
    "data": ("data", "The dataset mix a run would train on, with quality scores and lint findings."),
    "record": ("record", "Log results produced elsewhere (hand scores, answers, historical numbers)."),
    "verdict": ("verdict", "Recompute and print the verdict."),
    "report": ("report", "Write the Markdown report for a hypothesis."),
    "compare": ("compare", "Params and metrics of hypotheses side by side; differences only unless --all."),
    "ui": ("ui", "The MLflow UI for this lab's store, on 127.0.0.1."),
    "score": ("score", "Score the latest answers by hand in the terminal, criterion by criterion."),
    "amend": ("amend", "Record a change to pre-registered parts after results exist."),
    "schema": ("schema", "Print the JSON Schema of hypothesis files."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"hyp.cli.{COMMANDS[name][0]}")
        return module.command

    def format_commands(self, ctx, formatter):
        # Help text comes from the table above, so `hyp --help` imports no command module.
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--lab", "lab_dir", type=click.Path(file_okay=False), default=None,
              help="The lab directory (default: found by walking up to hyp.toml).")
@click.version_option(package_name="hyp")
@click.pass_context
def cli(ctx, lab_dir):
    """hyp: hypotheses, fine-tuning runs and honest verdicts, tracked in MLflow."""
    ctx.obj = {"lab_dir": lab_dir}


# errno -> what it means, for an OSError raised writing a file: the user's to fix, not hyp's bug.
_CANNOT_WRITE = {errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
                 errno.EPERM: "operation not permitted", errno.ENOSPC: "no space left on the device",
                 errno.EDQUOT: "disk quota exceeded"}


def _terminate(signum, frame):
    # SIGTERM ends runs the same way Ctrl-C does: KILLED, not left RUNNING.
    raise KeyboardInterrupt


def main(argv=None) -> None:
    from hyp import errors
    from hyp.errors import HypError

    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = cli.main(args=argv, prog_name="hyp", standalone_mode=False)
    except HypError as e:
        from hyp.cli.console import error

        error(e.message)
        code = e.exit_code
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        code = errors.INTERRUPTED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = errors.INTERRUPTED
    except click.ClickException as e:
        e.show()
        code = errors.BAD_INPUT if isinstance(e, click.UsageError) else e.exit_code
    except click.exceptions.Exit as e:
        code = e.exit_code
    except Exception as e:
        import traceback

        if isinstance(e, OSError) and e.errno == errno.ENAMETOOLONG:
            # A path someone typed (`hyp init`, `--lab`) longer than the file system takes: input, not a bug.
            name = str(e.filename or "")
            click.echo(f"error: {name[:60]}{'...' if len(name) > 60 else ''}: the file name is too long", err=True)
            sys.exit(errors.BAD_INPUT)

        if isinstance(e, OSError) and e.errno in _CANNOT_WRITE:
            # A read-only checkout, a folder one may not write, a full disk: the place to fix is named,
            # and (files.write_atomic writes whole or not at all) nothing there was changed.
            name = os.fsdecode(e.filename) if e.filename is not None else "a file"
            click.echo(f"error: {name}: cannot be written: {e.strerror or _CANNOT_WRITE[e.errno]}", err=True)
            sys.exit(errors.BAD_INPUT)

        if type(e).__name__ == "OutOfMemoryError" and type(e).__module__.startswith("torch"):
            # The configuration does not fit this GPU: a setting to change, not a bug to report.
            click.echo("error: out of GPU memory: lower experiment.training.batch_size or max_seq_length "
                       "(`hyp estimate` predicts the peak); the run is marked FAILED", err=True)
            sys.exit(errors.BAD_INPUT)

        if os.environ.get("HYP_DEBUG"):
            traceback.print_exc()
        click.echo(f"error: internal error: {type(e).__name__}: {e} (HYP_DEBUG=1 shows the traceback)", err=True)
        code = errors.INTERNAL_ERROR
    sys.exit(code if isinstance(code, int) else errors.SUCCESS)
