"""NAS-Bench-BERT space: JSON round-trips, validation errors, hashing, sampling, mutation, Optuna, the table."""
import json

import numpy as np
import optuna
import pytest

from tfnas.search_spaces import SPACES
from tfnas.search_spaces.nas_bench_bert import BertArch, NasBenchBertSpace
from tfnas.search_spaces.nas_bench_bert.arch import benchmark_choices
from tfnas.search_spaces.nas_bench_bert.shipped import data_path
from tfnas.errors import ConfigError, InvalidArchitecture


@pytest.fixture(scope="module")
def space():
    return NasBenchBertSpace(batch_size=2, seq_len=8)


@pytest.fixture(scope="module")
def entries():
    with open(data_path("seed", "BERT_benchmark.json"), encoding="utf-8") as handle:
        return json.load(handle)


def layer(**over):
    base = dict(operation_type="SA", operation_parameter="SDP", num_operation_heads=2,
                feed_forward_dimension=512, num_feed_forward=1)
    return {**base, **over}


def arch_json(hidden=128, layers=None):
    return {"hidden_size": hidden, "nas_config": {"encoder_layers": layers or [layer(), layer()]}}


def test_space_size_matches_spec():
    assert benchmark_choices().size() == 10_621_440


def test_json_round_trip_and_hash_of_benchmark_entries(space, entries):
    for entry in entries[:20]:
        overrides = entry["hparams"]["model_hparam_overrides"]
        arch = space.from_json(overrides)
        assert space.to_json(arch) == overrides
        assert space.hash(space.from_json(json.loads(json.dumps(overrides)))) == space.hash(arch)
    assert space.from_json(entries[0]).hidden_size == 256  # a whole entry parses too


def test_hash_ignores_key_order_and_kernel_spelling(space):
    a = space.from_json(arch_json(layers=[layer(operation_type="DSC", operation_parameter=5, num_operation_heads=4), layer()]))
    reordered = {"nas_config": {"encoder_layers": [dict(reversed(list(layer(operation_type="DSC", operation_parameter="5", num_operation_heads=4).items()))), layer()]}, "hidden_size": 128}
    assert space.hash(space.from_json(reordered)) == space.hash(a)
    assert space.hash(space.from_json(arch_json(hidden=256))) != space.hash(space.from_json(arch_json()))


@pytest.mark.parametrize(
    "data, where",
    [
        (arch_json(layers=[layer(), layer(operation_parameter="DFT")]), "encoder_layers[1].operation_parameter"),
        (arch_json(hidden=192), "hidden_size"),
        (arch_json(layers=[layer()] * 3), "encoder_layers: 3 layers"),
        (arch_json(layers=[layer(num_operation_heads=3), layer()]), "encoder_layers[0].num_operation_heads"),
        (arch_json(layers=[layer(feed_forward_dimension=100), layer()]), "encoder_layers[0].feed_forward_dimension"),
        (arch_json(layers=[layer(operation_type="XX"), layer()]), "encoder_layers[0].operation_type"),
        ({"hidden_size": 128, "nas_config": {"encoder_layers": [{"operation_type": "SA"}, layer()]}}, "missing field"),
        ({"nas_config": {}}, "hidden_size"),
    ],
)
def test_validation_names_layer_and_field(space, data, where):
    with pytest.raises(InvalidArchitecture, match=__import__("re").escape(where)):
        space.from_json(data)


def test_uniform_sampling_covers_the_whole_space(space):
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(400)]
    for arch in archs:
        space.validate(arch)
    # uniform over all architectures: 48^4 / (48^2 + 48^4) of them have 4 layers
    assert sum(a.num_layers == 4 for a in archs) >= 398
    assert {a.hidden_size for a in archs} == {128, 256}
    assert {layer.operation for a in archs for layer in a.encoder_layers} == {
        "SA/SDP", "SA/WMA", "LT/DFT", "LT/DCT", "DSC/5", "DSC/9"}
    per_depth = NasBenchBertSpace(sampling="per_depth")
    depths = [per_depth.sample(rng).num_layers for _ in range(400)]
    assert 140 < depths.count(2) < 260


