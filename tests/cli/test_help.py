"""`hyp --help` and every subcommand's `--help`, click style."""

import pytest
from click.testing import CliRunner

from conftest import run_hyp
from hyp.cli.main import COMMANDS, cli


def test_top_level_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    for name in COMMANDS:
        assert name in result.output


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {name}" in result.output or f"Usage: hyp {name}" in result.output
    assert "--help" in result.output


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["record", "--help"], ["--version"]])
def test_help_through_the_entry_point_exits_0(args):
    r = run_hyp(*args)
    assert r.code == 0, r
    assert r.out


@pytest.mark.parametrize("args", [["frobnicate"], ["verdict"], ["list", "--no-such-flag"]])
def test_usage_errors_exit_2(args, lab):
    r = run_hyp(*args, lab=lab)
    assert r.code == 2
    assert "Usage" in r.err or "Error" in r.err
