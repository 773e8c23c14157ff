"""How every `tfnas` subcommand ends: errors a user can act on become one line and exit status 2.

A command's `main(argv)` raises `TfnasError` (ConfigError names the option) for bad input; this turns
it into ``tfnas <command>: error: <field>: <message>`` on stderr, never a traceback. Ctrl-C ends with
status 130 and one line; what a script streamed to its output files before that is already on disk.
Everything the command prints, logs or raises passes through the redactor (tfnas.redacted_output): an
unexpected error still prints its traceback (exit status 1, as Python's own), with every secret masked.
"""
from __future__ import annotations

import os
import select
import sys
import traceback
from pathlib import Path
from typing import Callable, NoReturn, Sequence

from tfnas.errors import TfnasError


def json_object(text: str, flag: str, example: str = '{"batch_size": 16}') -> dict:
    """A command's JSON flag (--space-json, ...) as a dict; bad JSON or another type is one error naming the flag."""
    import json

    from tfnas.errors import ConfigError

    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(flag, f"not JSON ({err.msg}); e.g. '{example}'") from None
    if not isinstance(value, dict):
        raise ConfigError(flag, f"must be a JSON object, e.g. '{example}', got {text!r}")
    return value


def stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reader has closed it (a BrokenPipeError may come from any other pipe or socket)."""
    try:
        poller = select.poll()
        poller.register(sys.__stdout__.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), no real stdout (an embedding program)
        return False


def run_script(main: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None = None,
               prog: str | None = None) -> NoReturn:
    """Call `main(argv)` and exit: its int return value (0 for anything else), 2 on a TfnasError.
    `prog` names the command in the error line (default: the program's file name)."""
    from tfnas.redacted_output import redacted_output
    from tfnas.redaction import redact_text

    prog = prog or Path(sys.argv[0]).stem or "tfnas"
    with redacted_output(list(sys.argv[1:] if argv is None else argv)):
        try:
            result = main(argv)
        except TfnasError as err:
            print(f"{prog}: error: {err}", file=sys.stderr)
            sys.exit(2)
        except KeyboardInterrupt:
            print(f"{prog}: interrupted", file=sys.stderr)
            sys.exit(130)
        except Exception as err:
            if isinstance(err, BrokenPipeError) and stdout_reader_gone():  # `tfnas ... | head`: no error of the command's
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())  # the exit's flush has nowhere to fail
                sys.exit(141)  # 128 + SIGPIPE, as a shell reports a command that a closed pipe stopped
            # a bug, not bad input: the traceback, as Python prints it, with its secrets masked
            print(redact_text(traceback.format_exc()), file=sys.stderr, end="", flush=True)
            sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
