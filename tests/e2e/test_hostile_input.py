"""Hostile input, one test per case of the audit: each ends in one line naming the field and the fix (exit 2),
or recovers and says so, within 10 s and 1 GB, and loses nothing. Most run in this process through the
`tfnas` command (`apprun.cli`, bounded by `bounded.within`); a case that could exhaust the machine if it
regressed runs in a forked child with an address-space limit (`bounded.forked`). Ctrl-C's exit status 130
is checked on a real process in tests/e2e/test_worker_lifecycle.py, and the W&B files of a sweep with
every URL form in tests/e2e/test_tracking_wandb.py."""
import json
import os
import shutil
from pathlib import Path

import pytest

from apprun import TINY, cli, search
from bounded import forked, run_cli, within
from tfnas.redaction import forget_secrets

PTB = Path(__file__).resolve().parents[2] / "search_spaces" / "nas_bench_nlp" / "data" / "ptb" / "valid.txt"


def one_line(capsys, field: str, *fragments: str) -> str:
    """The command's stderr: exactly one line, `tfnas...: error: FIELD: ...` with each fragment."""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err[-3000:]
    assert f"error: {field}" in err and all(f in err for f in fragments), err
    return err


def error_line(outcome, field: str, *fragments: str) -> str:
    err = outcome.err.strip()
    assert outcome.code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, (outcome.code, err[-3000:])
    assert f"error: {field}" in err and all(f in err for f in fragments), err
    return err


def nothing_written(run_dir: Path) -> None:
    assert not (run_dir / "study.db").exists() and not (run_dir / "results.csv").exists()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    search(run_dir, "search.budget=2", "metric=params", "search.storage=memory")
    return run_dir


# -- secrets in every URL form ---------------------------------------------------------------------
URLS = {
    "query password": "postgresql+psycopg://alice@127.0.0.1:1/db?password=QuerySecret1",
    "query sslpassword": "postgresql+psycopg://alice@127.0.0.1:1/db?sslmode=require&sslpassword=SslSecret2",
    "unencoded slash": "postgresql+psycopg://alice:x/SlashSecret3@127.0.0.1:1/db",
    "colon and at": "postgresql+psycopg://alice:p:At@Secret4@127.0.0.1:1/db",
    "redis": "redis://:RedisSecret5@127.0.0.1:1/0",
}


@pytest.mark.parametrize("form", URLS)
def test_a_storage_password_in_any_url_form_reaches_no_output(form, tmp_path, monkeypatch, capsys):
    """The store cannot be opened (nothing listens on port 1): one line naming search.storage, and the password is
    in neither the console nor any file of the run directory (.hydra/*.yaml, search.log)."""
    forget_secrets()
    url = URLS[form]
    secret = next(part for part in url.replace("@", "/").replace("=", "/").replace(":", "/").split("/") if "Secret" in part)
    run_dir = tmp_path / "run"
    with within():
        assert cli(monkeypatch, *TINY, f"hydra.run.dir={run_dir}", "search.budget=1", f"search.storage='{url}'") == 2
    out, err = capsys.readouterr()
    assert "search.storage" in err and len(err.strip().splitlines()) == 1, err
    assert secret not in out + err
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert {"config.yaml", "overrides.yaml", "hydra.yaml"} <= {p.name for p in files}
    assert not [p for p in files if secret.encode() in p.read_bytes()]


# -- memory ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("corpus", ["/dev/zero", "fifo"])
def test_a_corpus_that_never_ends_is_refused_unread(corpus, tmp_path):
    if corpus == "fifo":
        corpus = str(tmp_path / "fifo")
        os.mkfifo(corpus)  # opened, it would block forever: nothing writes to it
    outcome = forked(run_cli, *TINY, f"hydra.run.dir={tmp_path / 'run'}", f"space.corpus={corpus}")
    error_line(outcome, "space.corpus", "not a regular file")
    nothing_written(tmp_path / "run")


def test_a_corpus_above_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch, capsys):
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(600_000_000)  # sparse: 600 MB on paper, nothing on disk
    with within():
        assert cli(monkeypatch, *TINY, f"hydra.run.dir={tmp_path / 'run'}", f"space.corpus={big}") == 2
    one_line(capsys, "space.corpus", "600.0 MB", "512 MB limit", "space.max_corpus_mb=")
    nothing_written(tmp_path / "run")


