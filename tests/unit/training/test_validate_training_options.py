"""scripts/validate_training.py: every distinct labelled cell, shared out by shards."""
import importlib.util
from pathlib import Path

import pytest

from tfnas.errors import ConfigError
from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
from tfnas.training.stability import labelled_cells

ROOT = Path(__file__).resolve().parents[3]


def _script():
    spec = importlib.util.spec_from_file_location("validate_training", ROOT / "scripts" / "validate_training.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_all_cells_are_the_distinct_labelled_networks_and_shards_split_them():
    space = NasBenchNLPSpace()
    every = labelled_cells(space, None, seed=0)
    assert len(every) == 215 and len({space.hash(r) for _, r in every}) == 215  # 275 labelled ids, 215 distinct networks
    script = _script()
    assert script.cells_from("all") is None and script.cells_from("12") == 12
    k0, n = script.shard_from("0/2")
    halves = every[k0::n] + every[1::n]
    assert sorted(c for c, _ in halves) == sorted(c for c, _ in every)


@pytest.mark.parametrize("flag, value", [("--cells", "0"), ("--cells", "some"), ("--shard", "2/2"), ("--shard", "1")])
def test_bad_cell_and_shard_options_are_refused(flag, value):
    script = _script()
    with pytest.raises(ConfigError) as err:
        (script.cells_from if flag == "--cells" else script.shard_from)(value)
    assert err.value.field == flag
