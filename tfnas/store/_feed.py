"""Read a study incrementally: each read costs the trials that are new or still unfinished, not the whole study.

`study.get_trials()` returns every trial (sorted, filtered in Python) on every call, so a loop
that reads it once per evaluation does work that grows with the study. The feed remembers how
far it has read and which trials were still running, and asks the storage only for those, by
trial number, through the storage's public per-trial calls (cached for finished trials by
Optuna's RDB cache; incremental log reads for the journal).
"""
from __future__ import annotations

from optuna.trial import FrozenTrial

from tfnas.store._optuna_adapter import storage_of, study_id_of, trial_id_of


class StudyFeed:
    def __init__(self, study):
        self._storage = storage_of(study)
        self._study_id = study_id_of(study)
        self._next = 0
        self._open: dict[int, int] = {}  # number -> trial id of trials unfinished at the last read
        self.running: dict[int, FrozenTrial] = {}  # the unfinished trials as last read

    def read(self) -> list[FrozenTrial]:
        """The trials that are new since the last read or were unfinished then, as they are now."""
        fresh = [self._storage.get_trial(trial_id) for trial_id in list(self._open.values())]
        while True:
            try:
                trial_id = self._storage.get_trial_id_from_study_id_trial_number(self._study_id, self._next)
            except KeyError:
                break
            fresh.append(self._storage.get_trial(trial_id))
            self._next += 1
        for trial in fresh:
            if trial.state.is_finished():
                self._open.pop(trial.number, None)
                self.running.pop(trial.number, None)
            else:
                self._open[trial.number] = trial_id_of(trial)
                self.running[trial.number] = trial
        return fresh
