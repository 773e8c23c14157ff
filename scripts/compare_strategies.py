"""Measured search quality: strategies x metrics in benchmark mode, against random search.

For every registered space with a tabular benchmark, each strategy runs over the benchmark's
labelled pool (`search.pool=benchmark`) with each metric as its objective, over several seeds.
Each pool architecture's metric values are computed once and cached (a JSON file per space
and metric), so the strategies run against the cache through the real search loop and store.

What is reported, per strategy x metric (mean over seeds of the benchmark's true target):
* "top-1 after n evals": the true result of the architecture a search returns (its best by
  the metric) after n proxy evaluations -- one training each;
* "best of top-k": the best true result among the k best-by-metric architectures of a full
  search -- k benchmark queries ("trainings");
* the same number of trainings spent on random search (k architectures drawn from the pool and
  trained; exact expectation over 4000 draws) is the baseline.
Metric sources: a registered metric name (computed on the space's metric batch), `oracle`
(the benchmark target itself: there, evaluations are trainings), or `published:<column>`
(values published with the benchmark -- for NAS-Bench-NLP the paper's RNN_results.csv --
a stand-in while a metric cannot be computed here; labelled as such in the table).

    PYTHONPATH=. python scripts/compare_strategies.py --seeds 10 --budget 100 --out compare_out
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tfnas.search_spaces import SPACES  # noqa: E402
from tfnas.pool import benchmark_pool  # noqa: E402
from tfnas.metrics.base import METRICS  # noqa: E402
from tfnas.metrics.scoring import Evaluation, Scorer  # noqa: E402
from tfnas.search_loop import run_search  # noqa: E402
from tfnas.storage import EvaluationStore  # noqa: E402

# published column of NAS-Bench-NLP's results table -> the registered metric whose direction it shares
PUBLISHED_DIRECTION = {"Layer 1 Hidden Covariance": "hidden_cov", "Jacobian Covariance": "jacobian_cov",
                       "Activation Distance": "activation_distance", "Synaptic Saliency": "synaptic_saliency"}


def load_space(name: str, overrides: list[str]):
    cfg = OmegaConf.load(ROOT / "conf" / "space" / f"{name}.yaml")
    cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(overrides))
    return instantiate(cfg, _convert_="all"), OmegaConf.to_container(cfg)


def metric_values(space, pool, source: str, cache_dir: Path, space_cfg: dict, seed: int) -> tuple[dict, bool]:
    """hash -> value of `source` for every pool member, and whether higher is better (cached on disk)."""
    bench = space.benchmark()
    if source == "oracle":
        return {pool.hashes[i]: bench.query_id(pool.ids[i])[bench.target] for i in range(len(pool))}, bench.higher_is_better
    if source.startswith("published:"):
        column = source.split(":", 1)[1]
        rows = getattr(bench, "published", None)
        if rows is None:
            raise SystemExit(f"the {bench.name} benchmark publishes no metric values")
        direction = METRICS.get(PUBLISHED_DIRECTION.get(column, "hidden_cov")).higher_is_better
        return {pool.hashes[i]: float(rows[int(pool.ids[i])][column]) for i in range(len(pool))}, direction
    metric = METRICS.get(source)()
    metric.check_space(space.name)
    tag = hashlib.sha256(json.dumps([space_cfg, source, seed], sort_keys=True).encode()).hexdigest()[:12]
    path = cache_dir / f"{space.name}_{source}_{tag}.json"
    if path.exists():
        return json.loads(path.read_text()), metric.higher_is_better
    scorer = Scorer(space, [metric], seed=seed)
    values, start = {}, time.perf_counter()
    for i, arch in enumerate(pool.archs):
        values[pool.hashes[i]] = scorer(arch).scores[metric.key]
        if (i + 1) % 25 == 0:
            print(f"  {source}: {i + 1}/{len(pool)} pool architectures scored ({time.perf_counter() - start:.0f} s)", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))
    return values, metric.higher_is_better


class CachedScorer:
    """Looks up the precomputed metric value instead of building the model."""

    def __init__(self, key: str, values: dict):
        self.key, self.values = key, values

    def __call__(self, arch) -> Evaluation:
        return Evaluation({self.key: self._value(arch)})

    def bind(self, space):
        self._value = lambda arch: self.values[space.hash(arch)]
        return self


def run_one(space, pool_space_factory, strategy_name: str, key: str, values: dict, hib: bool, seed: int, budget: int) -> list[str]:
    """The hashes a strategy evaluates, in order, searching the pool with the cached metric."""
    space_pool = pool_space_factory()
    strategy = instantiate(OmegaConf.load(ROOT / "conf" / "strategy" / f"{strategy_name}.yaml"), _convert_="all")
    store = EvaluationStore(None, "compare", ["maximize" if hib else "minimize"], key, sampler=strategy.sampler(seed))
    strategy.bind(space_pool, np.random.default_rng(seed), store.study)
    result = run_search(space_pool, strategy, CachedScorer(key, values).bind(space), key, hib, budget, progress=False, store=store)
    return [r.hash for r in result.records]


def top_true(order: list[str], values: dict, hib: bool, truth: dict, truth_hib: bool, n: int, k: int) -> float:
    """Best true result among the k best-by-metric of the first n evaluations."""
    seen = order[:n]
    ranked = sorted(seen, key=lambda h: values[h], reverse=hib)[:k]
    trues = [truth[h] for h in ranked]
    return max(trues) if truth_hib else min(trues)


def random_trainings(truth: dict, truth_hib: bool, k: int, draws: int = 4000) -> float:
    rng = np.random.default_rng(12345)
    t = np.array(list(truth.values()))
    picks = np.array([rng.choice(len(t), size=k, replace=False) for _ in range(draws)])
    best = t[picks].max(axis=1) if truth_hib else t[picks].min(axis=1)
    return float(best.mean())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", default="", help="comma-separated; default: every registered space with a benchmark")
    parser.add_argument("--strategies", default="random,evolution,tpe")
    parser.add_argument("--metrics", default="oracle,hidden_cov,published:Layer 1 Hidden Covariance,published:Jacobian Covariance")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100, help="proxy evaluations per search")
    parser.add_argument("--trainings", default="1,3,10", help="k values of the top-k table columns")
    parser.add_argument("--space-override", action="append", default=[], help="e.g. model.nhid=24 (repeatable)")
    parser.add_argument("--cache-dir", default=str(ROOT / ".cache" / "compare"))
    parser.add_argument("--out", default="compare_out")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = [s for s in args.spaces.split(",") if s] or [n for n in SPACES.names() if (ROOT / "conf" / "space" / f"{n}.yaml").exists()]
    ks = [int(k) for k in args.trainings.split(",")]
    checkpoints = sorted({n for n in (10, 25, 50, 100, 200, args.budget) if n <= args.budget})
    report = {"budget": args.budget, "seeds": args.seeds, "spaces": {}}
    lines = []
    for name in names:
        space, space_cfg = load_space(name, args.space_override)
        bench = space.benchmark()
        if bench is None:
            print(f"{name}: no tabular benchmark, skipped")
            continue
        pool = benchmark_pool(space)
        truth = {pool.hashes[i]: bench.query_id(pool.ids[i])[bench.target] for i in range(len(pool))}
        budget = min(args.budget, len(pool))
        sign = "max" if bench.higher_is_better else "min"
        lines += [f"### space {name}: {bench.name} pool of {len(pool)}, true target {bench.target} ({sign} is best; "
                  f"pool best {max(truth.values()) if bench.higher_is_better else min(truth.values()):.4f}), "
                  f"{args.seeds} seeds, {budget} proxy evaluations per search", ""]
        base = {k: random_trainings(truth, bench.higher_is_better, k) for k in ks}
        head = ["strategy", "metric"] + [f"top-1 @{n} evals" for n in checkpoints] + [f"best of top-{k}" for k in ks]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines.append("| random trainings (no proxy) | - | " + " | ".join("" for _ in checkpoints) + " | "
                     + " | ".join(f"{base[k]:.4f}" for k in ks) + " |")
        curves = {}
        for source in [m for m in args.metrics.split(",") if m]:
            try:
                values, hib = metric_values(space, pool, source, Path(args.cache_dir), space_cfg, 0)
            except Exception as err:  # a metric this space's probe cannot compute yet
                print(f"{name}: metric {source} unavailable: {err}")
                continue
            vals = np.array([values[h] for h in pool.hashes])
            tvals = np.array([truth[h] for h in pool.hashes])
            from scipy.stats import kendalltau
            tau = kendalltau(vals if hib else -vals, tvals if bench.higher_is_better else -tvals).statistic
            label = source + (" (published stand-in)" if source.startswith("published:") else "") + f" [tau {tau:+.2f}]"
            for strategy_name in [s for s in args.strategies.split(",") if s]:
                start = time.perf_counter()
                orders = [run_one(space, lambda: benchmark_pool(space), strategy_name, source, values, hib, seed, budget)
                          for seed in range(args.seeds)]
                by_n = np.array([[top_true(o, values, hib, truth, bench.higher_is_better, n, 1) for n in range(1, budget + 1)] for o in orders])
                by_k = np.array([[top_true(o, values, hib, truth, bench.higher_is_better, len(o), k) for k in range(1, max(ks) + 1)] for o in orders])
                curves[(strategy_name, source)] = (by_n, by_k)
                cells = [f"{by_n[:, n - 1].mean():.4f}" for n in checkpoints] + [f"{by_k[:, k - 1].mean():.4f}" for k in ks]
                lines.append(f"| {strategy_name} | {label} | " + " | ".join(cells) + " |")
                report["spaces"].setdefault(name, {})[f"{strategy_name}|{source}"] = {
                    "tau": tau, "top1_by_evals_mean": by_n.mean(0).tolist(), "best_of_topk_mean": by_k.mean(0).tolist(),
                    "seconds": time.perf_counter() - start,
                }
                print(lines[-1], flush=True)
        report["spaces"].setdefault(name, {})["random_trainings"] = {str(k): random_trainings(truth, bench.higher_is_better, k) for k in range(1, max(ks) + 1)}
        plot(curves, truth, bench, budget, max(ks), out / f"compare_{name}.png")
        lines.append("")
    table = "\n".join(lines)
    (out / "compare_strategies.md").write_text(table + "\n")
    (out / "compare_strategies.json").write_text(json.dumps(report, indent=1))
    print(table)


def plot(curves, truth, bench, budget, kmax, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    for (strategy, source), (by_n, by_k) in curves.items():
        label = f"{strategy} / {source}"
        axes[0].plot(range(1, budget + 1), by_n.mean(0), label=label)
        axes[1].plot(range(1, kmax + 1), by_k.mean(0), marker=".", label=label)
    ks = range(1, kmax + 1)
    axes[1].plot(ks, [random_trainings(truth, bench.higher_is_better, k, 1000) for k in ks], "k--", lw=2, label="random trainings")
    axes[0].set(xlabel="proxy evaluations", ylabel=f"true {bench.target} of the returned architecture (1 training)",
                title="search quality vs proxy evaluations")
    axes[1].set(xlabel="benchmark queries (trainings) of the top-k", ylabel=f"best true {bench.target}",
                title=f"full search ({budget} evaluations): top-k trained vs random")
    axes[1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
