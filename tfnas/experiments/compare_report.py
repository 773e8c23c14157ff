"""The comparisons' tables and figures: equal cost (k trainings) and the compute axis (full trainings' worth of steps)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tfnas.build import build
from tfnas.experiments.compare_setup import SpaceSetup, compose_config

FMT = "{median:.3f} [{q1:.3f}, {q3:.3f}]"


def whole_pool_picks(setup: SpaceSetup, ks: Sequence[int]) -> list[dict[str, Any]]:
    """What each metric of the ensemble's suite, and their equal-weight rank average (the ensemble's first pick),
    would train if it had scored the *whole* pool: the best true target among its k best (the space's guard applied).

    A diagnostic read from the labels, never used to choose a setting. Each row's `best_rank` says where the pool's
    best architecture falls in that order; the last row fits the suite's ranks to *all* the labels by least squares,
    an oracle no search has (a reference, not a bound)."""
    from tfnas.ensemble import BayesianRanker, predicted_order, prior_weights, signed_ranks

    hib, hashes = setup.higher_is_better, list(setup.pool.hashes)
    predictor = build(compose_config([*setup.base, "predictor=ensemble"]).predictor, "predictor")
    metrics, guards = predictor.feature_metrics(setup.pool), predictor.guard_metrics(setup.pool)
    setup.cache.ensure(setup.pool.archs, metrics + guards)
    values = np.array([[setup.cache.values[h].get(m.key, math.nan) for m in metrics] for h in hashes], dtype=float)
    guard_values = np.array([[setup.cache.values[h].get(m.key, math.nan) for m in guards] for h in hashes],
                            dtype=float).reshape(len(hashes), len(guards))
    sound = np.array([setup.pool.degenerate(a) is None for a in setup.pool.archs]) if predictor.guarded else np.ones(len(hashes), bool)
    truth = np.array([setup.truth[h] for h in hashes], dtype=float)
    pool_best = int(np.argmax(truth) if hib else np.argmin(truth))

    def row(label: str, order: Sequence[int]) -> dict[str, Any]:
        order = [int(i) for i in order]
        top = {str(k): (max if hib else min)(setup.truth[hashes[i]] for i in order[:k]) for k in ks}
        return {"label": label, "top_k": top, "best_rank": order.index(pool_best) + 1}

    rows = []
    for j, metric in enumerate(metrics):
        column = np.where(np.isfinite(values[:, j]), values[:, j], metric.worst)  # undefined: the metric's worst
        signed = column if metric.higher_is_better else -column
        rows.append(row(metric.key, sorted(range(len(hashes)), key=lambda i: (not sound[i], -signed[i], i))))
    features = signed_ranks(values, [m.higher_is_better for m in metrics])
    healthy = np.isfinite(values).all(axis=1) & np.isfinite(guard_values).all(axis=1) & sound
    rows.append(row("equal-weight rank average of these (the ensemble's first pick)",
                    predicted_order(features, BayesianRanker(prior_weights(len(metrics))), healthy)))
    rows.append(row("least-squares fit of these ranks to all the labels (an oracle: the ensemble's model told every label)",
                    oracle_order(features, truth if hib else -truth, healthy)))
    return rows


def oracle_order(features: np.ndarray, target: np.ndarray, healthy: np.ndarray) -> list[int]:
    """Candidates by a least-squares fit (with intercept) of `target` (higher is better) on the features over the
    healthy candidates, healthy ones first: what the ensemble's linear model would rank if told every label."""
    design = np.c_[features, np.ones(len(features))]
    fit = healthy if healthy.sum() > features.shape[1] else np.ones(len(features), dtype=bool)
    weights = np.linalg.lstsq(design[fit], target[fit], rcond=None)[0]
    predicted = design @ weights
    return sorted(range(len(predicted)), key=lambda i: (not healthy[i], -predicted[i]))


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]


