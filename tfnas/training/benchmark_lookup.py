"""train=benchmark: the cheap stand-in for training, looking the shortlist up in the space's tabular benchmark."""
from __future__ import annotations

from tfnas.errors import ConfigError
from tfnas.training.base import ShortlistStage
from tfnas.training.table import format_table, write_shortlist


class BenchmarkLookup(ShortlistStage):
    """Rank the shortlist by the benchmark's trained result where it has one; list the others after.

    Entries gain `in_benchmark`, `benchmark_id` and `benchmark_<field>` for every field of the
    benchmark's answer (for NAS-Bench-NLP: test_loss and perplexity).
    """

    name = "benchmark"

    def __init__(self, top_k: int | None = None, budget: int | None = None):
        if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
            raise ConfigError("train.top_k", f"must be a positive integer or null (the whole shortlist), got {top_k!r}")
        if budget is not None and (not isinstance(budget, int) or budget < 1):
            raise ConfigError("train.budget", f"must be a positive integer (benchmark queries a strategy may spend) or null, got {budget!r}")
        self.top_k = top_k
        self.trainings = budget  # train.budget

    # -- one query at a time, for strategies that spend a training budget (strategy=ensemble) --
    def target_higher_is_better(self, space) -> bool:
        return self._bench(space).higher_is_better

    def target_of(self, space, entry, run_dir, device, seed, tracker) -> float | None:
        """The benchmark's target for one candidate (None if it is not in the benchmark)."""
        bench = self._bench(space)
        answer = bench.query(space.from_json(entry["arch"]))
        return None if answer is None else float(answer[bench.target])

    @staticmethod
    def _bench(space):
        bench = space.benchmark()
        if bench is None:
            raise ConfigError("train", f"space {space.name!r} has no tabular benchmark; use train=short or train=none")
        return bench

    def run(self, space, shortlist, run_dir, device, seed, tracker):
        bench = space.benchmark()
        if bench is None:
            raise ConfigError("train", f"space {space.name!r} has no tabular benchmark; use train=short or train=none")
        chosen = shortlist if self.top_k is None else shortlist[: self.top_k]
        found, missing = [], []
        for entry in chosen:
            entry = {**entry, "search_rank": entry["rank"]}
            answer = bench.query(space.from_json(entry["arch"]))
            entry["in_benchmark"] = answer is not None
            if answer is not None:
                entry["benchmark_id"] = answer.pop("id")
                entry.update({f"benchmark_{k}": v for k, v in answer.items()})
                found.append(entry)
            else:
                missing.append(entry)
            tracker.log_trained(entry, self.name, f"benchmark_{bench.target}", bench.higher_is_better)
        corpus = getattr(space, "corpus_path", None)
        if corpus:  # allowed (how a proxy on your text ranks labelled architectures is worth seeing), but say it
            print(f"tfnas: note: {bench.name}'s labels come from its own training data, not from space.corpus={corpus}; "
                  "they rank architectures on that benchmark, not on your corpus", flush=True)
        target = f"benchmark_{bench.target}"
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
