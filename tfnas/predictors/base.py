"""The predictor interface and registry."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tfnas.registry import Registry

PREDICTORS: Registry[type["Predictor"]] = Registry("predictor", ("tfnas.predictors",), entry_point_group="tfnas.predictors")


@dataclass(frozen=True)
class Training:
    """One spent training: the candidate's hash and its trained result (None when it failed)."""

    hash: str
    value: float | None
    higher_is_better: bool = False


class Predictor:
    """Scores the scored candidates (higher is better) from their metric values and the trainings spent.

    `bind` is called once the search's metric is known; `scoring_metrics` lists the metrics the
    predictor reads besides the search metric (scored in the same shared probe); `healthy` is its
    own guard (candidates it would never train while another is left)."""

    name = ""
    #: whether the space's structural guard (SearchSpace.degenerate) applies to this predictor's order
    guarded = True
    #: why `healthy` is False for a candidate (the summary's guard count says it)
    unhealthy = "undefined"

    def bind(self, space, metric, seed: int) -> None:
        self.space, self.metric, self.seed = space, metric, int(seed)

    def scoring_metrics(self, space) -> list:
        return []

    def fit(self, records: Sequence, trainings: Sequence[Training] = ()) -> "Predictor":
        return self

    def query(self, records: Sequence) -> np.ndarray:
        raise NotImplementedError

    def healthy(self, records: Sequence) -> np.ndarray:
        return np.ones(len(records), dtype=bool)

    def describe(self) -> str:
        """One line for the console after the trainings (e.g. the fitted weights); empty: nothing to say."""
        return ""