def markdown(setup: SpaceSetup, result: dict, seeds: int, budget: int, ks: Sequence[int], checkpoints: Sequence[int]) -> str:
    """The equal-cost tables: best of the first k trained; the pick against proxy evaluations; whole-pool picks."""
    hib, bench, kmax = setup.higher_is_better, setup.space.benchmark(), max(ks)
    best = (max if hib else min)(setup.truth.values())
    lines = [f"### space {setup.name}: {bench.name}, pool of {len(setup.pool)}, target {bench.target} "
             f"({'higher' if hib else 'lower'} is better; pool best {best:.4f}); {seeds} seeds, {budget} proxy evaluations",
             "", "Best true target among the first k trained, median [IQR] over seeds:", ""]
    rows = [["random trainings (no proxy)"] + [FMT.format(**result["random_trainings"][str(k)]) for k in ks]]
    rows += [[r["label"]] + [FMT.format(**r["top_k"][str(k)]) for k in ks] for r in result["rows"]]
    lines += _table(["pipeline"] + [f"k={k}" for k in ks], rows)
    lines += ["", f"The pick vs proxy evaluations (median over seeds; k = 1 / k = {kmax} trainings):", ""]
    lines += _table(["pipeline"] + [f"{n} evals" for n in checkpoints], [[r["label"]] + [
        f"{r['by_evals'][str(n)]['1']['median']:.3f} / {r['by_evals'][str(n)][str(kmax)]['median']:.3f}" for n in checkpoints]
        for r in result["rows"]])
    if setup.curves is not None and any(r.get("train") == "halving" for r in result["rows"]):
        stage = setup.curves.stage
        lines += ["", f"-> halving: the metric's ranking through train=halving (Optuna's SuccessiveHalvingPruner, "
                  f"{stage.top_k} entrants, eta {stage.eta}, rungs {', '.join(map(str, stage.plan().rungs))} steps) replayed on "
                  f"recorded short-training curves ({setup.curves.curves.note}); the benchmark then trains them in the stage's "
                  "final order. Its short trainings come on top of the k benchmark trainings."]
    if result.get("whole_pool"):
        lines += ["", f"Each metric's pick had it scored the whole pool of {len(setup.pool)} (best true target among its k best; "
                  "read from the labels, for diagnosis only: no setting is chosen from it):", ""]
        lines += _table(["metric"] + [f"k={k}" for k in ks] + [f"rank of the pool's best ({best:.3f}) of {len(setup.pool)}"],
                        [[r["label"]] + [f"{r['top_k'][str(k)]:.3f}" for k in ks] + [str(r.get("best_rank", ""))]
                         for r in result["whole_pool"]])
    return "\n".join(lines) + "\n"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


