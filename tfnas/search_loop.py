"""The search loop: ask the strategy, score the architecture, tell the strategy, record the result."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from tqdm.auto import tqdm

from tfnas.metrics.scoring import Evaluation, Scorer
from tfnas.results import Record

log = logging.getLogger(__name__)


@dataclass
class SearchResult:
    records: list[Record] = field(default_factory=list)
    duplicates: int = 0
    stopped_early: str | None = None

    def best(self, k: int = 1, higher_is_better: bool = True) -> list[Record]:
        return sorted(self.records, key=lambda r: r.score, reverse=higher_is_better)[:k]


def run_search(
    space,
    strategy,
    scorer: Scorer,
    metric_key: str,
    higher_is_better: bool,
    budget: int,
    on_record: Callable[[Record], None] | None = None,
    max_consecutive_duplicates: int = 1000,
    progress: bool | None = None,
) -> SearchResult:
    """Score `budget` distinct architectures proposed by `strategy`.

    An architecture proposed again (same canonical hash) is not re-scored: the strategy is
    told its earlier score and the budget is not charged. The strategy always sees
    higher-is-better scores. `progress=None` shows a bar only on a terminal.
    """
    result = SearchResult()
    cache: dict[str, Evaluation] = {}
    sign = 1.0 if higher_is_better else -1.0
    streak = 0
    bar = tqdm(total=budget, desc="search", unit="arch", disable=None if progress is None else not progress)
    try:
        while len(result.records) < budget:
            candidate = strategy.ask()
            key = space.hash(candidate.arch)
            if key in cache:
                result.duplicates += 1
                streak += 1
                strategy.tell(candidate, sign * cache[key].scores[metric_key])
                if streak >= max_consecutive_duplicates:
                    result.stopped_early = f"the strategy proposed only already-scored architectures {streak} times in a row"
                    log.warning("stopping early: %s", result.stopped_early)
                    break
                continue
            streak = 0
            evaluation = scorer(candidate.arch)
            cache[key] = evaluation
            record = Record(
                index=len(result.records),
                hash=key,
                score=evaluation.scores[metric_key],
                undefined=metric_key in evaluation.undefined,
                seconds=evaluation.seconds,
                metrics=evaluation.scores,
                arch=space.to_json(candidate.arch),
            )
            result.records.append(record)
            if on_record is not None:
                on_record(record)
            strategy.tell(candidate, sign * record.score)
            bar.update(1)
            best = result.best(1, higher_is_better)[0]
            bar.set_postfix(best=f"{best.score:.4g}", refresh=False)
    except KeyboardInterrupt:
        # Everything scored so far is already on disk; end cleanly so the summary is written too.
        result.stopped_early = "interrupted by the user"
        log.warning("interrupted: %d architectures scored and saved", len(result.records))
    finally:
        bar.close()
    return result
