"""Bad storages are refused with a search.storage error before anything is written into an existing run dir."""
import sys

import pytest

from apprun import search
from tfnas.errors import ConfigError


@pytest.mark.parametrize("storage, message", [
    ("journal:{tmp}/missing/study.log", "journal directory .* does not exist"),
    ("redis://127.0.0.1:6379", r"pip install 'tfnas\[redis\]'"),
])
def test_bad_storage_is_refused_before_writing(tmp_path, monkeypatch, storage, message):
    monkeypatch.setitem(sys.modules, "redis", None)  # as without the redis extra
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "results.csv").write_text("index,hash\n0,abc\n")
    with pytest.raises(ConfigError, match=f"search.storage: .*{message}"):
        search(run_dir, f"search.storage={storage.format(tmp=tmp_path)}", "search.budget=2")
    assert [p.name for p in run_dir.iterdir()] == ["results.csv"]
    assert (run_dir / "results.csv").read_text() == "index,hash\n0,abc\n"


def test_a_plain_db_path_and_a_journal_both_hold_a_search(tmp_path):
    for name, storage in (("sqlite", f"{tmp_path}/plain.db"), ("journal", f"journal:{tmp_path}/study.log")):
        summary = search(tmp_path / f"run-{name}", f"search.storage={storage}", "search.budget=3")
        assert summary["evaluated"] == 3
        resumed = search(tmp_path / f"run-{name}", f"search.storage={storage}", "search.budget=4")
        assert resumed["resumed_from"] == 3 and resumed["evaluated_this_run"] == 1