STYLES = ["-", "--", "-.", ":"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p"]


def plot(setup: SpaceSetup, result: dict, ks: Sequence[int], checkpoints: Sequence[int], path: Path) -> None:
    """Equal cost: the pick against proxy evaluations (k = 1 and the largest k) and best-of-k, one line per pipeline."""
    plt = _pyplot()
    kmax, target = max(ks), setup.space.benchmark().target
    fig, axes = plt.subplots(1, 3, figsize=(19, 5.6))
    palette = plt.get_cmap("tab20").colors
    for index, r in enumerate(result["rows"]):
        style = dict(color=palette[(2 * index + index // 10) % 20], ls=STYLES[index % 4], marker=MARKERS[index % 12],
                     lw=1.4, label=r["label"])
        for ax, k in ((axes[0], 1), (axes[1], kmax)):
            ax.plot(checkpoints, [r["by_evals"][str(n)][str(k)]["median"] for n in checkpoints], **style)
        axes[2].plot(ks, [r["top_k"][str(k)]["median"] for k in ks], **style)
    rt = result["random_trainings"]
    axes[2].plot(ks, [rt[str(k)]["median"] for k in ks], "k--", lw=2, label="random trainings")
    for ax, k in ((axes[0], 1), (axes[1], kmax)):
        ax.axhline(rt[str(k)]["median"], color="k", ls="--", lw=1.5)
        ax.set(xlabel="proxy evaluations (search.budget)", ylabel=f"true {target}, best of {k} trained (median)",
               title=f"{setup.name}: the pick with {k} training(s)")
    axes[2].set(xlabel="trainings k (log scale)", ylabel=f"true {target}, best of k trained (median)",
                title=f"{setup.name}: best of k trainings", xscale="log")
    axes[2].set_xticks(list(ks), [str(k) for k in ks])
    handles, labels = axes[2].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def compute_markdown(setup: SpaceSetup, report: dict, result: dict, seeds: int, scored: int, note: str, command: str) -> str:
    """The compute-axis table: per budget, median target [IQR], P(pick in the pool's best 5 %), mean cost."""
    bench = setup.space.benchmark()
    budgets = [f"{b:g}" for b in report["budgets"]]
    lines = [f"### space {setup.name}: {bench.name}, pool of {len(setup.pool)}, target {bench.target} "
             f"({'higher' if setup.higher_is_better else 'lower'} is better; best 5 %: {bench.target} "
             f"{'>=' if setup.higher_is_better else '<='} {report['top5_threshold']:.4f}); {seeds} seeds, {scored} proxy "
             f"evaluations per search; 1 full training = {report['full_steps']} steps", "", f"`{command}`", "",
             f"Curves: {note}.", "",
             "Per budget (in full trainings): median target of the pick [IQR] / probability that the pick is in the pool's "
             "best 5 % / mean cost in full trainings. **bold**: the recommended pipeline.", ""]
    rows = []
    for row, detail in zip(report["rows"], result["rows"]):
        name = f"**{detail['label']}**" if row["recommended"] else detail["label"]
        rows.append([name, row["kind"]] + [f"{FMT.format(**detail['by_budget'][b])} / {detail['by_budget'][b]['p_top5']:.2f} / "
                                           f"{detail['by_budget'][b]['mean_cost']:.2f}" for b in budgets])
    lines += _table(["pipeline", "kind"] + [f"budget {b}" for b in budgets], rows)
    return "\n".join(lines) + "\n"


def compute_plot(setup: SpaceSetup, report: dict, result: dict, path: Path, title: str) -> None:
    """p_top5 and the median target against compute (mean cost in full trainings), one line per pipeline."""
    plt = _pyplot()
    target = setup.space.benchmark().target
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.6))
    palette = plt.get_cmap("tab20").colors
    budgets = [f"{b:g}" for b in report["budgets"]]
    for index, (row, detail) in enumerate(zip(report["rows"], result["rows"])):
        bold = row["recommended"]
        style = dict(color="k" if bold else palette[(2 * index + index // 10) % 20], ls="-" if bold else STYLES[index % 4],
                     marker=MARKERS[index % 12], lw=3 if bold else 1.3, label=detail["label"] + (" (recommended)" if bold else ""))
        cost = [detail["by_budget"][b]["mean_cost"] for b in budgets]
        axes[0].plot(cost, [detail["by_budget"][b]["p_top5"] for b in budgets], **style)
        axes[1].plot(cost, [detail["by_budget"][b]["median"] for b in budgets], **style)
    axes[0].set(xlabel="mean compute (full trainings)", ylabel="P(pick in the pool's best 5 %)",
                title="the pick in the pool's best 5 %", ylim=(-0.02, 1.02))
    middle, best = float(np.median(list(setup.truth.values()))), (max if setup.higher_is_better else min)(setup.truth.values())
    margin = 0.05 * abs(middle - best)
    axes[1].set(xlabel="mean compute (full trainings)", ylabel=f"median true {target} of the pick (axis: pool best to pool median)",
                title="the median of the pick", ylim=sorted((best - margin if not setup.higher_is_better else best + margin, middle)))
    for ax in axes:
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.suptitle(f"{title}: quality against compute (one point per budget)")
    fig.tight_layout()
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
