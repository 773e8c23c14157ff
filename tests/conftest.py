"""Shared fixtures: tiny model sizes keep every test fast on two CPU cores."""
import pytest
import torch

torch.set_num_threads(1)

TINY_MODEL = {"emsize": 16, "nhid": 24, "nlayers": 3}


@pytest.fixture
def tiny_rnn_space():
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace

    return NasBenchNLPSpace(model=TINY_MODEL, batch_size=8, seq_len=12)
