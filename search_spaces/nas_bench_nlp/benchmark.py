"""NAS-Bench-NLP as a tabular benchmark: PTB test loss of the labelled recipes, and the paper's metric table.

- `pool()`: the 275 recipes of `recipes.json` that have a PTB test loss (the labelled set).
- `query(recipe)` (by canonical hash: renamed inner nodes still match) / `query_id(model_id)`:
  test loss, perplexity and the published training-free metric values of that architecture.
- `published_table()`: loss and published metric values of all 8,794 architectures of the
  paper's RNN table (most have no recipe here), for comparisons on the full population.
"""
from __future__ import annotations

import csv
import math
from functools import cached_property
from typing import Any

from tfnas.benchmarks.base import TabularBenchmark
from tfnas.search_spaces.nas_bench_nlp.shipped import data_path, load_recipes

# Published column -> this project's metric key (the noise columns come from an older version of
# the paper's code with one noise amplitude; they are compared with our a = 10 variants).
PUBLISHED_COLUMNS = {
    "Activation Distance": "activation_distance",
    "Synaptic Saliency": "synaptic_saliency",
    "Jacobian Covariance": "jacobian_cov",
    "Jacobian Cosine": "jacobian_cosine",
    "Large Noise Jacobian": "noise_jacobian_large",
    "Large Noise Jacobian Cosine": "noise_jacobian_cosine_large",
    "More Noised Jacobian": "more_noised_jacobian",
    "More Noised Jacobian Cosine": "more_noised_jacobian_cosine",
    "Hidden Synaptic Saliency": "hidden_saliency",
    "Layer 1 Hidden Covariance": "hidden_cov",
    "Layer 2 Hidden Covariance": "hidden_cov_l2",
    "Layer 3 Hidden Covariance": "hidden_cov_l3",
}


def model_id_from_log_name(log_name: str) -> int:
    """`log_stats_model_<ID>_<date>_<run>.json` -> ID."""
    return int(log_name.split("_")[3])


def _number(text: str | None) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


class NasBenchNLP(TabularBenchmark):
    """Labelled pool: the recipes of `recipes.json` that have a PTB test loss in the paper's results."""

    name = "nas_bench_nlp"
    target = "test_loss"
    higher_is_better = False
    published_by_key = {key: column for column, key in PUBLISHED_COLUMNS.items()}  # our key -> RNN_results.csv column

    @cached_property
    def published(self) -> dict[int, dict[str, str]]:
        """model id -> the row of the paper's RNN_results.csv (loss and published metric values)."""
        rows = {}
        with open(data_path("seed", "RNN_results.csv"), encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.setdefault(model_id_from_log_name(row["log name"]), {k.strip(): v for k, v in row.items()})
        return rows

    def published_table(self) -> dict[int, dict[str, float]]:
        """model id -> {"test_loss": ..., <metric key>: published value} for all 8,794 architectures."""
        return {mid: self._result(row) for mid, row in self.published.items()}

    @staticmethod
    def _result(row: dict[str, str]) -> dict[str, float]:
        loss = _number(row["loss"])
        out = {"test_loss": loss, "perplexity": math.exp(loss) if math.isfinite(loss) else math.nan}
        for column, key in PUBLISHED_COLUMNS.items():
            out[f"published_{key}"] = _number(row.get(column))
        return out

    @cached_property
    def _pool(self) -> list[tuple[str, Any]]:
        return [(str(mid), recipe) for mid, recipe in load_recipes().items() if mid in self.published]

    def pool(self) -> list[tuple[str, Any]]:
        return list(self._pool)

    def architectures(self) -> list[tuple[str, Any]]:
        """(id, recipe) of every recipe shipped, labelled or not (what user labels may refer to by id)."""
        return [(str(mid), recipe) for mid, recipe in load_recipes().items()]

    def reference_scores(self):
        """This project's scores of the 275 labelled cells at the benchmark's full size (see its README)."""
        return data_path("reference", "rnn_scores.csv")

    def query_id(self, arch_id: str | int) -> dict[str, Any] | None:
        row = self.published.get(int(arch_id))
        return None if row is None else self._result(row)
