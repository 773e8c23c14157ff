"""The LSTM-like cell the RNN probe tests use, and the jacobian computed by plain autograd."""
LSTM_LIKE = {
    "i": {"op": "linear", "input": ["x", "h_prev_0"]},
    "i_act": {"op": "activation_tanh", "input": ["i"]},
    "f": {"op": "linear", "input": ["h_prev_1", "x", "i_act"]},
    "f_act": {"op": "activation_leaky_relu", "input": ["f"]},
    "c": {"op": "blend", "input": ["f_act", "h_prev_1", "i_act"]},
    "h_new_1": {"op": "elementwise_sum", "input": ["c", "f_act"]},
    "h_new_0": {"op": "activation_tanh", "input": ["h_new_1"]},
}


def reference_jacobian(model, tokens, noise=None):
    embedded = model.embed(tokens).detach()
    if noise is not None:
        embedded = embedded + noise
    embedded.requires_grad_(True)
    outputs, _ = model.run_layers(embedded)
    outputs[-1].sum().backward()
    return embedded.grad.transpose(0, 1).reshape(tokens.size(1), -1)
