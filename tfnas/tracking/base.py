"""The tracker interface the search app calls; `tracking=none` is the no-op tracker."""
from __future__ import annotations

from pathlib import Path
from typing import Any


class Tracker:
    """Receives a run's events. Every method is optional; the base class ignores them."""

    def start(self, config: dict[str, Any], run_dir: Path, info: dict[str, Any]) -> None:
        """Called once before the first evaluation (info: space, strategy, metric, budget, device)."""

    def log_record(self, record, best_score: float) -> None:
        """Called after each scored architecture (a tfnas.results.Record) with the best score so far."""

    def log_training(self, candidate: dict[str, Any], step: int, values: dict[str, float]) -> None:
        """Called during short training of a shortlisted candidate."""

    def log_trained(self, entry: dict[str, Any], stage: str, target: str, higher_is_better: bool,
                    curve: Path | None = None) -> None:
        """Called by a post-search stage as each candidate's result arrives (`entry[target]`, None when it
        failed; `curve`: its curve.csv, if it was trained)."""

    def finish(self, summary: dict[str, Any], shortlist: list[dict[str, Any]], run_dir: Path) -> None:
        """Called once at the end with the summary and the (possibly trained) shortlist."""

    def fail(self, error: BaseException) -> None:
        """Called instead of `finish` when the search stops with an error."""


class NoTracker(Tracker):
    """tracking=none: nothing beyond the run directory's files."""


class Trackers(Tracker):
    """Several trackers fed the same events, in order. Every event method of `Tracker` is forwarded, so a
    new event reaches every tracker without being listed here."""

    def __init__(self, *trackers: Tracker):
        self.trackers = list(trackers)


def _forward(event: str):
    def method(self, *args, **kwargs):
        for tracker in self.trackers:
            getattr(tracker, event)(*args, **kwargs)

    method.__name__ = event
    method.__doc__ = getattr(Tracker, event).__doc__
    return method


for _event in [name for name, value in vars(Tracker).items() if callable(value) and not name.startswith("_")]:
    setattr(Trackers, _event, _forward(_event))
