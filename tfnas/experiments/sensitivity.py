"""How much the calibrated ensemble's result depends on its settings, on held-out seeds and on halves of the pool.

Rows: each setting of SENSITIVITY on seeds [seeds, 2*seeds) (not the main table's seeds), then the default
setting on each half of the pool, against the best single-metric search and random trainings on the same data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from tfnas.experiments.compare import Pipeline, compare_space, default_pipelines
from tfnas.experiments.compare_report import FMT
from tfnas.experiments.compare_setup import setup_space

SENSITIVITY = {
    "rnn": {
        "default": [],
        "thompson sampling (exploration)": ["predictor.exploration=thompson"],
        "label-free factor prior": ["predictor.prior=factor"],
        "no guard": ["predictor.guard.rnn=[]", "predictor.structural_guard=false"],
        "forward-only metrics (hidden_cov l1-l3, activation_distance, params; ~0.3 s/cell)":
            ["predictor.metrics.rnn=[hidden_cov,hidden_cov_l2,hidden_cov_l3,activation_distance,params]"],
        "without the saliencies": ["predictor.metrics.rnn=[hidden_cov,hidden_cov_l2,hidden_cov_l3,activation_distance,jacobian_cosine,jacobian_cov,params]"],
    },
    "bert": {
        "default": [],
        "thompson sampling (exploration)": ["predictor.exploration=thompson"],
        "label-free factor prior": ["predictor.prior=factor"],
        "head metrics and params only": ["predictor.metrics.bert=[head_confidence,head_softmax_confidence,head_importance,params]"],
        "without params": ["predictor.metrics.bert=[head_confidence,head_softmax_confidence,head_importance,activation_distance,synaptic_diversity,synaptic_saliency,jacobian_cosine]"],
    },
}


def sensitivity(spaces: Sequence[str], seeds: int, budget: int, ks: Sequence[int], out: Path, cache_dir: Path | None = None,
                labels: str | None = None, higher_is_better: bool = False) -> str:
    """The ensemble under other settings (held-out seeds) and on each half of the pool (cross-validation)."""
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    fmt = FMT.format
    for name in spaces:
        lines += [f"### {name}: ensemble settings, seeds {seeds}..{2 * seeds - 1}, {budget} proxy evaluations; "
                  "best of the first k trained, median [IQR]", "", "| data | setting | " + " | ".join(f"k={k}" for k in ks) + " |",
                  "|" + "---|" * (len(ks) + 2)]
        for label, overrides in SENSITIVITY.get(name, {"default": []}).items():
            setup = setup_space(name, labels, higher_is_better, cache_dir, overrides)
            res = compare_space(setup, [Pipeline("ensemble", "ensemble")], seeds, min(budget, len(setup.pool)), ks, [], first_seed=seeds)
            lines.append(f"| full pool | {label} | " + " | ".join(fmt(**res["rows"][0]["top_k"][str(k)]) for k in ks) + " |")
        for part in range(2):
            setup = setup_space(name, labels, higher_is_better, cache_dir, subset=(part, 2))
            res = compare_space(setup, default_pipelines(setup), seeds, min(budget, len(setup.pool)), ks, [], first_seed=seeds)
            data = f"half {part + 1} of the pool ({len(setup.pool)})"
            lines.append(f"| {data} | random trainings | " + " | ".join(fmt(**res["random_trainings"][str(k)]) for k in ks) + " |")
            sign = 1 if setup.higher_is_better else -1
            singles = [r for r in res["rows"] if r["strategy"] != "ensemble"]
            best_single = {str(k): max(singles, key=lambda r: sign * r["top_k"][str(k)]["median"]) for k in ks}
            lines.append(f"| {data} | best single-metric search at each k | " + " | ".join(
                f"{fmt(**best_single[str(k)]['top_k'][str(k)])} ({best_single[str(k)]['label']})" for k in ks) + " |")
            ens = next(r for r in res["rows"] if r["strategy"] == "ensemble")
            lines.append(f"| {data} | ensemble (default) | " + " | ".join(fmt(**ens["top_k"][str(k)]) for k in ks) + " |")
        lines.append("")
        (out / "sensitivity.md").write_text("\n".join(lines) + "\n")
    text = "\n".join(lines) + "\n"
    (out / "sensitivity.md").write_text(text)
    print(text, flush=True)
    return text
