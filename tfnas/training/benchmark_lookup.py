"""train=benchmark: the cheap stand-in for training, looking candidates up in the space's tabular benchmark."""
from __future__ import annotations

from tfnas.errors import ConfigError
from tfnas.training.base import ShortlistStage, cut, positive_budget
from tfnas.training.sequential import final_order, spend
from tfnas.training.table import format_table, write_shortlist


class BenchmarkLookup(ShortlistStage):
    """Rank the shortlist by the benchmark's trained result where it has one; list the others after.

    With `budget=K` (train.budget) it instead looks K candidates up one at a time, each the best untrained
    one under the predictor refitted on the lookups before it (tfnas/training/sequential.py).
    Entries gain `in_benchmark`, `benchmark_id` and `benchmark_<field>` for every field of the
    benchmark's answer (for NAS-Bench-NLP: test_loss and perplexity).
    """

    name = "benchmark"

    def __init__(self, top_k: int | None = None, budget: int | None = None):
        if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
            raise ConfigError("train.top_k", f"must be a positive integer or null (the whole shortlist), got {top_k!r}")
        self.top_k = top_k
        self.trainings = positive_budget(budget)

    @staticmethod
    def _bench(space):
        bench = space.benchmark()
        if bench is None:
            raise ConfigError("train", f"space {space.name!r} has no tabular benchmark; use train=short or train=none")
        return bench

    def look_up(self, space, entry, tracker) -> float | None:
        """Fill `entry` with the benchmark's answer (in place), record it, and return the target (None if not listed)."""
        bench = self._bench(space)
        answer = bench.query(space.from_json(entry["arch"]))
        entry["search_rank"] = entry.get("search_rank", entry.get("rank"))
        entry["in_benchmark"] = answer is not None
        if answer is not None:
            entry["benchmark_id"] = answer.pop("id")
            entry.update({f"benchmark_{k}": v for k, v in answer.items()})
        entry["train_status"] = "ok" if answer is not None else "not in benchmark"
        tracker.log_trained(entry, self.name, f"benchmark_{bench.target}", bench.higher_is_better)
        return None if answer is None else float(entry[f"benchmark_{bench.target}"])

    def train_one(self, space, entry, run_dir, device, seed, tracker) -> float | None:
        """One training of the sequential loop: here a lookup."""
        return self.look_up(space, entry, tracker)

    def run(self, space, shortlist, run_dir, device, seed, tracker, context=None):
        bench = self._bench(space)
        target = f"benchmark_{bench.target}"
        if self.trainings:
            entries = [dict(e) for e in shortlist]
            trained = spend(space, entries, context, self.trainings,
                            lambda e: self.train_one(space, e, run_dir, device, seed, tracker),
                            self.name, target, bench.higher_is_better)
            final = cut(final_order(entries, trained, context, space, bench.higher_is_better), context, len(trained))
            write_shortlist(run_dir, final)
            print(f"tfnas: {len(trained)} benchmark lookup(s), each chosen by the refitted predictor"
                  + (f"; {context.predictor.describe()}" if context is not None and context.predictor is not None
                     and context.predictor.describe() else ""), flush=True)
            print(format_table(trained, ["train_order", "hash", "score", target]), flush=True)
            return final
        chosen = cut([dict(e) for e in shortlist], context)
        chosen = chosen if self.top_k is None else chosen[: self.top_k]
        found, missing = [], []
        for entry in chosen:
            entry["search_rank"] = entry["rank"]
            (found if self.look_up(space, entry, tracker) is not None else missing).append(entry)
        corpus = getattr(space, "corpus_path", None)
        if corpus:  # allowed (how a proxy on your text ranks labelled architectures is worth seeing), but say it
            print(f"tfnas: note: {bench.name}'s labels come from its own training data, not from space.corpus={corpus}; "
                  "they rank architectures on that benchmark, not on your corpus", flush=True)
        found.sort(key=lambda e: e[target], reverse=bench.higher_is_better)
        final = found + missing
        for rank, entry in enumerate(final, 1):
            entry["rank"] = rank
        write_shortlist(run_dir, final)
        print(f"tfnas: {len(found)} of {len(chosen)} shortlisted architectures are in {bench.name} "
              f"(ranked by {bench.target}, {'higher' if bench.higher_is_better else 'lower'} is better)", flush=True)
        if missing:
            print(f"tfnas: not in {bench.name}: {', '.join(e['hash'][:12] for e in missing)}", flush=True)
        if found:
            print(format_table(found, ["rank", "search_rank", "hash", "score", "benchmark_id", target]), flush=True)
        return final
