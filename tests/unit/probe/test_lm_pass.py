"""The language-model pass is shared: each proxy has the same value in one probe with every other metric as alone."""
from tiny_lm import SIMPLE
from tfnas.metrics import METRICS, Scorer
from tfnas.metrics.zoo import ZOO
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe


def shared_vs_alone(space, arch, names=ZOO):
    everything = [n for n, cls in METRICS.items() if cls().applies_to(space) and n != "rank_average"]
    together = Scorer(space, [METRICS.get(n)() for n in everything])(arch).scores
    for name in names:
        alone = Scorer(space, [METRICS.get(name)()])(arch).scores[name]
        assert alone == together[name], name


def test_rnn_shared_probe_equals_each_proxy_alone(tiny_rnn_space):
    shared_vs_alone(tiny_rnn_space, Recipe.from_json(SIMPLE), ZOO + ("synflow", "nwot"))


def test_bert_shared_probe_equals_each_proxy_alone():
    """(The aliases are left out on BERT: the paper's ones-target saliency is float rounding noise,
    which moves with the set of weights that get gradients; see test_bert_probe.)"""
    space = NasBenchBertSpace(batch_size=4, seq_len=12)
    arch = min((a for _, a in space.benchmark().pool()), key=lambda a: (a.num_layers, a.hidden_size))
    shared_vs_alone(space, arch)
