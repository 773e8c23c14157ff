"""Moved to `tfnas.store` (the only writer of the study); this name stays while other code moves over."""
from tfnas.store import STUDY_FILE, EvaluationStore, open_storage, redact, storage_url

make_storage = open_storage

__all__ = ["STUDY_FILE", "EvaluationStore", "make_storage", "open_storage", "redact", "storage_url"]
