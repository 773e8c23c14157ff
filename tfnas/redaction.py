"""One redaction routine for every copy of a run's config that is written or logged.

summary.json, report.md, the W&B run (config, Hydra overrides, command line, artifacts, its
logs) and Hydra's own .hydra/*.yaml all pass through `redact`, so a password given on the
command line (`search.storage=postgresql+psycopg://alice:PASSWORD@host/db`) or under a secret-
looking key (`password`, `token`, `secret`, `api_key`, ...) never reaches a file that
`wandb sync` uploads or a colleague reads.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

MASK = "***"
# keys whose values are secrets: password, passwd, pass, token, secret, api_key / apikey, credential(s), private_key
SECRET_KEY = re.compile(r"(^|[._\-])(pass(word|wd)?|token|secret|api[_\-]?key|credentials?|private[_\-]?key)($|[._\-])", re.I)
# scheme://user:PASSWORD@host, also as Hydra escapes it in a multirun job's overrides: scheme\://user\:PASSWORD@host
URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*\\?://[^\s:/@\\]*\\?:)(?P<password>[^\s@/]+)@")
# key=value and key: value, for override lists and log lines
KEY_VALUE = re.compile(r"(?P<key>[A-Za-z0-9_.\-+~]+)(?P<sep>\s*[=:]\s*)(?P<value>[^\s,}\]]+)")


def is_secret_key(key: Any) -> bool:
    return isinstance(key, str) and bool(SECRET_KEY.search(key))


def redact_text(text: str) -> str:
    """`text` with URL passwords and the values of secret-named `key=value` / `key: value` pairs masked."""
    text = URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}@", text)

    def pair(m: re.Match) -> str:
        if is_secret_key(m.group("key")) and m.group("value") != MASK:
            return f"{m.group('key')}{m.group('sep')}{MASK}"
        return m.group(0)

    return KEY_VALUE.sub(pair, text)


def redact(value: Any) -> Any:
    """A copy of a config (dicts, lists, strings, scalars) with every secret masked."""
    if isinstance(value, dict):
        return {k: (MASK if is_secret_key(k) and v not in (None, "") else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_yaml_file(path: Path) -> None:
    """Rewrite a YAML file (Hydra's config.yaml, hydra.yaml, overrides.yaml) with its secrets masked;
    interpolations are kept as written."""
    from omegaconf import OmegaConf

    path = Path(path)
    if not path.is_file():
        return
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    clean = redact(data)
    if clean != data:
        tmp = path.with_suffix(path.suffix + ".tmp")
        OmegaConf.save(OmegaConf.create(clean), tmp)
        tmp.replace(path)


def redact_hydra_files(output_dir: Path) -> None:
    """Mask secrets in the files Hydra wrote before the app started: the run's .hydra/*.yaml and,
    in a multirun, the sweep directory's multirun.yaml."""
    for name in ("config.yaml", "hydra.yaml", "overrides.yaml"):
        redact_yaml_file(Path(output_dir) / ".hydra" / name)
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        if HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
            redact_yaml_file(Path(HydraConfig.get().sweep.dir) / "multirun.yaml")
    except ImportError:  # pragma: no cover - hydra is a dependency
        pass


def redact_hydra_logs() -> None:
    """Mask secrets in what Hydra and its launcher plug-ins log (a multirun prints every job's
    overrides to the console, which ends up in CI logs and terminals' scrollback).

    Hydra installs its own logging handlers when the app starts, so a handler filter set here
    would be dropped; the record factory is process-wide and survives that."""
    import logging

    previous = logging.getLogRecordFactory()
    if getattr(previous, "_tfnas_redacts", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if record.name.startswith("hydra"):  # hydra.* and hydra_plugins.*
            record.msg, record.args = redact_text(record.getMessage()), None
        return record

    factory._tfnas_redacts = True
    logging.setLogRecordFactory(factory)
