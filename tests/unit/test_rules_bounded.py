"""Rules are bounded: constants out of range are refused at parse time, arithmetic errors name the rule,
strategy.analysis imports only trusted code, and any generated rule parses fast or is refused."""
import sys
import time
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfnas.errors import ConfigError
from tfnas.rules import Rule
from tfnas.strategies.pruned import PrunedSearch
from tfnas.strategies.random_search import RandomSearch

FIELDS = {"hidden_tuple_size": 2, "num_nodes": 7, "num_linear": 3, "num_blend": 0, "num_elementwise": 2}


@pytest.mark.parametrize("text", ['10**10**10 > 1', '"a"*10**9 == "b"', '(1, 2) * 10**6 == (1,)',
                                  '"%999999999d" % 1 == ""', "num_nodes / 0 > 1", "99999999999999999999 > num_nodes"])
def test_rules_out_of_bounds_are_refused_when_parsed(text):
    start = time.process_time()
    with pytest.raises(ConfigError, match="strategy.rule: rule"):
        Rule(text)
    assert time.process_time() - start < 0.5


@pytest.mark.parametrize("text, why", [
    ("num_nodes / (num_nodes - 7) > 1", "divides by zero"),
    ("num_nodes < 'a'", "mixes values"),
    ("num_nodes ** (num_nodes * 10) > 1", "exponent above"),
    ("'ab' * num_nodes * num_nodes * num_nodes * num_nodes > 'a'", "repetition longer"),
])
def test_rule_errors_while_evaluating_are_config_errors_naming_the_rule(text, why):
    with pytest.raises(ConfigError, match=why) as err:
        Rule(text)(FIELDS)
    assert text[:20] in str(err.value)


def test_pruned_search_finds_a_type_error_when_it_binds(tiny_rnn_space):
    with pytest.raises(ConfigError, match="mixes values"):
        PrunedSearch("num_nodes < 'a'", inner=RandomSearch()).bind(tiny_rnn_space, np.random.default_rng(0))


def test_analysis_imports_only_registered_spaces_or_entry_points(tiny_rnn_space, monkeypatch):
    module = types.ModuleType("outside_module")
    module.derive = lambda space: "hidden_tuple_size == 1"
    monkeypatch.setitem(sys.modules, "outside_module", module)
    for analysis in ("outside_module:derive", "os:system", "this:s"):
        with pytest.raises(ConfigError, match="strategy.analysis: .* is not a known analysis"):
            PrunedSearch("auto", inner=RandomSearch(), analysis=analysis).bind(tiny_rnn_space, np.random.default_rng(0))


def test_this_module_is_never_imported(tiny_rnn_space):
    sys.modules.pop("this", None)
    with pytest.raises(ConfigError):
        PrunedSearch("auto", inner=RandomSearch(), analysis="this:s").bind(tiny_rnn_space, np.random.default_rng(0))
    assert "this" not in sys.modules


# -- property: every rule parses and evaluates in bounded time, or is a ConfigError ----------------
names = st.sampled_from(sorted(FIELDS))
atoms = st.one_of(
    names,
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text("ab%d", max_size=5).map(repr),
)


def _combine(children):
    binary = st.sampled_from(["+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"])
    return st.one_of(
        st.tuples(children, binary, children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["not ", "-", "+"]), children).map(lambda t: f"({t[0]}{t[1]})"),
        st.lists(children, max_size=3).map(lambda xs: "(" + ", ".join(xs) + ",)"),
    )


rules = st.recursive(atoms, _combine, max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules)
def test_generated_rules_parse_and_evaluate_fast_or_are_refused(text):
    start = time.process_time()
    try:
        rule = Rule(text)
        for fields in (FIELDS, {**FIELDS, "num_nodes": 0}, {**FIELDS, "num_blend": 10**6}):
            rule(fields)
    except ConfigError:
        return
    finally:
        assert time.process_time() - start < 0.03  # CPU time of parse + 3 architectures: < 10 ms each
