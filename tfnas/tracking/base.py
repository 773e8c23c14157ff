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

    def finish(self, summary: dict[str, Any], shortlist: list[dict[str, Any]], run_dir: Path) -> None:
        """Called once at the end with the summary and the (possibly trained) shortlist."""


class NoTracker(Tracker):
    """tracking=none: nothing beyond the run directory's files."""
