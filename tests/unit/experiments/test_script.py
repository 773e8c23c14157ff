"""Every `tfnas` subcommand ends through tfnas.experiments.script.run_script: bad input is one line and exit 2."""
import importlib

import pytest

from tfnas.cli import main as tfnas
from tfnas.commands import COMMANDS
from tfnas.errors import ConfigError
from tfnas.experiments.script import run_script


def test_a_tfnas_error_is_one_line_on_stderr_and_exit_2(capsys):
    def main(argv):
        raise ConfigError("--budgets", "must be increasing")

    with pytest.raises(SystemExit) as exit_info:
        run_script(main, [], prog="tfnas some-command")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == "tfnas some-command: error: --budgets: must be increasing\n"


def test_main_return_value_is_the_exit_status():
    for returned, status in [(None, 0), (0, 0), (3, 3), ({"tau": 0.1}, 0)]:
        with pytest.raises(SystemExit) as exit_info:
            run_script(lambda argv, r=returned: r, [])
        assert exit_info.value.code == status


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_a_main_taking_argv(name):
    module = importlib.import_module(COMMANDS[name][0])
    assert callable(module.main)
    assert module.main.__code__.co_varnames[:1] == ("argv",), f"{name}: main(argv=None)"


def test_an_unknown_metric_in_bench_exits_2_naming_the_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        tfnas(["bench", "--metrics", "no_such_metric"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("tfnas bench: error:") and "--metrics" in err and "no_such_metric" in err and "Traceback" not in err


def test_reproduce_needs_a_space(capsys):
    with pytest.raises(SystemExit) as exit_info:
        tfnas(["reproduce", "--limit", "3"])
    assert exit_info.value.code == 2 and "rnn or bert" in capsys.readouterr().err


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        tfnas(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in COMMANDS)


def test_a_closed_stdout_ends_quietly_with_141_and_any_other_broken_pipe_is_an_error(capsys):
    """`tfnas ... | head`: the reader is gone, so the command stops with 128 + SIGPIPE and no traceback. A
    BrokenPipeError from another pipe (a worker's, a socket) is a real error: its traceback and status 1."""
    import subprocess
    import sys

    child = subprocess.Popen(
        [sys.executable, "-c", "from tfnas.experiments.script import run_script\n"
                               "run_script(lambda argv: [print('line', i) for i in range(10**6)], [])"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.read(100)  # the child fills the pipe and blocks, so closing it breaks its next write
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141 and err == ""

    def main(argv):
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(SystemExit) as exit_info:
        run_script(main, [])
    assert exit_info.value.code == 1 and "BrokenPipeError" in capsys.readouterr().err
