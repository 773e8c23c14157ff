"""The language model around a cell, on tiny sizes."""
import torch

from tfnas.search_spaces.nas_bench_nlp import RecipeCell, Recipe, RNNLanguageModel, load_recipes

GRU = load_recipes()[1000002]


def reference_gru_step(cell: RecipeCell, x, h):
    """The GRU recipe evaluated by hand from the cell's own weights."""
    w, b = cell.weights, cell.biases
    r = torch.sigmoid(x @ w["r__0"].t() + h @ w["r__1"].t() + b["r"])
    z = torch.sigmoid(x @ w["z__0"].t() + h @ w["z__1"].t() + b["z"])
    rh = r * h
    h_tilde = torch.tanh(x @ w["h_tilde__0"].t() + rh @ w["h_tilde__1"].t() + b["h_tilde"])
    return z * h + (1 - z) * h_tilde


def test_cell_matches_a_hand_written_gru():
    torch.manual_seed(0)
    cell = RecipeCell(GRU, input_size=5, hidden_size=7)
    x = torch.randn(4, 3, 5)
    out, (last,) = cell(x)
    h = torch.zeros(3, 7)
    for t in range(4):
        h = reference_gru_step(cell, x[t], h)
        torch.testing.assert_close(out[t], h)
    torch.testing.assert_close(last, h)


def test_language_model_shapes_sizes_and_init():
    torch.manual_seed(0)
    lstm = load_recipes()[1000001]
    model = RNNLanguageModel(lstm, vocab_size=50, emsize=8, nhid=12, nlayers=3).eval()
    tokens = torch.randint(0, 50, (6, 4))
    logits, state = model(tokens)
    assert logits.shape == (6, 4, 50)
    assert [cell.hidden_size for cell in model.cells] == [12, 12, 8]  # last layer = emsize, tied decoder
    assert model.decoder.weight is model.encoder.weight
    assert len(state[0]) == 2  # LSTM carries (h, c)
    assert model.encoder.weight.abs().max() <= 0.1 and model.decoder.bias.abs().max() == 0
    bound = 1 / 12**0.5
    assert all(p.abs().max() <= bound for p in model.cells[0].parameters())


def test_only_the_cell_differs_between_architectures():
    rnn = Recipe.from_json({"f": {"op": "linear", "input": ["x", "h_prev_0"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}})
    sizes = {}
    for name, recipe in (("rnn", rnn), ("lstm", load_recipes()[1000001])):
        model = RNNLanguageModel(recipe, vocab_size=50, emsize=8, nhid=12)
        sizes[name] = {n: p.numel() for n, p in model.named_parameters() if not n.startswith("cells")}
    assert sizes["rnn"] == sizes["lstm"]


def test_dropouts_only_in_training_mode():
    torch.manual_seed(0)
    model = RNNLanguageModel(GRU, vocab_size=30, emsize=8, nhid=8, dropouti=0.5, wdrop=0.5)
    tokens = torch.randint(0, 30, (5, 2))
    model.eval()
    a, _ = model(tokens)
    b, _ = model(tokens)
    torch.testing.assert_close(a, b)
    model.train()
    c, _ = model(tokens)
    assert not torch.allclose(a, c)


def test_layer_prefix_forward_equals_full_forward():
    torch.manual_seed(0)
    model = RNNLanguageModel(GRU, vocab_size=30, emsize=8, nhid=10).eval()
    tokens = torch.randint(0, 30, (5, 3))
    with torch.no_grad():
        full, _ = model.run_layers(model.embed(tokens))
        first, _ = model.run_layers(model.embed(tokens), upto=1)
    assert len(first) == 1
    torch.testing.assert_close(first[0], full[0])


def test_linear_reading_x_twice_runs_like_one_summed_weight():
    recipe = Recipe.from_json(
        {"f": {"op": "linear", "input": ["x", "h_prev_0", "x"]}, "h_new_0": {"op": "activation_tanh", "input": ["f"]}}
    )
    torch.manual_seed(0)
    cell = RecipeCell(recipe, input_size=3, hidden_size=4)
    x = torch.randn(2, 5, 3)
    out, _ = cell(x)
    w, b = cell.weights, cell.biases["f"]
    expected = torch.tanh(x[0] @ (w["f__0"] + w["f__2"]).t() + b)
    torch.testing.assert_close(out[0], expected)
