"""The product of the clean and noised jacobian scores."""
import math

import pytest

from tfnas.metrics.more_noised_jacobian import MoreNoisedJacobian
from tfnas.metrics.scores import cosine_score
from tfnas.probe import JACOBIAN_NOISE
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


def test_the_product_of_the_clean_and_noised_scores(lstm_like):
    _, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"jacobian", JACOBIAN_NOISE.need(10.0), JACOBIAN_NOISE.need(0.1), JACOBIAN_NOISE.need(100.0)})
    product = MoreNoisedJacobian(score="cosine").compute(probe)
    rows = [probe.jacobian_rows()] + [probe.noised_jacobian_rows(a) for a in (0.1, 10.0, 100.0)]
    assert product == pytest.approx(math.prod(cosine_score(r) for r in rows))
    assert MoreNoisedJacobian(score="cosine").key == "more_noised_jacobian_cosine" and not MoreNoisedJacobian().higher_is_better
