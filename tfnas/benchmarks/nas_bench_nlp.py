"""NAS-Bench-NLP as a tabular benchmark: PTB test loss of the labelled recipes."""
from __future__ import annotations

import csv
import math
from functools import cached_property
from typing import Any

from tfnas.benchmarks.base import TabularBenchmark
from tfnas.data import resource_path


def model_id_from_log_name(log_name: str) -> int:
    """`log_stats_model_<ID>_<date>_<run>.json` -> ID."""
    return int(log_name.split("_")[3])


class NasBenchNLP(TabularBenchmark):
    """Labelled pool: the recipes of `recipes.json` that have a PTB test loss in the paper's results."""

    name = "nas_bench_nlp"
    target = "test_loss"
    higher_is_better = False

    @cached_property
    def published(self) -> dict[int, dict[str, str]]:
        """model id -> the row of the paper's RNN_results.csv (loss and published metric values)."""
        rows = {}
        with open(resource_path("seed", "RNN_results.csv"), encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.setdefault(model_id_from_log_name(row["log name"]), row)
        return rows

    @cached_property
    def _pool(self) -> list[tuple[str, Any]]:
        from search_spaces.nas_bench_nlp.space import load_recipes

        return [(str(mid), recipe) for mid, recipe in load_recipes().items() if mid in self.published]

    def pool(self) -> list[tuple[str, Any]]:
        return list(self._pool)

    def query_id(self, arch_id: str) -> dict[str, Any] | None:
        row = self.published.get(int(arch_id))
        if row is None:
            return None
        loss = float(row["loss"])
        return {"test_loss": loss, "perplexity": math.exp(loss)}