def test_mutation_is_one_valid_edit(space):
    rng = np.random.default_rng(1)
    arch = space.sample(rng)
    kinds = set()
    for _ in range(300):
        child = space.mutate(arch, rng)
        space.validate(child)
        assert space.hash(child) != space.hash(arch)
        if child.hidden_size != arch.hidden_size:
            kinds.add("hidden")
            assert child.encoder_layers == arch.encoder_layers
        elif child.num_layers != arch.num_layers:
            kinds.add("depth")
            shared = min(child.num_layers, arch.num_layers)
            assert child.encoder_layers[:shared] == arch.encoder_layers[:shared]
        else:
            kinds.add("layer")
            assert sum(a != b for a, b in zip(child.encoder_layers, arch.encoder_layers)) == 1
        arch = child
    assert kinds == {"hidden", "depth", "layer"}


def test_describe_supports_pruning_rules(space, entries):
    arch = space.from_json(entries[0])
    fields = space.describe(arch)
    assert fields["num_layers"] == 4 and fields["hidden_size"] == 256
    assert eval("num_layers == 4 and hidden_size == 256", {}, fields)
    assert fields["layer1_operation"] == "SA/WMA" and fields["num_SA"] == 3


def test_suggest_with_optuna(space):
    trial = optuna.trial.FixedTrial({"hidden_size": 256, "num_layers": 2, "op_0": "DSC/9", "heads_0": 4,
                                     "ff_dim_0": 1024, "ff_num_0": 3, "op_1": "LT/DCT", "heads_1": 2,
                                     "ff_dim_1": 512, "ff_num_1": 1})
    arch = space.suggest(trial)
    assert arch.encoder_layers[0].operation_parameter == 9 and arch.encoder_layers[1].operation == "LT/DCT"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(10):
        t = study.ask()
        space.validate(space.suggest(t))
        study.tell(t, 0.0)


def test_benchmark_queries(space, entries):
    bench = space.benchmark()
    pool = bench.pool()
    assert len(pool) == 500 and bench.target == "glue" and bench.higher_is_better
    result = bench.query_id("0")
    assert result["glue"] == pytest.approx(74.73375)
    assert set(result) >= {"cola", "mnli", "mrpc", "qnli", "qqp", "rte", "sst", "sts"}
    found = bench.query(space.from_json(entries[7]))
    assert found["glue"] == pytest.approx(entries[7]["scores"]["glue"])
    assert bench.query_id("9999") is None
    missing = BertArch(128, tuple(space.from_json(arch_json()).encoder_layers))
    if all(space.hash(a) != space.hash(missing) for _, a in pool):
        assert bench.query(missing) is None
    assert bench.published["0"]["GLUE Score"] == pytest.approx(74.73375)


def test_registered_and_configurable():
    assert SPACES.get("bert") is NasBenchBertSpace
    from tfnas.build import build
    from tfnas.config import compose

    fast = build(compose(["space=bert"]).space, "space")
    full = build(compose(["space=bert_full"]).space, "space")
    custom = build(compose(["space=bert", "space.batch_size=4", "space.seq_len=16"]).space, "space")
    assert (full.batch_size, full.seq_len) == (128, 512)
    assert fast.batch_size * fast.seq_len < full.batch_size * full.seq_len
    assert (custom.batch_size, custom.seq_len) == (4, 16)
    with pytest.raises(ConfigError, match="space.preset"):
        NasBenchBertSpace(preset="huge")


def test_metric_batch_from_wikitext(space):
    batch = space.metric_batch()
    assert batch["input_ids"].shape == (2, 8)
    assert (batch["input_ids"][:, 0] == 101).all() and (batch["input_ids"][:, -1] == 102).all()
    assert batch["attention_mask"].all()
    with pytest.raises(ConfigError, match="seq_len"):
        NasBenchBertSpace(batch_size=2, seq_len=600).metric_batch()


def test_features_have_one_length_whatever_the_depth_and_benchmark_pool_mode_works():
    import numpy as np

    from tfnas.search_spaces.nas_bench_bert.space import NasBenchBertSpace
    from tfnas.pool import benchmark_pool

    space = NasBenchBertSpace()
    archs = [arch for _, arch in space.benchmark().pool()[:40]]
    lengths = {len(space.features(a)) for a in archs}
    assert len(lengths) == 1 and {a.num_layers for a in archs} == {2, 4}
    pool = benchmark_pool(space)
    rng = np.random.default_rng(0)
    member = pool.sample(rng)
    child = pool.mutate(member, rng)
    assert space.hash(child) in pool.index and space.hash(child) != space.hash(member)
