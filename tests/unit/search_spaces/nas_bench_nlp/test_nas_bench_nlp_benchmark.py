"""NAS-Bench-NLP tabular benchmark: queries by id and by (renamed) recipe, published table."""
import math

import pytest

from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe


@pytest.fixture(scope="module")
def bench():
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace

    return NasBenchNLPSpace().benchmark()


def renamed(recipe: Recipe) -> Recipe:
    data = recipe.to_json()
    inner = {n: f"zz_{i}" for i, n in enumerate(data) if not n.startswith("h_new_")}
    return Recipe.from_json(
        {inner.get(n, n): {"op": v["op"], "input": [inner.get(i, i) for i in reversed(v["input"])]
                           if v["op"] in ("linear", "elementwise_sum", "elementwise_prod") else
                           [inner.get(i, i) for i in v["input"]]}
         for n, v in data.items()}
    )


def test_pool_is_the_275_labelled_recipes(bench):
    pool = bench.pool()
    assert len(pool) == 275
    assert all(bench.query_id(mid) is not None for mid, _ in pool[:20])


def test_query_by_renamed_recipe_finds_the_same_architecture(bench):
    model_id, recipe = bench.pool()[7]
    other = renamed(recipe)
    assert other.to_json() != recipe.to_json()
    result = bench.query(other)
    assert result["id"] == model_id
    assert result["test_loss"] == pytest.approx(bench.query_id(model_id)["test_loss"])
    assert result["perplexity"] == pytest.approx(math.exp(result["test_loss"]))


def test_query_by_id_gives_loss_and_published_metrics(bench):
    row = bench.query_id("1000004")
    assert row["test_loss"] == pytest.approx(5.070841669)
    assert row["published_hidden_cov"] == pytest.approx(-5275956.35)
    assert row["published_activation_distance"] == pytest.approx(431.4625154)
    assert bench.query_id(999) is None


def test_published_table_covers_all_8794_architectures(bench):
    table = bench.published_table()
    assert len(table) == 8794
    assert all(math.isfinite(r["published_hidden_cov"]) for r in table.values())


def test_recipe_without_a_trained_loss_is_not_found(bench):
    from tfnas.search_spaces.nas_bench_nlp.space import load_recipes

    unlabelled = [r for mid, r in load_recipes().items() if bench.query_id(mid) is None]
    assert unlabelled
    assert bench.query(unlabelled[0]) is None
