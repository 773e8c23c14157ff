"""Where the redactor (tfnas.redaction) is applied: every way text leaves a tfnas process.

* `redacted_output()`: stdout and stderr pass each write through the redactor (console lines,
  progress bars, warnings, a traceback printed by Python or by tfnas), log records are redacted
  as they are made (`redact_log_records`), and so are uncaught exceptions in threads;
* `redact_hydra_files()`: the copies of the config Hydra wrote before the app started;
* summary.json, report.md and W&B's config, summary and command line are redacted where they are
  built (tfnas.summary, tfnas.tracking.wandb_tracker), and W&B's debug.log is one of the log
  files the record redaction covers.

A record is redacted when it is made, not by a handler's filter: Hydra installs its own handlers
when the app starts (a filter on them would be dropped), and wandb's debug.log handler sits on a
logger that does not propagate to the root; the record factory is process-wide and sees them all.
"""
from __future__ import annotations

import logging
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from tfnas.redaction import learn_secrets, redact, redact_text


class RedactingStream:
    """A text stream that redacts every write and forwards everything else (isatty, fileno, flush) unchanged."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact_text(text) if isinstance(text, str) else text)
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    @property
    def wrapped(self):
        return self._stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def redact_log_records() -> None:
    """Redact the message (and the formatted traceback) of every log record made in this process,
    whatever its logger and handlers: tfnas's, Hydra's job logger and its search.log, wandb's debug.log."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_tfnas_redacts", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's to report, as it would without us
            return record
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact_text(text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return record

    factory._tfnas_redacts = True
    logging.setLogRecordFactory(factory)


def _redacting_thread_hook(previous):
    def hook(args) -> None:
        import traceback

        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        print(f"Exception in thread {name}:\n{redact_text(text)}", file=sys.stderr, end="", flush=True)

    hook._tfnas_redacts = True
    hook._previous = previous
    return hook


@contextmanager
def redacted_output(config: Any = None) -> Iterator[None]:
    """For the block: learn the secrets of `config` (a dict or DictConfig, if given), redact stdout, stderr,
    log records and threads' uncaught exceptions. The streams and the thread hook are restored afterwards."""
    streams, hook = (sys.stdout, sys.stderr), threading.excepthook
    redact_process_output(config)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = streams
        threading.excepthook = hook


def redact_process_output(config: Any = None) -> None:
    """`redacted_output` for the rest of this process's life: a worker process spawned by the search, whose
    prints, log records and traceback (multiprocessing prints it on the worker's own stderr) leave it directly."""
    if config is not None:
        learn_config_secrets(config)
    redact_log_records()
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)
    if not getattr(threading.excepthook, "_tfnas_redacts", False):
        threading.excepthook = _redacting_thread_hook(threading.excepthook)


def learn_config_secrets(config: Any) -> None:
    """Remember the secrets of a config (plain or OmegaConf), so that no later text can show them."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf

        if isinstance(config, (DictConfig, ListConfig)):
            config = OmegaConf.to_container(config, resolve=False)
    except ImportError:  # pragma: no cover - omegaconf is a dependency
        pass
    learn_secrets(config)


# -- Hydra's copies of the config ---------------------------------------------------------------------
def redact_yaml_file(path: Path) -> None:
    """Rewrite a YAML file (Hydra's config.yaml, hydra.yaml, overrides.yaml) with its secrets masked;
    interpolations are kept as written. It is written as plain YAML, not through OmegaConf: a secret that
    also appears inside an interpolation (a password `tfnas` in `${tfnas_help:space}`) leaves a string
    OmegaConf would refuse to parse, and the record must still be written."""
    import yaml
    from omegaconf import OmegaConf

    path = Path(path)
    if not path.is_file():
        return
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    learn_secrets(data)
    clean = redact(data)
    if clean != data:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(yaml.safe_dump(clean, sort_keys=False, allow_unicode=True), encoding="utf-8")
        tmp.replace(path)


def redact_hydra_files(output_dir: Path) -> None:
    """Mask secrets in the files Hydra wrote before the app started: the run's .hydra/*.yaml and,
    in a multirun, the sweep directory's multirun.yaml."""
    for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
        redact_yaml_file(Path(output_dir) / ".hydra" / name)
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        redact_yaml_file(Path(HydraConfig.get().sweep.dir) / "multirun.yaml")
