"""A search on a user's own corpus, end to end: the metric batch and short training read it; a corpus
too short for training is refused before anything is written; BERT with a user's tokenizer.json."""
import json

import pytest
from apprun import search

from tfnas.search_spaces.nas_bench_nlp.shipped import data_path
from tfnas.errors import ConfigError


def write_corpus(folder, lines=(600, 150, 150)):
    with open(data_path("ptb", "test.txt"), encoding="utf-8") as handle:
        text = handle.readlines()
    folder.mkdir()
    start = 0
    for name, n in zip(("train", "valid", "test"), lines):
        (folder / f"{name}.txt").write_text("".join(text[start : start + n]), encoding="utf-8")
        start += n
    return folder


def test_rnn_search_and_short_training_on_a_users_corpus(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "corpus")
    # seed 1: seed 0's pick at these tiny sizes is a cell that explodes in its first windows under the
    # benchmark's variable BPTT (reported as failed, as it should be); this test is about the corpus
    summary = search(tmp_path / "run", "seed=1", f"space.corpus={corpus}", "+space.vocab_size=500", "search.budget=2",
                     "search.top_k=1", "train=short", "train.top_k=1", "train.steps=2", "train.rnn.batch_size=4",
                     "train.rnn.bptt=8", "train.rnn.eval_max_tokens=100")
    out = capsys.readouterr().out
    assert f"trained on {corpus} train, evaluated on its valid split" in out and "vocabulary 500 of" in out
    assert summary["config"]["space"]["corpus"] == str(corpus)
    best = json.loads((tmp_path / "run" / "best.json").read_text())
    assert best[0]["train_status"] == "ok" and best[0]["eval_loss"] < 10
    from safetensors.torch import load_file

    weights = load_file(str(tmp_path / "run" / "train" / best[0]["hash"] / "checkpoint" / "model.safetensors"))
    assert weights["decoder.bias"].shape[0] == 500  # the model's vocabulary is the capped corpus vocabulary


def test_benchmark_labels_are_flagged_as_not_on_the_users_corpus(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "corpus")
    search(tmp_path / "run", f"space.corpus={corpus}", "search.budget=2", "search.pool=benchmark", "train=benchmark")
    assert f"not from space.corpus={corpus}" in capsys.readouterr().out


def test_training_data_is_checked_before_anything_is_written(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "valid.txt").write_text("too short\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"valid split has 3 tokens, fewer than the 20 .*eval_batch_size 10 x 2") as err:
        search(tmp_path / "run", f"space.corpus={corpus}", "search.budget=2", "train=short")
    assert err.value.field == "space.corpus"
    assert not (tmp_path / "run" / "study.db").exists() and not (tmp_path / "run" / "results.csv").exists()
    (corpus / "valid.txt").unlink()
    with pytest.raises(ConfigError, match=r"no valid split \(valid.txt\), needed for evaluation after short training"):
        search(tmp_path / "run", f"space.corpus={corpus}", "search.budget=2", "train=short")


def test_bert_space_with_a_users_corpus_and_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from tfnas.build import build

    from tfnas.config import compose

    corpus = write_corpus(tmp_path / "corpus")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train([str(corpus / "train.txt")], trainers.WordPieceTrainer(
        vocab_size=300, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    tok.save(str(tmp_path / "tokenizer.json"))
    space = build(compose(["space=bert", f"space.corpus={corpus}", f"space.tokenizer={tmp_path / 'tokenizer.json'}",
                           "space.batch_size=3", "space.seq_len=12"]).space, "space")
    batch = space.metric_batch()
    ids = batch["input_ids"]
    assert ids.shape == (3, 12) and ids[:, 0].tolist() == [2, 2, 2] and ids[:, -1].tolist() == [3, 3, 3]
    assert int(ids.max()) < 300
    arch = space.sample(__import__("numpy").random.default_rng(0))
    assert space.config(arch).vocab_size == space.tokenizer().vocab_size == len(tok.get_vocab())
    rows = space.training_sequences("valid", 16, "test", "train.bert.eval_split")
    assert rows.shape[1] == 16 and rows.shape[0] == len(space.split_stream("valid", "test")) // 14
    bad = tmp_path / "plain.json"
    plain = Tokenizer(models.WordLevel({"a": 0, "b": 1}, unk_token="a"))
    plain.save(str(bad))
    other = build(compose(["space=bert", f"space.corpus={corpus}", f"space.tokenizer={bad}"]).space, "space")
    with pytest.raises(ConfigError, match=r"space.tokenizer: .*lacks the special tokens \[CLS\]"):
        other.metric_batch()
