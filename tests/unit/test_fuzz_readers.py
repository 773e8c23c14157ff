"""Property-based fuzz of what reads a user's text: the rule parser, the labels reader and the corpus reader.
Each either returns its result or raises one ConfigError whose message is one non-empty line, quickly.
(Recipes: tests/unit/search_spaces/nas_bench_nlp/test_recipe_bounds.py; URLs: tests/unit/test_redaction.py.)"""
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tfnas.data.text_file as text_file
from tfnas.data.user_corpus import build_vocabulary, split_file, words
from tfnas.data.word_stream import read_word_corpus
from tfnas.errors import ConfigError
from tfnas.labels import load_labels
from tfnas.rules import MAX_TEXT, Rule

FAST = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))


def one_line(err: Exception) -> str:
    text = str(err)
    assert text.strip() and "\n" not in text, repr(text)
    return text


# -- rules -----------------------------------------------------------------------------------------
hostile_rules = st.one_of(
    st.text(max_size=60),  # anything at all
    st.tuples(st.sampled_from(["not ", "-", "(", "[", "~", "lambda: ", "x if 1 else "]), st.integers(1, 30_000))
    .map(lambda t: t[0] * t[1] + "x"),  # nesting that breaks recursive parsers ('not '*20000)
    st.integers(1, 40_000).map(lambda n: "x == " + " + ".join(["1"] * n)),  # width
)


@FAST
@given(hostile_rules)
def test_any_rule_text_parses_or_is_one_line_naming_the_field(text):
    start = time.process_time()  # CPU time: other processes on a shared machine do not count
    try:
        Rule(text).check_fields(["x"])
    except ConfigError as err:
        assert one_line(err).startswith("strategy.rule: ")
        if len(text.strip()) > MAX_TEXT:
            assert "characters long" in str(err)
    assert time.process_time() - start < 1.0


# -- labels ----------------------------------------------------------------------------------------
cells = st.one_of(st.text(max_size=12), st.sampled_from(["0", "1", "2.5", "nan", "inf", "", '"', '""', "{", "[]", "x" * 200_000]))
rows = st.lists(st.lists(cells, min_size=0, max_size=4), max_size=6)
headers = st.sampled_from(["model_id,target", "hash,target", "model_id,target,recipe", "target", "a,b", ""])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))  # each load lists the benchmark
@given(headers, rows, st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_labels_file_loads_or_is_one_line(tmp_path_factory, tiny_space, header, body, encoding):
    path = tmp_path_factory.mktemp("labels") / "labels.csv"
    text = header + "\n" + "\n".join(",".join(row) for row in body) + "\n"
    try:
        path.write_bytes(text.encode(encoding))
    except UnicodeEncodeError:
        return
    start = time.process_time()
    try:
        load_labels(path, tiny_space)
    except ConfigError as err:
        assert one_line(err).startswith("space.benchmark.labels: ")
    assert time.process_time() - start < 2.0


@pytest.fixture(scope="module")
def tiny_space():
    from tfnas.search_spaces.nas_bench_nlp import NasBenchNLPSpace

    return NasBenchNLPSpace(model={"emsize": 16, "nhid": 24, "nlayers": 3}, batch_size=4, seq_len=4)


# -- the word corpus -------------------------------------------------------------------------------
pieces = st.sampled_from(list("ab c\n\r\t") + ["\r\n", "\u2028", "\u00e9", "xyz", "\x0b", "<eos>", "<unk>", "  ", "\x1c"])
texts = st.lists(pieces, max_size=200).map("".join)


def whole_text_reading(text, path, vocab_size):
    """The reference: the whole text in memory, split, turned into words, then a vocabulary."""
    parts = split_file(text, path)
    lists = {name: words(part) for name, part in parts.items()}
    index, report = build_vocabulary(list(lists.values()), vocab_size)
    return index, {name: [index.get(w, 0) for w in ws] for name, ws in lists.items()}, report


@FAST
@given(texts, st.sampled_from([None, 3, 5]), st.sampled_from([1, 2, 3, 7, 64]))
def test_the_streamed_corpus_is_the_whole_text_reading(tmp_path_factory, monkeypatch_module, text, vocab_size, chunk):
    """Read in chunks as small as one byte, every cut, line ending and vocabulary tie comes out as on the whole text."""
    monkeypatch_module.setattr(text_file, "CHUNK_BYTES", chunk)
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_bytes(text.encode())
    try:
        expected = whole_text_reading(text, path, vocab_size)
    except ConfigError as err:
        expected = str(err)
    if not text.strip():
        expected = "empty"
    try:
        index, tensors, report = read_word_corpus(path, vocab_size, 10**9)
        got = (index, {name: t.tolist() for name, t in tensors.items()}, report)
    except ConfigError as err:
        got = "empty" if " is empty" in str(err) else str(err)
    assert got == expected


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_are_a_corpus_or_one_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_bytes(data)
    try:
        read_word_corpus(path, None, 10**9)
    except ConfigError as err:
        assert one_line(err).startswith("space.corpus: ")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch
