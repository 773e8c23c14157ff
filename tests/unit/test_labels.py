"""User labels (space.benchmark.labels): validated line by line, unknown ids counted, the pool replaced."""
import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from tfnas.app import run
from tfnas.errors import ConfigError
from tfnas.labels import load_labels

from apprun import TINY

ROOT = Path(__file__).resolve().parents[2]


def labelled_ids(space, n):
    return [arch_id for arch_id, _ in space.benchmark().pool()[:n]]


def write(path, text):
    path.write_text(text)
    return path


def test_ids_hashes_and_recipes_make_the_pool_and_unknown_ids_are_counted(tiny_rnn_space, tmp_path):
    ids = labelled_ids(tiny_rnn_space, 3)
    pool = dict(tiny_rnn_space.benchmark().pool())
    unlabelled = next(a for i, a in tiny_rnn_space.benchmark().architectures() if tiny_rnn_space.benchmark().query_id(i) is None)
    recipe = json.dumps(tiny_rnn_space.to_json(unlabelled)).replace('"', '""')
    text = ("model_id,target,hash,recipe\n"
            f"{ids[0]},5.5,,\n"
            f"{ids[1]},4.5,,\n"
            f",6.0,{tiny_rnn_space.hash(pool[ids[2]])},\n"
            "999999999,4.0,,\n"
            f"new1,4.9,,\"{recipe}\"\n"
            ",3.0,0000deadbeef,\n")
    bench = load_labels(write(tmp_path / "labels.csv", text), tiny_rnn_space)
    assert bench.higher_is_better is False and bench.target == "target"
    assert len(bench.pool()) == 4
    assert bench.query(pool[ids[1]]) == {"id": ids[1], "target": 4.5}
    assert bench.query(pool[ids[2]])["target"] == 6.0
    assert bench.query(unlabelled) == {"id": "new1", "target": 4.9}
    assert bench.report.unknown == [(5, "999999999"), (7, "0000deadbeef")]
    assert "2 not in the space" in bench.report.summary()


def test_rows_that_do_not_parse_are_refused_with_their_line_numbers(tiny_rnn_space, tmp_path):
    ids = labelled_ids(tiny_rnn_space, 2)
    text = ("model_id,target,recipe\n"
            f"{ids[0]},5.5,\n"
            f"{ids[1]},not-a-number,\n"
            "x,4.0,{bad json\n"
            "y,4.0,\"{\"\"h_new_0\"\": {\"\"op\"\": \"\"linear\"\", \"\"input\"\": [\"\"h_new_0\"\"]}}\"\n"
            f"{ids[1]},nan,\n")
    with pytest.raises(ConfigError) as err:
        load_labels(write(tmp_path / "bad.csv", text), tiny_rnn_space)
    message = str(err.value)
    assert err.value.field == "space.benchmark.labels"
    for line in (3, 4, 5, 6):
        assert f"line {line}:" in message
    assert "line 2:" not in message and "4 row(s) refused" in message


def test_a_file_without_the_columns_is_refused(tiny_rnn_space, tmp_path):
    with pytest.raises(ConfigError, match="header must have a `target` column"):
        load_labels(write(tmp_path / "x.csv", "id,loss\n1,2\n"), tiny_rnn_space)
    with pytest.raises(ConfigError, match="no labels file"):
        load_labels(tmp_path / "missing.csv", tiny_rnn_space)


def test_a_search_ranks_its_shortlist_by_the_users_labels(tiny_rnn_space, tmp_path):
    ids = labelled_ids(tiny_rnn_space, 6)
    # reverse the benchmark's order: the user's corpus disagrees with PTB
    text = "model_id,target\n" + "".join(f"{i},{10 * n}\n" for n, i in enumerate(ids))
    labels = write(tmp_path / "labels.csv", text)
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[*TINY, f"space.benchmark.labels={labels}", "space.benchmark.higher_is_better=true",
                                           "search.pool=benchmark", "search.budget=6", "train=benchmark"])
    run(cfg, tmp_path / "run")
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert [e["benchmark_id"] for e in best] == list(reversed(ids))  # every pool member, best (highest) first
    assert best[0]["benchmark_target"] == 50.0
