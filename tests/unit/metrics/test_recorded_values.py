"""Every metric config's value on a few architectures of both spaces, at tiny size, equals the value recorded in
`recorded_values.json` exactly (not approximately): refactoring the probe, the passes or the metrics' files must
not move a single bit of any score.

The values are computed as a search computes them: one Scorer per group of metrics that can share a probe (the
two grasp Hessians cannot), over the space's own metric batch. The BERT space uses `backward_target="random"`:
under the paper's "ones" target its gradient metrics are the float rounding of an analytically zero gradient
(see test_bert_metrics.py), not a value worth pinning.

To re-record after a deliberate change of a metric's definition (say which in the commit):
    python tests/unit/metrics/test_recorded_values.py
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
import torch

RECORD = Path(__file__).with_name("recorded_values.json")
TINY_RNN = {"model": {"emsize": 16, "nhid": 24, "nlayers": 3}, "batch_size": 8, "seq_len": 12}
TINY_BERT = {"batch_size": 4, "seq_len": 12, "backward_target": "random"}
SPACES = {"rnn": TINY_RNN, "bert": TINY_BERT}
RNN_IDS = ("1000050", "1006326", "1009703")  # labelled NAS-Bench-NLP cells
BERT_IDS = ("2", "3", "6")  # NAS-Bench-BERT architectures (ids of its pool)


def build_space(name: str):
    from tfnas.search_space import SPACES as REGISTRY

    return REGISTRY.get(name)(**SPACES[name])


def metric_configs(space) -> dict[str, object]:
    """config name -> metric, for every `conf/metric/*.yaml` whose metric applies to `space`."""
    from hydra.utils import instantiate

    from tfnas.config import group_options, load_group_config

    metrics = {name: instantiate(load_group_config("metric", name)) for name in group_options("metric")}
    return {name: m for name, m in metrics.items() if m.applies_to(space)}


def score(space, arch_json: dict) -> dict[str, float]:
    """config name -> value; metrics sharing a Hessian setting share one Scorer (one probe), as in a search."""
    from tfnas.metrics import Scorer

    torch.set_num_threads(1)
    configs = metric_configs(space)
    groups: dict[frozenset, list[str]] = {}
    for name, metric in configs.items():
        groups.setdefault(frozenset(n for n in metric.needs() if n.startswith("lm_hessian")), []).append(name)
    arch = space.from_json(arch_json)
    values = {}
    for names in groups.values():
        unique = list({configs[n].key: configs[n] for n in names}.values())
        evaluation = Scorer(space, unique)(arch)
        values.update({n: evaluation.scores[configs[n].key] for n in names})
    return dict(sorted(values.items()))


def record() -> dict:
    out = {}
    for name, ids in (("rnn", RNN_IDS), ("bert", BERT_IDS)):
        space = build_space(name)
        pool = dict(space.benchmark().pool())
        out[name] = [{"id": i, "arch": space.to_json(pool[i]), "values": score(space, space.to_json(pool[i]))} for i in ids]
    return out


def _exact(value: float):
    return value if math.isfinite(value) else repr(value)  # JSON has no inf/nan; their repr round-trips through float()


@pytest.mark.parametrize("space_name", sorted(SPACES))
def test_every_metric_value_is_unchanged_bit_for_bit(space_name):
    recorded = json.loads(RECORD.read_text(encoding="utf-8"))[space_name]
    space = build_space(space_name)
    for case in recorded:
        values = score(space, case["arch"])
        expected = {k: float(v) for k, v in case["values"].items()}
        assert values.keys() == expected.keys(), f"metric configs of {space_name} changed"
        changed = {k: (expected[k], values[k]) for k in values
                   if not (values[k] == expected[k] or (math.isnan(values[k]) and math.isnan(expected[k])))}
        assert not changed, f"{space_name} architecture {case['id']}: recorded vs now {changed}"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    data = {s: [{**c, "values": {k: _exact(v) for k, v in c["values"].items()}} for c in cases] for s, cases in record().items()}
    RECORD.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RECORD}: " + ", ".join(f"{s}: {len(c)} architectures x {len(c[0]['values'])} metrics" for s, c in data.items()))
