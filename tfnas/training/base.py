"""The post-search stage interface: turn the shortlist into a final ranking."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tfnas.errors import ConfigError


class ShortlistStage:
    """Given the best architectures by the training-free metric, return them re-ranked (or as they are)."""

    name = "none"

    def check(self, space) -> None:
        """Refuse settings this stage cannot run with on `space` (ConfigError), before the search writes anything."""

    def run(self, space, shortlist: list[dict[str, Any]], run_dir: Path, device, seed: int, tracker) -> list[dict[str, Any]]:
        return shortlist


class NoTraining(ShortlistStage):
    """train=none: the training-free ranking is the final ranking."""


def space_sections(stage: str, settings: str, sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A stage's per-space sections (train.rnn, train.bert, ...) from its leftover keyword arguments. Anything
    there that is not a section is an unknown setting, refused with the settings `train=<stage>` takes."""
    for key, value in sections.items():
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"train.{key}",
                              f"unknown setting; train={stage} takes {settings} and per-space sections (rnn, bert)")
    return {k: dict(v or {}) for k, v in sections.items()}
