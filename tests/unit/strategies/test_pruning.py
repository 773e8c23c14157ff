"""Qualitative pruning rules: safe parsing, clear refusals, and searches that stay inside the rule."""
import numpy as np
import pytest

from tfnas.pool import benchmark_pool
from tfnas.strategies.evolution import RegularizedEvolution
from tfnas.strategies.pruned import PrunedSearch
from tfnas.strategies.random_search import RandomSearch
from tfnas.errors import ConfigError
from tfnas.rules import Rule


def test_rules_parse_and_apply():
    rule = Rule("num_layers == 4 and hidden_size >= 256")
    assert rule.names == ["hidden_size", "num_layers"]
    assert rule({"num_layers": 4, "hidden_size": 256})
    assert not rule({"num_layers": 4, "hidden_size": 128})
    assert not rule({"num_layers": 2, "hidden_size": 512})
    assert Rule("h in (1, 2) and not n > 8 or 2 * n == 30")({"h": 3, "n": 15})
    assert Rule("1 < n <= 3")({"n": 3}) and not Rule("1 < n <= 3")({"n": 1})
    assert Rule("kind != 'gru'")({"kind": "lstm"})


@pytest.mark.parametrize(
    "text, message",
    [
        ("__import__('os').system('true')", "Call"),
        ("num_layers.real == 4", "Attribute"),
        ("[x for x in y]", "ListComp"),
        ("num_layers = 4", "cannot parse"),
        ("", "empty"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(text, message):
    with pytest.raises(ConfigError, match=message) as info:
        Rule(text)
    assert info.value.field == "strategy.rule"


def test_unknown_fields_are_named_with_the_valid_ones(tiny_rnn_space):
    rule = Rule("num_layers == 4 and num_nodes < 9")
    fields = tiny_rnn_space.describe(tiny_rnn_space.sample(np.random.default_rng(0)))
    with pytest.raises(ConfigError, match=r"unknown field\(s\) num_layers; the fields of space 'rnn' are: .*hidden_tuple_size"):
        rule.check_fields(fields, "rnn")


def test_pruned_search_stays_inside_the_rule(tiny_rnn_space):
    strategy = PrunedSearch("hidden_tuple_size == 1 and num_nodes <= 8", inner=RegularizedEvolution(population_size=4, sample_size=2))
    strategy.bind(tiny_rnn_space, np.random.default_rng(0))
    for i in range(12):
        candidate = strategy.ask()
        fields = tiny_rnn_space.describe(candidate.arch)
        assert fields["hidden_tuple_size"] == 1 and fields["num_nodes"] <= 8
        strategy.tell(candidate, float(i))


def test_plain_ranking_enumerates_the_pruned_benchmark_pool(tiny_rnn_space):
    pool = benchmark_pool(tiny_rnn_space)
    strategy = PrunedSearch("hidden_tuple_size == 3", inner=None)
    strategy.bind(pool, np.random.default_rng(0))
    expected = {pool.hash(a) for a in pool.archs if tiny_rnn_space.describe(a)["hidden_tuple_size"] == 3}
    assert 0 < strategy.size == len(expected) < len(pool)
    seen = {pool.hash(strategy.ask().arch) for _ in range(len(expected))}
    assert seen == expected
    with pytest.raises(StopIteration):
        strategy.ask()


def test_rule_errors_at_bind(tiny_rnn_space):
    with pytest.raises(ConfigError, match="unknown field"):
        PrunedSearch("num_layers == 4", inner=RandomSearch()).bind(tiny_rnn_space, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="keeps none"):
        PrunedSearch("num_nodes > 1000", inner=None).bind(benchmark_pool(tiny_rnn_space), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="needs a finite pool"):
        PrunedSearch("num_nodes > 2", inner=None).bind(tiny_rnn_space, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="supports no pruning rule"):
        PrunedSearch("auto", inner=RandomSearch()).bind(tiny_rnn_space, np.random.default_rng(0))


def test_rule_auto_calls_the_analysis_hook(tiny_rnn_space, monkeypatch):
    import sys
    import types

    name = "tfnas.search_spaces.nas_bench_nlp.fake_analysis"  # analyses live in a registered space's package
    module = types.ModuleType(name)
    module.derive = lambda space: "hidden_tuple_size == 2"
    monkeypatch.setitem(sys.modules, name, module)
    strategy = PrunedSearch("auto", inner=RandomSearch(), analysis=f"{name}:derive")
    strategy.bind(tiny_rnn_space, np.random.default_rng(0))
    assert strategy.rule.text == "hidden_tuple_size == 2"
    assert all(tiny_rnn_space.describe(strategy.ask().arch)["hidden_tuple_size"] == 2 for _ in range(5))


def test_rule_auto_derives_the_papers_rule_from_nas_bench_bert():
    from tfnas.search_spaces.nas_bench_bert.space import NasBenchBertSpace

    space = NasBenchBertSpace()
    strategy = PrunedSearch("auto", inner=RandomSearch())
    strategy.bind(space, np.random.default_rng(0))
    assert strategy.rule.text == "num_layers == 4 and hidden_size == 256"
    for _ in range(5):
        fields = space.describe(strategy.ask().arch)
        assert (fields["num_layers"], fields["hidden_size"]) == (4, 256)