def test_a_large_corpus_is_read_in_a_small_multiple_of_its_size(tmp_path):
    """20 MB of text: the streamed reader stays under 5x the file (the whole-text reader took about 17x)."""
    corpus = tmp_path / "corpus.txt"
    lines = PTB.read_text(encoding="utf-8")
    with open(corpus, "w", encoding="utf-8") as handle:
        while handle.tell() < 20_000_000:
            handle.write(lines)
    size = corpus.stat().st_size

    def load() -> int:
        from tfnas.data import load_word_corpus

        return 0 if load_word_corpus(corpus).splits["train"].numel() > 1_000_000 else 1

    outcome = forked(load)
    assert outcome.code == 0, outcome.err
    assert outcome.rss_growth < 5 * size, f"{outcome.rss_growth / 1e6:.0f} MB for a {size / 1e6:.0f} MB file"


@pytest.mark.parametrize("override, field", [
    ("space.model.nlayers=100000", "space.model.nlayers"),
    ("space.model.nhid=100000000", "space.model.nhid"),
])
def test_a_model_too_large_for_memory_is_refused_before_it_is_built(override, field, tmp_path):
    run_dir = tmp_path / "run"
    outcome = forked(run_cli, f"hydra.run.dir={run_dir}", "search.budget=1", override)
    error_line(outcome, field, "parameters", "GB of memory available", f"lower {field}")
    nothing_written(run_dir)


def test_bert_model_keys_are_checked_at_construction(tmp_path, monkeypatch, capsys):
    import tfnas.search_spaces.nas_bench_bert  # noqa: F401  (transformers' import is not the check's time)

    run_dir = tmp_path / "run"
    with within():
        assert cli(monkeypatch, f"hydra.run.dir={run_dir}", "space=bert", "+space.model.embeding_size=16") == 2
    one_line(capsys, "space.model.embeding_size", "unknown model option", "embedding_size", "vocab_size")
    with within():
        assert cli(monkeypatch, f"hydra.run.dir={run_dir}", "space=bert", "+space.model.vocab_size=10000000000") == 2
    one_line(capsys, "space.model.vocab_size", "GB of memory available")
    nothing_written(run_dir)


def test_search_threads_beyond_the_cores_are_clamped_with_a_warning(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    with within():
        assert cli(monkeypatch, *TINY, f"hydra.run.dir={run_dir}", "search.budget=1", "metric=params", "search.threads=1000") == 0
    out, err = capsys.readouterr()
    assert "search.n_workers=1 x search.threads=1000 is more threads than" in out + err
    assert json.loads((run_dir / "summary.json").read_text())["threads"] == len(os.sched_getaffinity(0))


def test_every_command_clamps_its_workers_and_threads():
    """Each command module (subcommands and those they dispatch to) that takes --workers or --threads passes them
    through tfnas.threads.clamp_threads."""
    import tfnas.commands

    modules = sorted(Path(tfnas.commands.__file__).parent.glob("*.py"))
    assert len(modules) > 10
    for path in modules:
        source = path.read_text(encoding="utf-8")
        if '"--threads"' in source or '"--workers"' in source:
            assert "clamp_threads(" in source, path.name


def test_reproduce_rnn_threads_beyond_the_cores_are_clamped(tmp_path, monkeypatch, caplog):
    """`tfnas reproduce rnn --threads 2` with a worker per core: threads lowered, with a warning (then the recipes
    file is refused, before any work; a process with no logging set up prints the warning on stderr)."""
    bad = tmp_path / "recipes.json"
    bad.write_text("not json")
    cores = len(os.sched_getaffinity(0))
    with within(), caplog.at_level("WARNING", logger="tfnas"):
        code = cli(monkeypatch, "reproduce", "rnn", "--out", str(tmp_path / "o.csv"), "--workers", str(cores),
                   "--threads", "2", "--recipes", str(bad))
    assert code == 2
    assert f"--workers={cores} x --threads=2 is more threads than the {cores} core(s)" in caplog.text
    assert "using --threads=1" in caplog.text


# -- long strings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("rule, field, fragment", [
    ("x" * 100_000, "strategy.rule", "the override is 100,016 characters long"),
    ("not " * 20_000 + "x", "strategy.rule", "the override is 80,017 characters long"),
    ("num_nodes > 1 and " * 200 + "True", "strategy.rule", "the rule is 3,604 characters long; at most 2,000"),
], ids=["100 KB", "not x 20000", "3.6 KB"])
def test_a_long_rule_is_refused_by_its_length_before_it_is_parsed(rule, field, fragment, tmp_path, monkeypatch, capsys):
    with within():
        assert cli(monkeypatch, *TINY, f"hydra.run.dir={tmp_path / 'run'}", "strategy=pruned", f"strategy.rule='{rule}'") == 2
    one_line(capsys, field, fragment)
    nothing_written(tmp_path / "run")


