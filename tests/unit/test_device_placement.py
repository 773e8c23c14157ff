"""Every tensor the probes and metrics create is placed on the model's device.

CI has no GPU, so a tensor made on the CPU by default (`torch.zeros(n)` without `device=`) would only
fail on CUDA. This test runs every metric of both spaces through their probes under a torch-function
mode that records each factory call made from tfnas's own code without a `device` argument.
"""
import sys
import traceback
from pathlib import Path

from torch.overrides import TorchFunctionMode

import tfnas
from tfnas.metrics.suite import metric_suite

FACTORIES = {"zeros", "ones", "empty", "full", "tensor", "as_tensor", "arange", "randn", "rand", "randint",
             "eye", "linspace", "scalar_tensor"}
OUR_CODE = [str(Path(tfnas.__file__).resolve().parent)] + [
    str(Path(sys.modules[name].__file__).resolve().parent)
    for name in ("tfnas.search_spaces", "tfnas.strategies") if __import__(name, fromlist=["_"])
]


class DeviceAudit(TorchFunctionMode):
    """Collects `file:line` of factory calls from tfnas code that leave the device to torch's default."""

    def __init__(self):
        super().__init__()
        self.undeviced: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in FACTORIES and kwargs.get("device") is None:
            caller = traceback.extract_stack(limit=2)[0]
            if any(caller.filename.startswith(root) for root in OUR_CODE):
                self.undeviced.append(f"{caller.filename}:{caller.lineno} torch.{func.__name__}")
        return func(*args, **kwargs)


def audit(space, arch) -> list[str]:
    """Factory calls without a device in building the model on its device (the space's builder: modules made on
    the meta device, then allocated and initialised on the target device), the probe's passes and the metrics'
    arithmetic."""
    metrics = metric_suite(space)
    batch = space.metric_batch()
    with DeviceAudit() as mode:
        model = space.model_builder(0, "cpu")(arch).eval()
        probe = space.probe(model, batch, set().union(*(m.needs() for m in metrics)))
        values = [m.compute(probe) for m in metrics]
    assert len(values) == len(metrics) > 5  # the audit saw a real scoring
    return sorted(set(mode.undeviced))


def test_rnn_probe_and_metrics_place_every_tensor(tiny_rnn_space):
    arch = tiny_rnn_space.sample(__import__("numpy").random.default_rng(0))
    assert audit(tiny_rnn_space, arch) == []


def test_bert_probe_and_metrics_place_every_tensor():
    from tfnas.search_spaces.nas_bench_bert import NasBenchBertSpace

    space = NasBenchBertSpace(batch_size=2, seq_len=16)
    arch = space.from_json({"hidden_size": 128, "nas_config": {"encoder_layers": [
        dict(operation_type="SA", operation_parameter="SDP", num_operation_heads=2, feed_forward_dimension=512, num_feed_forward=1),
        dict(operation_type="LT", operation_parameter="DFT", num_operation_heads=2, feed_forward_dimension=512, num_feed_forward=1),
        dict(operation_type="DSC", operation_parameter="5", num_operation_heads=2, feed_forward_dimension=512, num_feed_forward=1),
        dict(operation_type="SA", operation_parameter="WMA", num_operation_heads=2, feed_forward_dimension=512, num_feed_forward=1)]}})
    assert audit(space, arch) == []


def test_the_audit_catches_an_undeviced_tensor():
    with DeviceAudit() as mode:
        exec(compile("import torch\ntorch.zeros(3)", str(Path(tfnas.__file__).parent / "fake.py"), "exec"))
    assert mode.undeviced and "torch.zeros" in mode.undeviced[0]
