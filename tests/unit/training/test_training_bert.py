"""Short ELECTRA/MLM pretraining for the BERT space, tested on real tiny transformers ElectraModel encoders
(the interface the BERT space's build_model returns: a PreTrainedModel with .last_hidden_state)."""
import pytest
import torch
from transformers import ElectraConfig, ElectraModel

from tfnas.training import Budget, ShortTraining, train_candidate
from tfnas.search_spaces.nas_bench_bert.trainer import BertPretrainer
from tfnas.tracking import NoTracker

GEN = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 32, "embedding_size": 16}
OPTS = {"batch_size": 8, "seq_len": 32, "eval_batches": 2, "warmup_steps": 2, "generator": GEN}


class TinyEncoderSpace:
    """Just enough of a space for short training: architectures are ElectraModel sizes."""

    name = "bert"

    def from_json(self, data):
        return data

    def trainer_class(self):
        return BertPretrainer

    def build_model(self, arch, seed=None, device="cpu"):
        torch.manual_seed(seed)
        config = ElectraConfig(vocab_size=30522, embedding_size=16, hidden_size=arch["hidden"],
                               num_hidden_layers=arch["layers"], num_attention_heads=2,
                               intermediate_size=2 * arch["hidden"], max_position_embeddings=64)
        return ElectraModel(config).to(device)


def make(arch=None, **options):
    arch = arch or {"hidden": 32, "layers": 1}
    return BertPretrainer(TinyEncoderSpace(), arch, seed=0, device=torch.device("cpu"), options={**OPTS, **options})


@pytest.mark.parametrize("objective", ["electra", "mlm"])
def test_pretraining_loss_goes_down(objective, tmp_path):
    t = make(objective=objective)
    before = t.evaluate()["eval_loss"]
    result = train_candidate(t, Budget(steps=25), tmp_path, fingerprint={})
    assert result.status == "ok"
    assert result.values["eval_loss"] < before - 0.1
    assert (tmp_path / "checkpoint" / "encoder" / "model.safetensors").exists()


def test_resume_continues_the_same_run(tmp_path):
    whole = make()
    r_whole = train_candidate(whole, Budget(steps=4), tmp_path / "whole", fingerprint={}, checkpoint_every=2)
    train_candidate(make(), Budget(steps=2), tmp_path / "split", fingerprint={}, checkpoint_every=2)
    resumed = make()
    r_resumed = train_candidate(resumed, Budget(steps=4), tmp_path / "split", fingerprint={}, checkpoint_every=2)
    assert r_resumed.resumed_from == 2
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert r_resumed.values == r_whole.values


def test_generator_is_the_same_for_every_candidate(tmp_path):
    """Replaced-token losses are comparable across candidates only if they face the same generator."""
    small, large = make({"hidden": 16, "layers": 1}), make({"hidden": 32, "layers": 2})
    train_candidate(small, Budget(steps=3), tmp_path / "s", fingerprint={})
    train_candidate(large, Budget(steps=3), tmp_path / "l", fingerprint={})
    for a, b in zip(small.model["generator"].state_dict().values(), large.model["generator"].state_dict().values()):
        assert torch.equal(a, b)


def test_stage_trains_and_ranks_bert_candidates(tmp_path, capsys):
    shortlist = [{"rank": i + 1, "hash": f"h{i}", "score": 0.0, "undefined": False, "arch": arch}
                 for i, arch in enumerate([{"hidden": 16, "layers": 1}, {"hidden": 32, "layers": 1}])]
    final = ShortTraining(top_k=2, steps=3, bert=OPTS).run(
        TinyEncoderSpace(), shortlist, tmp_path, torch.device("cpu"), 0, NoTracker())
    assert all(e["train_status"] == "ok" for e in final)
    assert final[0]["eval_rtd_loss"] <= final[1]["eval_rtd_loss"]
    assert "pretraining on WikiText-2 valid, evaluated on WikiText-2 test" in capsys.readouterr().out


def test_stage_trains_real_nas_bench_bert_candidates_and_saves_them(tmp_path):
    """The real space: FlexiBERT encoders built at the benchmark's sizes, checkpointed with save_pretrained."""
    from tfnas.search_spaces.nas_bench_bert.space import NasBenchBertSpace
    from transformers import AutoModel

    space = NasBenchBertSpace()
    archs = [arch for _, arch in space.benchmark().pool() if arch.num_layers == 2 and arch.hidden_size == 128][:2]
    shortlist = [{"rank": i + 1, "hash": space.hash(a), "score": 0.0, "undefined": False, "arch": space.to_json(a)}
                 for i, a in enumerate(archs)]
    options = {**OPTS, "batch_size": 2, "eval_batches": 1, "warmup_steps": 1}
    final = ShortTraining(top_k=2, steps=2, bert=options).run(space, shortlist, tmp_path, torch.device("cpu"), 0, NoTracker())
    assert [e["train_status"] for e in final] == ["ok", "ok"]
    assert final[0]["eval_loss"] <= final[1]["eval_loss"]
    saved = [p for p in tmp_path.glob("train/*/checkpoint/*") if (p / "config.json").exists()]
    assert saved, "no save_pretrained checkpoint written"
    reloaded = [AutoModel.from_pretrained(p) for p in saved]
    assert any(type(m).__name__ == "FlexiBertModel" for m in reloaded)
