"""A journal whose last record was torn by a crash mid-write is cut back to its last complete record at open."""
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from apprun import TINY, search
from tfnas.store._journal import cut_torn_tail

ROOT = Path(__file__).resolve().parents[3]


def records(n: int) -> bytes:
    return b"".join(json.dumps({"op_code": 0, "n": i, "pad": "x" * i}).encode() + b"\n" for i in range(n))


@pytest.mark.parametrize("cut", [1, 7, 60, 61])
def test_a_torn_tail_is_cut_to_the_last_complete_record(tmp_path, cut):
    path, whole = tmp_path / "j.log", records(12)
    path.write_bytes(whole[: len(whole) - cut])
    dropped = cut_torn_tail(path)
    kept = path.read_bytes()
    assert kept.endswith(b"\n") and whole.startswith(kept)
    assert dropped == len(whole) - cut - len(kept)
    assert len(whole) - len(kept) < cut + len(whole.splitlines(keepends=True)[-1]) * 2  # at most the torn record(s)
    assert cut_torn_tail(path) == 0  # an intact journal is left alone


def test_a_garbled_last_line_and_an_all_torn_file(tmp_path):
    path = tmp_path / "j.log"
    path.write_bytes(records(3) + b"\x00\x00\x00\n")  # zero-filled blocks after a crash
    assert cut_torn_tail(path) == 4 and path.read_bytes() == records(3)
    path.write_bytes(b'{"op_code": 0, "n"')
    assert cut_torn_tail(path) == 18 and path.read_bytes() == b""


def test_a_journal_search_torn_mid_record_resumes_with_every_complete_evaluation(tmp_path, caplog):
    """The audit's steps: a journal search (its own process, gone when the journal is found torn, as after a
    crash), `truncate -s -60`, start again, and again."""
    journal = tmp_path / "study.log"
    storage = f"search.storage=journal:{journal}"
    subprocess.run([sys.executable, str(ROOT / "search.py"), *TINY, storage, "search.budget=3", "metric=params",
                    f"hydra.run.dir={tmp_path / 'run'}"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})
    subprocess.run(["truncate", "-s", "-60", str(journal)], check=True)  # the last record, cut mid-write
    torn = journal.stat().st_size - (journal.read_bytes().rfind(b"\n") + 1)
    assert torn > 0
    kept = [t for t in optuna.load_study(study_name="tfnas", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(journal)))).trials if t.state.name == "COMPLETE"]
    assert len(kept) >= 2  # what Optuna reads of the torn file: every evaluation finished before the cut
    with caplog.at_level(logging.WARNING, logger="tfnas.store._journal"):
        # (the finished run's results.csv lists the evaluation whose record was torn off: overwrite moves it aside)
        second = search(tmp_path / "run", storage, "search.budget=5", "metric=params", "search.overwrite=true")
    (warning,) = [r.getMessage() for r in caplog.records if "partial record" in r.getMessage()]
    assert f"dropped its last {torn} byte(s)" in warning
    assert second["resumed_from"] == len(kept) and second["evaluated"] == 5  # every complete evaluation kept
    third = search(tmp_path / "run", storage, "search.budget=6", "metric=params")
    assert third["evaluated"] == 6 and third["resumed_from"] == 5