# -- one line instead of a traceback ---------------------------------------------------------------
def labels_file(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("content, fragments", [
    (b"model_id,target\n1,2.0\n2," + b"9" * 200_000 + b"\n", ("line 3", "131,072 characters")),
    ("model_id,target\n1,2.0\n2,caf\u00e9\n".encode("latin-1"), ("not UTF-8", "line 3", "byte 0xe9")),
], ids=["200 KB field", "latin-1"])
def test_a_broken_labels_file_is_one_line_naming_the_file_and_line(content, fragments, tmp_path, monkeypatch, capsys):
    path = labels_file(tmp_path, "labels.csv", content)
    with within():
        assert cli(monkeypatch, *TINY, f"hydra.run.dir={tmp_path / 'run'}", f"space.benchmark.labels={path}") == 2
    one_line(capsys, "space.benchmark.labels", str(path), *fragments)
    nothing_written(tmp_path / "run")
    with within():
        assert cli(monkeypatch, "compare", "--spaces", "rnn", "--labels", str(path), "--trainings", "3", "--out", str(tmp_path / "cmp")) == 2
    one_line(capsys, "space.benchmark.labels", str(path), *fragments)


def test_a_seed_beyond_the_samplers_is_refused_before_anything_is_written(tmp_path, monkeypatch, capsys):
    with within():
        assert cli(monkeypatch, *TINY, f"hydra.run.dir={tmp_path / 'run'}", "seed=99999999999999999999") == 2
    one_line(capsys, "seed", "below 2**32")
    nothing_written(tmp_path / "run")


@pytest.mark.parametrize("run_dir", ["/proc/self", "/dev/null"])
def test_a_run_directory_that_cannot_be_written_is_one_line(run_dir, monkeypatch, capsys):
    with within():
        assert cli(monkeypatch, *TINY, f"hydra.run.dir={run_dir}", "search.budget=1") == 2
    one_line(capsys, "hydra.run.dir", "choose a writable directory")


def test_export_to_an_unusable_folder_is_one_line(finished_run, tmp_path, monkeypatch, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    for out, fragment in (("/proc/x", "cannot write into /proc/x"), (str(a_file), "is a file, not a folder")):
        with within():
            assert cli(monkeypatch, "export", str(finished_run), "--rank", "1", "--out", out) == 2
        one_line(capsys, "--out", fragment)
    assert a_file.read_text() == "keep me"


def test_export_refuses_a_best_json_whose_hash_is_not_its_architectures(finished_run, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    best = json.loads((run / "best.json").read_text())
    best[0]["hash"] = "0" * 16
    (run / "best.json").write_text(json.dumps(best))
    with within():
        assert cli(monkeypatch, "export", str(run), "--out", str(tmp_path / "model")) == 2
    one_line(capsys, "--rank", "best.json", "records hash '0000000000000000'")
    assert not (tmp_path / "model").exists()


def test_report_on_a_corrupt_summary_is_one_line_naming_it(finished_run, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "summary.json").write_text('{"evaluated": 2, "best": {"sco')  # cut by a full disk
    with within():
        assert cli(monkeypatch, "report", str(run)) == 2
    one_line(capsys, "RUN_DIR", str(run / "summary.json"), "not valid JSON")


@pytest.mark.parametrize("argv, field", [
    (["bench", "--space-json", "{bad"], "--space-json"),
    (["bench", "--eval-batch", "1", "--space-json", "3"], "--space-json"),
    (["bench", "train", "--train-json", "nope"], "--train-json"),
    (["zoo", "--space", "rnn", "--scores", "s.csv", "--out", "o", "--space-json", "[1]"], "--space-json"),
    (["reproduce", "rnn", "--out", "t.csv", "--space", "{x"], "--space"),
])
def test_a_commands_json_flag_that_is_not_a_json_object_is_one_line(argv, field, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with within():
        assert cli(monkeypatch, *argv) == 2
    one_line(capsys, field, "JSON")
    assert not list(tmp_path.iterdir())  # nothing written
