"""FlexiBERT encoder: every operation's shapes and masking, parameter counts, transforms, save/load."""
import numpy as np
import pytest
import scipy.fft
import torch
from transformers import AutoModel

from tfnas.search_spaces.nas_bench_bert import FlexiBertConfig, FlexiBertModel, NasBenchBertSpace
from tfnas.search_spaces.nas_bench_bert.model import _mix_2d
from tfnas.errors import InvalidArchitecture

TINY = dict(embedding_size=8, vocab_size=50, max_position_embeddings=32)
OPERATIONS = [("SA", "SDP"), ("SA", "WMA"), ("LT", "DFT"), ("LT", "DCT"), ("DSC", 5), ("DSC", 9)]


def layer(op="SA", param="SDP", heads=2, width=12, count=1):
    return dict(operation_type=op, operation_parameter=param, num_operation_heads=heads,
                feed_forward_dimension=width, num_feed_forward=count)


def tiny_model(layers, hidden=16, seed=0):
    torch.manual_seed(seed)
    return FlexiBertModel(FlexiBertConfig(hidden_size=hidden, encoder_layers=layers, **TINY)).eval()


@pytest.mark.parametrize("op, param", OPERATIONS)
def test_operation_shapes_and_masking(op, param):
    model = tiny_model([layer(op, param, heads=4, count=3), layer("SA", "SDP")])
    ids = torch.randint(1, 50, (3, 12))
    mask = torch.ones(3, 12, dtype=torch.long)
    mask[1, 8:] = 0
    mask[2, 3:] = 0
    with torch.no_grad():
        out = model(ids, attention_mask=mask).last_hidden_state
        assert out.shape == (3, 12, 16)
        # real tokens see neither the padding nor its length: same as the unpadded sequence alone
        for row, length in ((1, 8), (2, 3), (0, 12)):
            alone = model(ids[row : row + 1, :length]).last_hidden_state[0]
            torch.testing.assert_close(out[row, :length], alone, atol=1e-5, rtol=1e-4)
        # changing padded token ids changes nothing for real tokens
        other = ids.clone()
        other[2, 3:] = 7
        torch.testing.assert_close(model(other, attention_mask=mask).last_hidden_state[2, :3], out[2, :3])


def test_operations_differ_and_are_built_as_described():
    outs = []
    ids = torch.randint(1, 50, (2, 10))
    for op, param in OPERATIONS:
        model = tiny_model([layer(op, param, heads=2)])
        with torch.no_grad():
            outs.append(model(ids).last_hidden_state)
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            assert not torch.allclose(outs[i], outs[j])
    dsc = tiny_model([layer("DSC", 9, heads=4)]).layers[0].mixing
    assert dsc.key_conv_depthwise.kernel_size == (9,) and dsc.heads == 2
    wma = tiny_model([layer("SA", "WMA", heads=4)]).layers[0].mixing
    assert wma.wma.shape == (4, 4, 4)


def test_linear_transforms_match_fft_and_dct():
    x = torch.randn(2, 9, 3, 4)
    torch.testing.assert_close(_mix_2d("DFT", x, 9).double(), torch.fft.fft2(x.double(), dim=(1, 3), norm="ortho").real,
                               atol=1e-5, rtol=1e-5)
    expected = scipy.fft.dctn(x.double().numpy(), type=2, axes=(1, 3), norm="ortho")
    np.testing.assert_allclose(_mix_2d("DCT", x, 9).numpy(), expected, atol=1e-5)


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_follow_hidden_size_and_feed_forward():
    base = count(tiny_model([layer(width=12, count=1)]))
    wider = count(tiny_model([layer(width=20, count=1)]))
    deeper = count(tiny_model([layer(width=12, count=3)]))
    assert wider - base == (20 - 12) * (16 + 1) + (20 - 12) * 16  # first dense (W, b) + projection W
    assert deeper - base == 2 * (12 * 12 + 12)  # two more width x width dense layers
    assert count(tiny_model([layer()], hidden=32)) > base
    space = NasBenchBertSpace()
    small = space.from_json({"hidden_size": 128, "nas_config": {"encoder_layers": [layer(width=512)] * 2}})
    large = space.from_json({"hidden_size": 256, "nas_config": {"encoder_layers": [layer(width=512)] * 2}})
    n_small, n_large = count(space.build_model(small, seed=0)), count(space.build_model(large, seed=0))
    # ELECTRA-small embeddings: 30,522 x 128 words, 512 positions; no projection at hidden 128
    assert n_small == 30522 * 128 + 512 * 128 + 2 * 128 + 2 * 128 + 2 * (
        4 * (128 * 128 + 128) + 4 * 128 + (128 * 512 + 512) + (512 * 128 + 128))
    assert n_large > n_small


def test_same_seed_same_weights_and_save_load_round_trip(tmp_path):
    layers = [layer("SA", "WMA"), layer("DSC", 5, heads=2, count=3), layer("LT", "DCT")]
    a, b = tiny_model(layers, seed=3), tiny_model(layers, seed=3)
    ids = torch.randint(1, 50, (2, 6))
    with torch.no_grad():
        out = a(ids).last_hidden_state
        torch.testing.assert_close(out, b(ids).last_hidden_state)
    a.save_pretrained(tmp_path)
    loaded = FlexiBertModel.from_pretrained(tmp_path).eval()
    assert loaded.config.encoder_layers == a.config.encoder_layers
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids).last_hidden_state, out)
        torch.testing.assert_close(AutoModel.from_pretrained(tmp_path).eval()(ids).last_hidden_state, out)


def test_config_from_arch_and_errors():
    space = NasBenchBertSpace()
    arch = space.benchmark().pool()[0][1]
    config = FlexiBertConfig.from_arch(arch)
    assert config.hidden_size == 256 and config.num_hidden_layers == 4
    assert config.encoder_layers[1]["operation_parameter"] == "DCT"
    with pytest.raises(InvalidArchitecture, match="num_operation_heads"):
        tiny_model([layer(heads=3)])
    with pytest.raises(InvalidArchitecture, match="encoder_layers"):
        tiny_model([])
