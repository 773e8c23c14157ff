"""Shared fixtures: tiny model sizes keep every test fast on two CPU cores."""
import pytest
import torch

torch.set_num_threads(1)

TINY_MODEL = {"emsize": 16, "nhid": 24, "nlayers": 3}


@pytest.fixture
def tiny_rnn_space():
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace

    return NasBenchNLPSpace(model=TINY_MODEL, batch_size=8, seq_len=12)


@pytest.fixture
def lstm_like(tiny_rnn_space):
    """(space, recipe, model, metric batch) of the LSTM-like cell (tests/rnn_reference.py) at tiny size."""
    from rnn_reference import LSTM_LIKE
    from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe

    recipe = Recipe.from_json(LSTM_LIKE)
    model = tiny_rnn_space.build_model(recipe, seed=0).eval()
    return tiny_rnn_space, recipe, model, tiny_rnn_space.metric_batch()


@pytest.fixture(scope="session")
def tiny_lm_values():
    """(model, tokens, every zoo proxy's value) of the one-node RNN of tests/tiny_lm.py, computed once."""
    from tiny_lm import tiny_lm

    return tiny_lm()
