"""The zero-cost proxy table: every proxy against a benchmark target, with bootstrap intervals, the
proxies' correlation with each other (heat map), their cost, and what they add to a base metric.

Inputs are score CSVs written by the reproduction scripts (tfnas.experiments.pool_scoring), joined
by architecture id: typically the zoo run and the paper-metric run of the same pool.

What a proxy adds beyond the base metric (hidden_cov on NAS-Bench-NLP, head_confidence on
NAS-Bench-BERT) is measured two ways, neither fitted to the labels:
- the partial Spearman correlation of the proxy with the target, the base partialled out (Pearson
  partial correlation of the ranks);
- the gain of a two-metric rank sum: Kendall tau of rank(base) + rank(proxy), each ranked in the
  direction its metric declares better (`higher_is_better`, fixed before seeing labels), minus the
  base's own tau, signed so that positive means the pair ranks better than the base alone; with a
  bootstrap interval over architectures (paired: the same resample for both).
Undefined scores follow tfnas.experiments.correlation (flagged worst values ranked last).
"""
from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from tfnas.experiments.correlation import (
    bootstrap_ci,
    correlation_matrix,
    partial_spearman,
    rank_correlations,
    ranks,
)
from tfnas.experiments.pool_scoring import read_rows
from tfnas.report.markdown import table

NOT_METRICS = {"undefined", "seconds", "id", "model_id"}


def join_scores(paths: Sequence[Path], id_column: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """id -> merged row, and the metric columns in order (a column already read is not replaced)."""
    rows: dict[str, dict[str, str]] = {}
    columns: list[str] = []
    for index, path in enumerate(paths):
        table = read_rows(Path(path))
        if not table:
            continue
        new = [c for c in table[0] if c not in NOT_METRICS and c not in columns]
        columns += new
        for row in table:
            merged = rows.setdefault(row[id_column], {}) if index == 0 else rows.get(row[id_column])
            if merged is None:  # only architectures of the first file (the zoo run) are tabulated
                continue
            merged.update({c: row[c] for c in new})
            if index == 0:
                merged["undefined"] = row.get("undefined", "")
                merged["seconds"] = row.get("seconds", "")
    return rows, columns


def direction(key: str) -> int:
    """+1 if the metric behind a column declares higher values better, -1 otherwise."""
    from tfnas.config import group_options
    from tfnas.experiments.pool_scoring import build_metric

    if key not in group_options("metric"):
        return 1
    return 1 if build_metric(key).higher_is_better else -1


def build(rows: dict[str, dict[str, str]], columns: list[str], target: dict[str, float], higher_is_better: bool,
          base: str, resamples: int = 1000, seed: int = 0) -> list[dict]:
    ids = [i for i in rows if i in target and math.isfinite(target[i]) and all(c in rows[i] for c in columns)]
    y = np.array([target[i] for i in ids])
    values = {c: np.array([float(rows[i][c]) for i in ids]) for c in columns}
    good = 1 if higher_is_better else -1
    base_rank = direction(base) * ranks(values[base]) if base in values else None
    table = []
    for c in columns:
        x = values[c]
        corr = rank_correlations(x, y)
        entry = {
            "metric": c, "n": corr["n"],
            "undefined": sum(1 for i in ids if c in rows[i].get("undefined", "").split(";")),
            "kendall": corr["kendall"], "kendall_ci": bootstrap_ci(x, y, resamples=resamples, seed=seed),
            "spearman": corr["spearman"],
        }
        from tfnas.experiments.correlation import spearman

        entry["spearman_ci"] = bootstrap_ci(x, y, spearman, resamples=resamples, seed=seed)
        if base_rank is not None and c != base:
            entry["partial_spearman"] = partial_spearman(x, y, values[base])
            pair = base_rank + direction(c) * ranks(x)
            entry["pair_gain"] = good * (rank_correlations(pair, y)["kendall"] - rank_correlations(base_rank, y)["kendall"])
            entry["pair_gain_ci"] = _paired_gain_ci(base_rank, direction(c) * ranks(x), y, good, resamples, seed)
        table.append(entry)
    return table


def _paired_gain_ci(base_rank, other_rank, y, good, resamples, seed) -> tuple[float, float]:
    """95% interval of the rank sum's tau gain over the base's, both on the same resample of architectures."""
    from scipy.stats import kendalltau

    from tfnas.bootstrap import percentile_interval

    def gain(base, other, target) -> float:
        return good * (kendalltau(base + other, target)[0] - kendalltau(base, target)[0])

    return percentile_interval((base_rank, other_rank, y), gain, resamples, seed)


def proxy_costs(space, names: Sequence[str], archs: Sequence, seed: int = 0) -> dict[str, float]:
    """Median seconds per architecture of each metric alone (its own Scorer: build, passes, score)."""
    from tfnas.experiments.pool_scoring import build_metric
    from tfnas.metrics import Scorer

    costs = {}
    for name in names:
        scorer = Scorer(space, [build_metric(name)], seed=seed)
        times = []
        for arch in archs:
            start = time.perf_counter()
            scorer(arch)
            times.append(time.perf_counter() - start)
        costs[scorer.keys[0]] = statistics.median(times)
    return costs


def format_markdown(entries: list[dict], base: str, target_name: str, costs: dict[str, float], zoo: set[str]) -> str:
    def f(x, signed=True):
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return ""
        return f"{x:+.3f}" if signed else f"{x:.3f}"

    def ci(pair):
        return "" if pair is None or not all(math.isfinite(v) for v in pair) else f"[{pair[0]:+.3f}, {pair[1]:+.3f}]"

    columns = ["metric", "zoo", "n", "undefined", f"Kendall tau vs {target_name}", "95% CI", "Spearman rho", "95% CI",
               f"partial rho given {base}", f"tau gain of rank({base}) + rank(metric)", "95% CI", "s/arch alone"]
    rows = []
    for e in entries:
        cost = costs.get(e["metric"])
        rows.append([e["metric"], "yes" if e["metric"] in zoo else "", e["n"], e["undefined"], f(e["kendall"]),
                     ci(e["kendall_ci"]), f(e["spearman"]), ci(e["spearman_ci"]), f(e.get("partial_spearman")),
                     f(e.get("pair_gain")), ci(e.get("pair_gain_ci")), "" if cost is None else f"{cost:.2f}"])
    return table(columns, rows)


def heat_map(rows, ids_columns: list[str], path: Path, title: str) -> Path:
    """Spearman correlation between every pair of metrics over the tabulated architectures (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = [i for i in rows if all(c in rows[i] for c in ids_columns)]
    columns = {c: [float(rows[i][c]) for i in ids] for c in ids_columns}
    matrix = correlation_matrix(columns)
    size = max(6.0, 0.42 * len(ids_columns))
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(ids_columns)), ids_columns, rotation=90, fontsize=7)
    ax.set_yticks(range(len(ids_columns)), ids_columns, fontsize=7)
    for i in range(len(ids_columns)):
        for j in range(len(ids_columns)):
            if math.isfinite(matrix[i, j]):
                ax.text(j, i, f"{matrix[i, j]:.1f}", ha="center", va="center", fontsize=5,
                        color="white" if abs(matrix[i, j]) > 0.6 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, label="Spearman rho")
    ax.set_title(f"{title} (n = {len(ids)})", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path
