"""The NASWOT kernel of activation codes: the fused computation equals the definition, and a probe computes it once."""
import torch

from tfnas.probe.kernels import hamming_kernel
from tfnas.search_spaces.nas_bench_nlp.probe import RNNProbe


def test_fused_hamming_kernel_equals_per_site_sum_across_chunks():
    gen = torch.Generator().manual_seed(1)
    codes = [(torch.rand(5, m, generator=gen) > 0.5).float() for m in (3, 7, 11, 2)]
    naive = sum(x.double() @ x.double().t() + (1 - x.double()) @ (1 - x.double()).t() for x in codes)
    torch.testing.assert_close(hamming_kernel(codes, chunk_columns=8), naive)


def test_hamming_kernel_identity_matches_the_definition():
    torch.manual_seed(1)
    codes = [(torch.rand(6, 37) > 0.5), (torch.rand(6, 4, 5) > 0.3).float()]
    expected = sum(
        x.reshape(6, -1).double() @ x.reshape(6, -1).double().t()
        + (1 - x.reshape(6, -1).double()) @ (1 - x.reshape(6, -1).double()).t()
        for x in codes
    )
    assert torch.equal(hamming_kernel(codes), expected)


def test_a_probe_computes_its_kernel_once(lstm_like):
    _, _, model, tokens = lstm_like
    probe = RNNProbe(model, tokens, {"activation_codes"})
    kernel = probe.activation_kernel()
    assert probe.activation_kernel() is kernel  # every metric reading K shares it
    assert torch.equal(kernel, hamming_kernel(probe.activation_codes()))
