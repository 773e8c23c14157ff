"""The pruned stages' bookkeeping: each entrant's trial in the trained study, the full trainings of the
finalists, and the final ranking."""
from __future__ import annotations

import math
from typing import Any

from tfnas.training.base import cut
from tfnas.training.rungs import Outcome, Schedule, ranked


class RungRecorder:
    """Writes each entrant's rungs into `<study>-trained-<stage>` as they happen; on a restart, reads back what an
    earlier run recorded (`recorded`) and replays it without a new trial for candidates whose trial ended."""

    def __init__(self, context, stage: str, entries: dict[str, dict[str, Any]]):
        self.study = context.trained.study(stage, "eval_loss", False)
        closed = self.study.close_interrupted()
        self.entries = entries
        self.recorded = {k: v for k, v in self.study.recorded().items() if k in entries}
        self.done = set(self.study.finished()) & set(entries)
        self.trials: dict[str, Any] = {}
        if self.recorded:
            print(f"tfnas: {stage}: {sum(len(v) for v in self.recorded.values())} recorded rung(s) of {len(self.recorded)} "
                  f"candidate(s) are reused" + (f"; {len(closed)} interrupted trial(s) continue in new trials" if closed else ""),
                  flush=True)

    def notify(self, key: str, outcome: Outcome, event: str) -> None:
        if key in self.done:
            return  # its trial ended in an earlier run: the decisions replay from the record
        if event == "begin":
            self.trials[key] = self.study.begin(self.entries[key])
        elif event == "rung":
            self.study.report(self.trials[key], outcome.loss, outcome.steps)
        elif event == "end":
            self.study.end(self.trials.pop(key), result_entry(self.entries[key], outcome), outcome.status)


class FinalsRecorder:
    """The finalists' full results, in `<study>-trained-<stage>-full` (one trial each)."""

    def __init__(self, context, stage: str):
        self.trained, self.stage = (context.trained if context is not None else None), f"{stage}-full"

    def record(self, entry: dict[str, Any], higher_is_better: bool) -> None:
        if self.trained is not None:
            self.trained.log_trained(entry, self.stage, "full_result", higher_is_better)


def result_entry(entry: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    return {**entry, "eval_loss": outcome.loss if math.isfinite(outcome.loss) else None, "train_steps": outcome.steps,
            "rung_results": [outcome.losses[s] for s in sorted(outcome.losses)], "train_status": outcome.status}


def train_finals(stage, space, schedule: Schedule, entries: dict[str, dict], source, tracker, recorder) -> dict[str, dict]:
    """Each finalist trained in full: looked up in the space's benchmark (full=auto when listed, or benchmark) or
    trained on to full_steps (full=train, or auto when not listed). hash -> {full_result, full_mode, higher_is_better}."""
    results = {}
    bench = space.benchmark() if stage.full in ("auto", "benchmark") else None
    if stage.full == "benchmark" and bench is None:
        from tfnas.errors import ConfigError

        raise ConfigError("train.full", f"space {space.name!r} has no tabular benchmark; use train.full=train")
    for outcome in schedule.finals if stage.full != "none" else []:
        entry = entries[outcome.key]
        answer = bench.query(space.from_json(entry["arch"])) if bench is not None else None
        if answer is not None:
            result = {"full_result": float(answer[bench.target]), "full_mode": f"benchmark {bench.target}",
                      "higher_is_better": bench.higher_is_better}
        elif stage.full == "benchmark" or stage.full_steps is None:
            result = {"full_result": None, "full_mode": "not in benchmark" if bench is not None else "no train.full_steps",
                      "higher_is_better": False}
        else:
            loss = source.loss(outcome.key, stage.full_steps)
            result = {"full_result": loss if math.isfinite(loss) else None, "full_mode": f"trained to {stage.full_steps} steps",
                      "higher_is_better": False}
        results[outcome.key] = result
        recorder.record({**entry, "full_result": result["full_result"], "full_mode": result["full_mode"],
                         "train_status": "ok" if result["full_result"] is not None else result["full_mode"]},
                        result["higher_is_better"])
    return results


def assemble(entries: list[dict], schedule: Schedule, finals: dict[str, dict], source, context) -> list[dict]:
    """Finalists by their full result (best first), then every other trained candidate by its deepest rung and the
    loss there, then the untrained ones in the predictor's order."""
    trained = {o.key: o for o in ranked(schedule.outcomes)}
    for entry in entries:
        outcome = trained.get(entry["hash"])
        if outcome is None:
            entry["train_status"] = "not trained"
            continue
        entry.update(result_entry({}, outcome))
        entry.update(trained_result=entry.pop("eval_loss"), rung=len(outcome.losses))
        if entry["hash"] in getattr(source, "errors", {}):
            entry["train_error"] = source.errors[entry["hash"]]
        entry.update(finals.get(entry["hash"], {}))
        entry.pop("higher_is_better", None)
    by_hash = {e["hash"]: e for e in entries}

    def final_key(key: str) -> tuple:
        info = finals[key]
        value = info["full_result"]
        sign = -1.0 if info["higher_is_better"] else 1.0
        return (value is None, info["full_mode"], sign * value if value is not None else 0.0)

    head = [by_hash[k] for k in sorted(finals, key=final_key)]
    middle = [by_hash[o.key] for o in ranked(schedule.outcomes) if o.key not in finals]
    rest = [e for e in entries if e["train_status"] == "not trained"]
    return cut(head + middle + rest, context, len(head) + len(middle))



def rung_agreement(schedule: Schedule, least: int = 5) -> str:
    """Kendall tau between the two deepest consecutive rungs among the candidates trained at both (at least `least`):
    a label-free sign of how stable the short-training ranking is (it says nothing of the full training's); '' if too few."""
    from scipy.stats import kendalltau

    steps = sorted({s for o in schedule.outcomes.values() for s in o.losses})
    for low, high in reversed(list(zip(steps, steps[1:]))):
        both = [o for o in schedule.outcomes.values() if math.isfinite(o.losses.get(low, math.inf))
                and math.isfinite(o.losses.get(high, math.inf))]
        if len(both) >= least:
            tau = kendalltau([o.losses[low] for o in both], [o.losses[high] for o in both])[0]
            return f"rank agreement between rungs {low} and {high} steps: Kendall tau {tau:.2f} over {len(both)} candidates"
    return ""
