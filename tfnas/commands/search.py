"""`tfnas search` (also plain `tfnas key=value ...`, `python -m tfnas` and the clone's `search.py`): one Hydra app.

`tfnas space=rnn strategy=evolution metric=hidden_cov` runs a search; `-m` sweeps (Hydra multirun).
Errors a user can act on -- tfnas's own, Hydra's config errors, a run directory that cannot be
created or written, an override too long to be one -- end the command with one line on stderr and
exit status 2, never a traceback (set HYDRA_FULL_ERROR=1 to see Hydra's tracebacks). A search
stopped by Ctrl-C writes its summary and exits with status 130, as shells expect.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from tfnas.config import CONFIG_NAME, CONFIG_PATH, search_path_override
from tfnas.errors import TfnasError
from tfnas.help import HELP_FLAGS
from tfnas.help import register as register_help

_in_task = False  # set once Hydra hands over: an OSError before that is Hydra's (the run directory)
MAX_OVERRIDE_CHARS = 10_000  # longer than any value a search takes (a rule has at most 2,000 characters)


@hydra.main(config_path=CONFIG_PATH, config_name=CONFIG_NAME, version_base="1.3")
def _search(cfg: DictConfig) -> float | None:
    global _in_task
    _in_task = True
    from tfnas.app import run
    from tfnas.redacted_output import redact_hydra_files, redacted_output
    from tfnas.search_loop import INTERRUPTED

    output_dir = Path(HydraConfig.get().runtime.output_dir)
    with redacted_output(cfg):  # also in a launcher's job process, which never passed through tfnas.cli
        redact_hydra_files(output_dir)
        try:
            summary = run(cfg, output_dir)
        except TfnasError as err:
            print(f"tfnas: error: {err}", file=sys.stderr)
            sys.exit(2)
    if summary.get("stopped_early") == INTERRUPTED:
        sys.exit(130)  # the summary and results are written; the shell learns the run was interrupted
    best = summary.get("best")
    return None if best is None else best["score"]


def main(argv=None) -> None:
    """The Hydra app with plug-in configs on its search path; `argv` are its overrides and flags (Hydra reads sys.argv)."""
    global _in_task
    _in_task = False  # a process may run the app more than once (tests, tfnas.experiments)
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    register_help(asked=any(arg in HELP_FLAGS for arg in sys.argv[1:]))  # ${tfnas_help:...} in conf/hydra/help/
    from tfnas.redacted_output import redact_log_records

    redact_log_records()
    check_override_lengths(sys.argv[1:])
    sys.argv += search_path_override(sys.argv[1:])
    if os.environ.get("HYDRA_FULL_ERROR"):
        _search()
        return
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let Hydra's errors reach us, to print them as one line
    try:
        _search()
    except (HydraException, OmegaConfBaseException) as err:  # before OSError: MissingConfigException is both
        if _in_task:
            raise
        print(f"tfnas: error: {hydra_message(err)}", file=sys.stderr)
        sys.exit(2)
    except (OSError, ValueError) as err:  # ValueError: logging could not open the run directory's search.log
        cause = os_error_in(err)
        if _in_task or cause is None or isinstance(cause, BrokenPipeError):  # a closed pipe is no run directory's fault
            raise
        where = cause.filename or "the run directory"
        print(f"tfnas: error: hydra.run.dir: cannot create or write {where}: {cause.strerror or cause}; "
              "choose a writable directory (hydra.run.dir=PATH, hydra.sweep.dir=PATH with -m)", file=sys.stderr)
        sys.exit(2)


def os_error_in(err: BaseException) -> OSError | None:
    """The OSError behind `err` (itself, or the cause logging.config wraps in its ValueError), if any."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, OSError):
            return err
        err, seen = err.__cause__ or err.__context__, seen + 1
    return None


def check_override_lengths(overrides) -> None:
    """Refuse an override longer than MAX_OVERRIDE_CHARS before Hydra parses it (one line, exit 2)."""
    for override in overrides:
        if len(override) > MAX_OVERRIDE_CHARS:
            key = override.split("=", 1)[0][:80]
            print(f"tfnas: error: {key}: the override is {len(override):,} characters long; at most "
                  f"{MAX_OVERRIDE_CHARS:,} are allowed (put long values in a file: a rule, a corpus, labels)", file=sys.stderr)
            sys.exit(2)


def hydra_message(err: Exception) -> str:
    """Hydra's message without its config search path, plus the first line of its cause."""
    text = str(err).split("\nConfig search path:")[0].strip() or type(err).__name__
    cause = err.__cause__
    if cause is not None and str(cause).strip():
        text += f" ({str(cause).strip().splitlines()[0]})"
    return text
