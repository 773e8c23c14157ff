"""The rank average: percentiles in a reference, any registered metric as a component, the space's reference by default."""
import math

import pytest

from tiny_lm import SIMPLE
from tfnas.errors import ConfigError
from tfnas.metrics import METRICS, Scorer
from tfnas.metrics.rank_average import RankAverage
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe


def test_rank_average_uses_percentiles_in_the_reference():
    reference = [{"params": str(v), "hidden_saliency": str(v)} for v in (1, 2, 3, 4)]
    metric = RankAverage(components=[{"name": "params", "weight": 3}, {"name": "hidden_saliency", "weight": 1}],
                         reference=reference)
    # params 3 (higher is better): 2 below + half a tie -> 2.5/4; hidden_saliency 3 (lower is better): 1 better -> 1.5/4
    assert metric.combine({"params": 3.0, "hidden_saliency": 3.0}) == pytest.approx((3 * 2.5 / 4 + 1.5 / 4) / 4)
    assert metric.combine({"params": math.nan, "hidden_saliency": 0.5}) == pytest.approx(1 / 4)
    assert metric.needs() == {"params", "hidden_saliency"}


def test_rank_average_accepts_a_zoo_proxy(tiny_rnn_space):
    rows = [{"snip": "1.0", "hidden_cov": "-5"}, {"snip": "3.0", "hidden_cov": "-1"}]
    metric = METRICS.get("rank_average")(components=["snip", "hidden_cov"], reference=rows)
    bert = NasBenchBertSpace()
    METRICS.get("rank_average")(components=["snip", "zen"], reference=rows).check_space(bert)  # where its parts apply
    with pytest.raises(ConfigError):
        metric.check_space(bert)
    value = Scorer(tiny_rnn_space, [metric])(Recipe.from_json(SIMPLE)).scores["rank_average"]
    assert 0.0 <= value <= 1.0


def test_the_default_reference_is_the_one_the_space_ships(tiny_rnn_space):
    metric = RankAverage()
    metric.check_space(tiny_rnn_space)
    assert str(metric.reference) == str(tiny_rnn_space.benchmark().reference_scores())
    assert set(metric.reference_values) == {"hidden_cov", "jacobian_cosine", "activation_distance", "hidden_saliency"}
    bert_only = RankAverage(components=["params"])
    with pytest.raises(ConfigError, match="metric.reference: space 'bert' ships no reference table"):
        bert_only.check_space(NasBenchBertSpace())
