"""The post-search stage interface: turn the shortlist into a final ranking."""
from __future__ import annotations

from pathlib import Path
from typing import Any


class ShortlistStage:
    """Given the best architectures by the training-free metric, return them re-ranked (or as they are)."""

    name = "none"

    def check(self, space) -> None:
        """Refuse settings this stage cannot run with on `space` (ConfigError), before the search writes anything."""

    def run(self, space, shortlist: list[dict[str, Any]], run_dir: Path, device, seed: int, tracker) -> list[dict[str, Any]]:
        return shortlist


class NoTraining(ShortlistStage):
    """train=none: the training-free ranking is the final ranking."""
