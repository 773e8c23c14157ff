"""The store: the only writer of a search's Optuna study.

Public (what the search loop, the app, strategies and experiments use):

- `EvaluationStore`: open a study (`search.storage`), claim architectures, store evaluations,
  duplicates and failures, read records and changes, recover dead workers' claims, beat;
- `storage_url`, `open_storage`, `redact`, `STUDY_FILE`: which storage a config names;
- `reject`, `enqueue`: the writes of strategies that suggest through Optuna trials;
- `StudyFeed`: incremental reads of a study (experiments that measure them);
- `tfnas.store.trained`: the trained study (one trial per training, its rungs as intermediate values).

Private: the backends (`_rdb.py`: SQLAlchemy/SQLite, `_journal.py`: journal file and Redis,
`_urls.py`, `_backends.py`), the claims index (`_claims.py`), heartbeat threads (`_beat.py`), and
`_optuna_adapter.py`, the one module that touches Optuna's private names (it says why).
"""
from tfnas.store._backends import open_storage
from tfnas.store._feed import StudyFeed
from tfnas.store._urls import STUDY_FILE, redact, storage_url
from tfnas.store.evaluations import EvaluationStore
from tfnas.store.strategy_trials import enqueue, reject

__all__ = ["EvaluationStore", "STUDY_FILE", "StudyFeed", "enqueue", "open_storage", "redact", "reject", "storage_url"]
