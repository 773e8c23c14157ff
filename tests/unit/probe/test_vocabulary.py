"""The need vocabulary: each kind declared once with its grammar, needs spelled one way, bad arguments refused with
the option to fix, and the kinds a space serves derived from its probe's methods."""
import numpy as np
import pytest

from tfnas.errors import ConfigError
from tfnas.metrics import METRICS, Scorer
from tfnas.probe import (HIDDEN, JACOBIAN_NOISE, LM_CHUNKS, LM_HESSIAN, NEEDS, PARAMS, Probe, arguments, check_needs,
                         need_kind, single_argument)
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.search_spaces.nas_bench_bert.probe import BertProbe
from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe

#: what each space's probe served before the vocabulary had Protocols (the RNN probe's PROVIDES, the BERT probe's KNOWN_NEEDS)
LM = {"lm_grad", "lm_hessian", "lm_fisher", "token_jacobian", "zen", "weights", "flops", "params"}
RNN_SERVES = LM | {"activation_codes", "jacobian", "saliency", "hidden_saliency", "hidden", "jacobian_noise"}
BERT_SERVES = LM | {"activation_codes", "jacobian", "saliency", "diversity", "head_importance", "head_confidence",
                    "softmax_confidence"}


def test_each_probe_serves_the_kinds_whose_protocol_it_implements():
    assert RNNProbe.provides() == RNN_SERVES and NasBenchNLPSpace().provides() == RNN_SERVES
    assert BertProbe.provides() == BERT_SERVES and NasBenchBertSpace().provides() == BERT_SERVES
    assert Probe.provides() == frozenset()  # the base serves nothing
    assert RNN_SERVES | BERT_SERVES == set(NEEDS)  # every declared kind is served somewhere


def test_every_kind_declares_a_protocol_with_methods():
    for name, kind in NEEDS.items():
        assert kind.name == name and kind.methods() and kind.description
    assert HIDDEN.methods() == ("hidden_states",)
    assert set(LM_HESSIAN.methods()) == {"lm_hessian_grads", "layer_weights"}  # the weights the products are of


def test_a_need_has_one_spelling_per_value():
    assert HIDDEN.need(2) == "hidden:2"
    assert JACOBIAN_NOISE.need(10) == JACOBIAN_NOISE.need(10.0) == "jacobian_noise:10.0"
    assert LM_HESSIAN.need(1) == "lm_hessian:1" and PARAMS.need() == "params"
    assert need_kind("jacobian_noise:0.1") == "jacobian_noise"
    assert arguments({"hidden:1", "hidden:3", "jacobian"}, HIDDEN) == {1, 3}
    assert single_argument({"lm_hessian"}, LM_HESSIAN) == 1  # the bare kind is its default
    assert single_argument({"params"}, LM_HESSIAN) is None


@pytest.mark.parametrize("needs, field, message", [
    ({"hidden:x"}, "metric.layer", "must be an integer layer number, got 'x'"),
    ({"jacobian_noise:loud"}, "metric.amplitude", "must be a number, got 'loud'"),
    ({"lm_hessian:3"}, "metric.hessian_minibatches", f"must be an integer in 1..{LM_CHUNKS}"),
    ({"lm_hessian:x"}, "metric.hessian_minibatches", "got 'x'"),
    ({"lm_hessian:1", "lm_hessian:2"}, "metric.hessian_minibatches", "sharing one probe must use one value"),
    ({"params:3"}, "metric", "'params' takes no argument"),
    ({"diversity"}, "metric", "space 'rnn' cannot provide diversity"),
])
def test_a_bad_need_is_refused_naming_the_option(needs, field, message):
    with pytest.raises(ConfigError) as err:
        check_needs(needs, RNNProbe.provides(), "rnn")
    assert err.value.field == field and message in str(err.value)


def test_metric_options_are_checked_by_the_grammar_when_built():
    with pytest.raises(ConfigError, match="metric.hessian_minibatches"):
        METRICS.get("grasp")(hessian_minibatches=3)
    with pytest.raises(ConfigError, match="metric.hessian_minibatches"):
        METRICS.get("grasp")(hessian_minibatches=True)  # a YAML `true` is not the integer 1


def test_a_space_refuses_what_only_it_knows_before_anything_is_scored():
    space = NasBenchNLPSpace(model={"emsize": 8, "nhid": 8, "nlayers": 2}, batch_size=4, seq_len=5)
    with pytest.raises(ConfigError, match="metric.layer: layer 3 does not exist; the model has layers 1..2"):
        Scorer(space, [METRICS.get("hidden_cov")(layer=3)])
    with pytest.raises(ConfigError, match="metric.hessian_minibatches.*one value"):
        Scorer(space, [METRICS.get("grasp")(), METRICS.get("grasp")(hessian_minibatches=2)])
    with pytest.raises(ConfigError, match="hidden_cov' does not apply to space 'bert'"):
        METRICS.get("hidden_cov")().check_space(NasBenchBertSpace())


def test_a_probe_method_of_a_need_not_asked_for_is_refused(tiny_rnn_space):
    recipe = tiny_rnn_space.sample(np.random.default_rng(0))
    probe = tiny_rnn_space.probe(tiny_rnn_space.build_model(recipe, seed=0).eval(), tiny_rnn_space.metric_batch(), {"hidden:1"})
    assert probe.hidden_states(1).shape[-1] == 24
    with pytest.raises(KeyError, match="hidden:2 was not requested"):
        probe.hidden_states(2)
    with pytest.raises(KeyError, match="lm_grad was not requested"):
        probe.lm_grads()
