"""The metric suite the reproduction scripts score: the paper's metrics with their normalised variants."""
from tfnas.metrics import METRICS, metrics_for_space
from tfnas.metrics.suite import metric_suite
from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace


def test_suite_covers_the_paper_metrics_with_normalised_variants():
    names = set(metrics_for_space(NasBenchBertSpace()))
    assert {"synaptic_diversity", "synaptic_saliency", "activation_distance", "jacobian_cov", "jacobian_cosine",
            "head_importance", "head_confidence", "head_softmax_confidence", "params",
            "activation_distance_sum", "head_softmax_confidence_maxhead"} <= names
    keys = {m.key for m in metric_suite(NasBenchBertSpace())}
    from tfnas.metrics.zoo import ZOO  # the zero-cost proxy zoo and the aliases are not the paper's suite

    for name in names - {"params", "jacobian_cov", "jacobian_cosine", "synflow", "nwot"} - set(ZOO):
        assert f"{name}_norm" in keys
    assert "hidden_cov" not in names
    assert not METRICS.get("hidden_cov")().applies_to(NasBenchBertSpace())
