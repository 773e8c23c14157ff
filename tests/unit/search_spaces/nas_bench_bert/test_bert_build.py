"""NAS-Bench-BERT encoders: the embeddings built once (the projection once per width), each parameter from its own
seeded stream with the Hugging Face initialisation's distributions, a fresh full build equal to the shared one."""
import numpy as np
import torch

from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace


def arch(space, hidden, op="SA", param="WMA"):
    layer = dict(operation_type=op, operation_parameter=param, num_operation_heads=2, feed_forward_dimension=512, num_feed_forward=1)
    return space.from_json({"hidden_size": hidden, "nas_config": {"encoder_layers": [layer, {**layer, "operation_type": "LT",
                                                                                             "operation_parameter": "DCT"}]}})


def test_the_builder_equals_a_fresh_build_and_shares_the_embeddings():
    space = NasBenchBertSpace(batch_size=2, seq_len=16)
    archs = [arch(space, 128), arch(space, 256), arch(space, 256, "DSC", "5"), space.sample(np.random.default_rng(0))]
    build = space.model_builder(5, "cpu")
    built = [build(a) for a in archs]
    for a, model in zip(archs, built):
        fresh = space.build_model(a, seed=5)
        assert model.state_dict().keys() == fresh.state_dict().keys()
        assert all(torch.equal(x, y) for x, y in zip(model.state_dict().values(), fresh.state_dict().values()))
        assert model.embeddings.word_embeddings is built[0].embeddings.word_embeddings
    assert built[1].embeddings is built[2].embeddings and built[0].embeddings is not built[1].embeddings  # per width


def test_weights_follow_the_hugging_face_initialisation():
    space = NasBenchBertSpace(batch_size=2, seq_len=16)
    state = torch.get_rng_state()
    model = space.build_model(arch(space, 256), seed=0)
    assert torch.equal(state, torch.get_rng_state())  # the global generator is left alone
    words = model.embeddings.word_embeddings.weight
    assert abs(float(words.std()) - 0.02) < 1e-3 and words[model.config.pad_token_id].abs().max() == 0
    layer = model.layers[0]
    assert abs(float(layer.mixing.wma.std()) - 0.02) < 2e-3 and abs(float(layer.mixing.query.weight.std()) - 0.02) < 1e-3
    assert layer.mixing.query.bias.abs().max() == 0 and torch.equal(layer.mixing_norm.weight, torch.ones(256))
