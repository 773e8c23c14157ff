"""Where a run's progress is reported besides its run directory (W&B, ...)."""
from tfnas.tracking.base import NoTracker, Tracker, Trackers

__all__ = ["NoTracker", "Tracker", "Trackers"]
