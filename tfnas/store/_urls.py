"""Which storage a `search.storage` value names: the URL forms and their checks (no Optuna here)."""
from __future__ import annotations

from pathlib import Path

from tfnas.redaction import redact_text

STUDY_FILE = "study.db"
JOURNAL_PREFIX = "journal:"
REDIS_PREFIXES = ("redis://", "rediss://")


def storage_url(storage: str | None, run_dir: Path | None) -> str | None:
    """`null` -> a SQLite file in the run directory; `memory` -> nothing persisted; a plain `*.db` path -> SQLite;
    `journal:PATH` -> the journal file (absolute path); else the URL as given."""
    if storage in (None, "", "default"):
        if run_dir is None:
            return None
        return f"sqlite:///{(Path(run_dir) / STUDY_FILE).resolve()}"
    if storage == "memory":
        return None
    storage = str(storage)
    if storage.startswith(JOURNAL_PREFIX):
        return JOURNAL_PREFIX + str(Path(storage[len(JOURNAL_PREFIX):]).expanduser().resolve())
    if "://" not in storage and storage.endswith(".db"):
        return f"sqlite:///{Path(storage).expanduser().resolve()}"
    return storage


def is_journal(url: str) -> bool:
    return url.startswith(JOURNAL_PREFIX) or url.startswith(REDIS_PREFIXES)


def is_redis(url: str) -> bool:
    return url.startswith(REDIS_PREFIXES)


def redact(url: str) -> str:
    """The URL without its password, for messages (tfnas.redaction masks every copy of the config)."""
    return redact_text(url)
