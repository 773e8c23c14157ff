"""The `tfnas` command (also `python -m tfnas` and the clone's `search.py`).

`tfnas SUBCOMMAND ...` runs one of `tfnas.commands.COMMANDS`; anything else (`tfnas space=rnn
strategy=evolution`, `tfnas -m seed=0,1,2`) is the search app, as `tfnas search ...` is. Errors a
user can act on end with one line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import importlib
import sys
from typing import Sequence

from tfnas.commands import COMMANDS

USAGE = "usage: tfnas [SUBCOMMAND] [ARGS ...]   (no subcommand: a search, `tfnas key=value ...`)"


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [USAGE, "", "Training-free neural architecture search for language models.", "", "subcommands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "`tfnas SUBCOMMAND --help` describes one; `tfnas search --help` lists the search's config groups,",
              "options and metrics."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Dispatch to a subcommand, or run the search app."""
    from tfnas.experiments.script import run_script

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help") and len(argv) == 1:
        run_script(lambda _: print(usage()), [], prog="tfnas")  # `tfnas --help | head` ends quietly (status 141)
    name = argv[0] if argv and argv[0] in COMMANDS else "search"
    rest = argv[1:] if argv and argv[0] == name else argv
    module = importlib.import_module(COMMANDS[name][0])
    run_script(module.main, rest, prog=f"tfnas {name}")
