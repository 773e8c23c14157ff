"""The post-search stage interface: turn the ranked candidates into a final ranking."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from tfnas.errors import ConfigError


@dataclass
class StageContext:
    """What the app hands a stage besides the ranked candidates: every scored record (the predictor's input),
    the predictor (refitted by stages that spend a training budget), the recorder of the stage's trained study
    in the search's storage (tfnas.store.trained.TrainedResults) and search.top_k (entries best.json keeps)."""

    records: Sequence = ()
    predictor: Any = None
    trained: Any = None
    top_k: int | None = None


class ShortlistStage:
    """Given the candidates best first (the predictor's order, guard-flagged ones last), return the final ranking."""

    name = "none"
    #: train.budget: trainings the stage spends one at a time, each chosen by the refitted predictor (None: none)
    trainings: int | None = None

    def check(self, space) -> None:
        """Refuse settings this stage cannot run with on `space` (ConfigError), before the search writes anything."""

    def run(self, space, shortlist: list[dict[str, Any]], run_dir: Path, device, seed: int, tracker,
            context: StageContext | None = None) -> list[dict[str, Any]]:
        return cut(shortlist, context)


def check_trainer_data(space, options: dict) -> None:
    """The space's trainer refuses training data it cannot use (a user's corpus can be too short), before any work."""
    trainer_cls = space.trainer_class()
    if trainer_cls is not None and hasattr(trainer_cls, "check_data"):
        trainer_cls.check_data(space, options)


class NoTraining(ShortlistStage):
    """train=none: the training-free ranking is the final ranking."""


def cut(entries: list[dict[str, Any]], context: StageContext | None, keep: int = 0) -> list[dict[str, Any]]:
    """The first search.top_k entries (at least `keep`: every trained one), renumbered."""
    top_k = context.top_k if context is not None and context.top_k else len(entries)
    out = entries[: max(top_k, keep)]
    for rank, entry in enumerate(out, 1):
        entry["rank"] = rank
    return out


def space_sections(stage: str, settings: str, sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A stage's per-space sections (train.rnn, train.bert, ...) from its leftover keyword arguments. Anything
    there that is not a section is an unknown setting, refused with the settings `train=<stage>` takes."""
    for key, value in sections.items():
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"train.{key}",
                              f"unknown setting; train={stage} takes {settings} and per-space sections (rnn, bert)")
    return {k: dict(v or {}) for k, v in sections.items()}


def positive_budget(value, field: str = "train.budget") -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(field, f"must be a positive integer (trainings the stage spends, each chosen by the predictor) or null, got {value!r}")
    return value
