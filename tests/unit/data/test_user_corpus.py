"""space.corpus: a user's text, read strictly (empty, binary, non-UTF-8, missing split, too short are refused
with the field and the sizes), split 80/10/10 when it is one file, and turned into a capped vocabulary."""
import pytest

from tfnas.search_spaces.nas_bench_nlp.shipped import data_path
from tfnas.data.user_corpus import build_vocabulary, load_texts, words
from tfnas.errors import ConfigError
from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace

MODEL = {"emsize": 16, "nhid": 24, "nlayers": 3}


def ptb_lines(n):
    with open(data_path("ptb", "valid.txt"), encoding="utf-8") as handle:
        return [next(handle) for _ in range(n)]


def space(path, **kw):
    return NasBenchNLPSpace(model=MODEL, batch_size=kw.pop("batch_size", 4), seq_len=kw.pop("seq_len", 10), corpus=str(path), **kw)


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"  \n\n", r"is empty \(only whitespace\)"),
    (b"hello\x00world", "NUL byte at byte offset 5"),
    ("caf\u00e9 ok".encode("latin-1"), "byte 0xe9 at byte offset 3"),
])
def test_bad_files_are_refused_with_the_offset(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as err:
        space(path).metric_batch()
    assert err.value.field == "space.corpus"


def test_missing_path_and_missing_split(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        space(tmp_path / "nope.txt").metric_batch()
    (tmp_path / "valid.txt").write_text("".join(ptb_lines(50)))
    with pytest.raises(ConfigError, match=r"no train split \(train.txt\), needed for the metric minibatch.*found: valid.txt"):
        space(tmp_path).metric_batch()
    assert space(tmp_path, split="valid").metric_batch().shape == (10, 4)


def test_too_short_names_the_sizes(tmp_path):
    (tmp_path / "train.txt").write_text("a b c d e f g\n")
    with pytest.raises(ConfigError, match=r"has 8 tokens, fewer than the metric minibatch needs \(space.batch_size 4 x space.seq_len 10 = 40\)"):
        space(tmp_path).metric_batch()


def test_one_file_is_split_in_order_without_losing_text(tmp_path):
    lines = ptb_lines(200)
    path = tmp_path / "corpus.txt"
    path.write_text("".join(lines))
    texts = load_texts(path)
    assert list(texts) == ["train", "valid", "test"]
    assert "".join(texts.values()) == "".join(lines)  # nothing dropped, order kept
    assert 0.75 < len(texts["train"]) / len("".join(lines)) < 0.85
    corpus = space(path).corpus
    assert sum(t.numel() for t in corpus.splits.values()) == len(words("".join(lines)))
    batch = space(path).metric_batch()  # the first tokens of the train split, columns of the batch
    first = [corpus.word2idx[w] for w in lines[0].split()[:3]]
    assert batch[:3, 0].tolist() == first


def test_vocabulary_cap_keeps_the_most_frequent_and_reports_unk(tmp_path):
    index, report = build_vocabulary([["b", "a", "a", "c", "b", "a", "d"]], vocab_size=4)
    assert index == {"<unk>": 0, "<eos>": 1, "a": 2, "b": 3}
    assert (report.types, report.kept, report.unk_tokens) == (6, 4, 2)
    assert "2 rarer types -> <unk>: 2 tokens" in report.line()
    path = tmp_path / "corpus.txt"
    path.write_text("".join(ptb_lines(200)))
    capped = space(path, vocab_size=50)
    assert capped.corpus.vocab_size == 50 and "-> <unk>" in capped.corpus.note
    assert capped.build_model(capped.sample(__import__("numpy").random.default_rng(0))).encoder.num_embeddings == 50
    with pytest.raises(ConfigError, match="space.vocab_size"):
        space(path, vocab_size=1).corpus
