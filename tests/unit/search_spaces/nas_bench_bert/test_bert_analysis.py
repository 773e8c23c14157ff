"""The qualitative analysis finds the paper's pruning rule from the data; the reproduction script streams and resumes."""
import csv

import pytest

from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.analysis import field_effects, ordinal_baseline, pruning_rule



@pytest.fixture(scope="module")
def rows():
    space = NasBenchBertSpace()
    bench = space.benchmark()
    return [{**space.describe(arch), "glue": bench.query_id(i)["glue"]} for i, arch in bench.pool()]


def test_group_means_match_the_spec(rows):
    effects = {e.field: e for e in field_effects(rows)}
    assert effects["num_layers"].counts == {2: 239, 4: 261}
    assert effects["num_layers"].best_value == 4 and effects["num_layers"].p_value < 1e-20
    four_256 = [r["glue"] for r in rows if r["num_layers"] == 4 and r["hidden_size"] == 256]
    assert len(four_256) == 133 and sum(four_256) / 133 == pytest.approx(73.1, abs=0.05)
    assert field_effects(rows)[0].field == "num_layers"


def test_pruning_rule_is_found_from_the_data(rows):
    rule = pruning_rule(rows)
    assert rule.conditions == [("num_layers", 4), ("hidden_size", 256)]
    assert str(rule) == "num_layers == 4 and hidden_size == 256"
    assert (rule.kept, rule.total, rule.top_streak) == (133, 500, 119)
    assert eval(str(rule), {}, rows[0]) == rule.matches(rows[0])


def test_ordinal_depth_width_baseline(rows):
    tau, p = ordinal_baseline(rows)
    assert tau == pytest.approx(0.80, abs=0.01) and p < 1e-50


def test_reproduce_streams_and_resumes(tmp_path, capsys):
    from tfnas.commands import reproduce_bert

    from tfnas.experiments.pool_scoring import score_pool
    from tfnas.experiments.rnn_table import metric_names

    out = tmp_path / "bert.csv"
    # a first run cut after one architecture, by the function the script wraps (the script's own analysis
    # and figures, seconds each, then run once, on the resumed file)
    space = NasBenchBertSpace(preset="fast")
    score_pool("bert", {"preset": "fast"}, metric_names("paper", "bert"),
               [(i, space.to_json(a)) for i, a in space.benchmark().pool()[:1]], out, "id", threads=1, seed=0)
    first = list(csv.DictReader(open(out)))
    assert [r["id"] for r in first] == ["0"] and "head_confidence" in first[0]
    reproduce_bert.main(["--limit", "2", "--out", str(out)])
    second = list(csv.DictReader(open(out)))
    assert [r["id"] for r in second] == ["0", "1"] and second[:1] == first
    printed = capsys.readouterr().out
    assert "[1/1] id 1" in printed and "ordinal" in printed
    assert (tmp_path / "bert_table.csv").exists()
    assert (tmp_path / "bert_figures" / "metrics_vs_glue.png").stat().st_size > 1000
