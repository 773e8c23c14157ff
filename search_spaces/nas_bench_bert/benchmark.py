"""NAS-Bench-BERT as a tabular benchmark: GLUE and the eight task scores of 500 architectures."""
from __future__ import annotations

import csv
import json
from functools import cached_property
from typing import Any

from tfnas.benchmarks.base import TabularBenchmark
from tfnas.search_spaces.nas_bench_bert.shipped import data_path

TASKS = ("cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst", "sts")


class NasBenchBert(TabularBenchmark):
    """Each entry: `glue` (mean of the eight dev scores, higher is better), the task scores and
    `time_to_train` (pretraining seconds on a TPU). Ids are the benchmark's `id` as strings."""

    name = "nas_bench_bert"
    target = "glue"
    higher_is_better = True
    # our metric key -> the published column (BERT_results_activation.csv) it is compared with (the
    # published code's variant where they differ)
    published_by_key = {
        "synaptic_diversity": "Synaptic Diversity",
        "synaptic_diversity_norm": "Synaptic Diversity Normalized",
        "synaptic_saliency": "Synaptic Saliency",
        "synaptic_saliency_norm": "Synaptic Saliency Normalized",
        "activation_distance": "Activation Distance",
        "activation_distance_norm": "Activation Distance Normalized",
        "activation_distance_sum": "Activation Distance",
        "activation_distance_sum_norm": "Activation Distance Normalized",
        "jacobian_cov": "Jacobian Score",
        "jacobian_cosine": "Jacobian Score Normalized",
        "params": "Number of Parameters",
        "head_importance": "Head Importance",
        "head_importance_norm": "Head Importance Normalized",
        "head_confidence": "Head Confidence",
        "head_confidence_norm": "Head Confidence Normalized",
        "head_softmax_confidence": "Head Softmax Confidence",
        "head_softmax_confidence_norm": "Head Softmax Confidence Normalized",
        "head_softmax_confidence_maxhead": "Head Softmax Confidence",
        "head_softmax_confidence_maxhead_norm": "Head Softmax Confidence Normalized",
    }

    @cached_property
    def entries(self) -> dict[str, dict]:
        with open(data_path("seed", "BERT_benchmark.json"), encoding="utf-8") as handle:
            return {str(entry["id"]): entry for entry in json.load(handle)}

    @cached_property
    def _pool(self) -> list[tuple[str, Any]]:
        return [(i, self.space.from_json(e["hparams"]["model_hparam_overrides"])) for i, e in self.entries.items()]

    def pool(self) -> list[tuple[str, Any]]:
        return list(self._pool)

    def query_id(self, arch_id: str) -> dict[str, Any] | None:
        entry = self.entries.get(str(arch_id))
        if entry is None or not entry.get("completed", True):
            return None
        scores = entry["scores"]
        return {"glue": float(scores["glue"]), **{t: float(scores[t]) for t in TASKS}, "time_to_train": entry.get("time_to_train")}

    @cached_property
    def published(self) -> dict[str, dict[str, float]]:
        """id -> the paper's metric values (BERT_results_activation.csv), column names as published."""
        rows = {}
        with open(data_path("seed", "BERT_results_activation.csv"), encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                rows[str(int(float(row["ID"])))] = {k: float(v) for k, v in row.items() if k != "ID" and v != ""}
        return rows
