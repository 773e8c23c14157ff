"""Storages (plain .db path, journal:PATH, Redis without its extra), the incremental feed, heartbeat settings."""
import os
import sys
import time
from pathlib import Path

import optuna
import pytest
from omegaconf import OmegaConf
from optuna.trial import TrialState

from tfnas.build import heartbeat_settings
from tfnas.errors import ConfigError
from tfnas.store import EvaluationStore, StudyFeed, storage_url
from tfnas.store import open_storage as make_storage


def test_plain_db_path_is_sqlite_and_journal_paths_are_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert storage_url("runs/s.db", None) == f"sqlite:///{tmp_path / 'runs' / 's.db'}"
    assert storage_url("journal:j.log", None) == f"journal:{tmp_path / 'j.log'}"
    assert storage_url("postgresql+psycopg://u@h/db", None) == "postgresql+psycopg://u@h/db"


def test_journal_in_a_missing_or_unwritable_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"search.storage: journal directory .*missing.* does not exist"):
        make_storage(f"journal:{tmp_path / 'missing' / 'j.log'}")
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    # root ignores directory permissions; /proc refuses new files to everyone
    target = read_only / "j.log" if os.geteuid() != 0 else Path("/proc/tfnas-journal.log")
    with pytest.raises(ConfigError, match="search.storage: cannot write the journal"):
        make_storage(f"journal:{target}")
    assert not (read_only / "j.log").exists()


def test_redis_without_its_extra_is_refused(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # as if the redis package were not installed
    with pytest.raises(ConfigError, match=r"search.storage: .*pip install 'tfnas\[redis\]'"):
        make_storage("redis://127.0.0.1:6379")


def test_two_stores_share_a_journal_and_its_heartbeats_fail_a_silent_claim(tmp_path):
    url = f"journal:{tmp_path / 'j.log'}"
    one = EvaluationStore(url, "tfnas", ["maximize"], "m", heartbeat_interval_s=0.1, grace_period_s=0.3)
    two = EvaluationStore(url, "tfnas", ["maximize"], "m", heartbeat_interval_s=0.1, grace_period_s=0.3)
    trial = one.new_trial()
    assert one.try_claim(trial, "h1", {"cell": 1})
    one.complete(trial, "h1", {"cell": 1}, {"m": 1.0}, [], 0.1, [1.0])
    assert [r.hash for r in two.records()] == ["h1"]
    silent = two.new_trial()  # a claim whose worker beats once and dies
    assert two.try_claim(silent, "h2", {"cell": 2})
    assert not one.try_claim(one.new_trial(), "h2")  # the live claim holds the hash
    with two.beating(silent):
        time.sleep(0.05)
    one.fail_stale()
    assert one.study.trials[silent.number].state == TrialState.RUNNING  # within its grace period
    time.sleep(0.4)
    assert one.fail_stale() == 1
    assert one.study.trials[silent.number].state == TrialState.FAIL
    assert one.retries == [("h2", {"cell": 2})]


def test_a_claim_made_since_the_last_refresh_keeps_its_own_grace_period(tmp_path):
    """The quick worker has not read the slow worker's fresh claim; it must still wait out the claim's 60 s."""
    url = f"journal:{tmp_path / 'j.log'}"
    quick = EvaluationStore(url, "tfnas", ["maximize"], "m", heartbeat_interval_s=0.02, grace_period_s=0.05)
    slow = EvaluationStore(url, "tfnas", ["maximize"], "m", heartbeat_interval_s=10, grace_period_s=60)
    claim = slow.new_trial()
    assert slow.try_claim(claim, "h1", {"cell": 1})  # one beat at claim time, the next in 10 s
    time.sleep(0.1)  # silent past the quick worker's grace period, well within its own
    assert quick.fail_stale() == 0
    assert quick.study.trials[claim.number].state == TrialState.RUNNING and quick.retries == []


def test_the_feed_reads_only_new_and_unfinished_trials():
    study = optuna.create_study()
    for _ in range(5):
        study.tell(study.ask(), 1.0)
    feed = StudyFeed(study)
    assert len(feed.read()) == 5 and feed.read() == []
    running = study.ask()
    assert [t.number for t in feed.read()] == [5]
    assert [t.number for t in feed.read()] == [5]  # still running: read again
    study.tell(running, 2.0)
    assert [t.state for t in feed.read()] == [TrialState.COMPLETE]
    assert feed.read() == [] and feed.running == {}


def test_heartbeat_settings_are_checked():
    def cfg(**search):
        return OmegaConf.create({"search": search})

    assert heartbeat_settings(cfg(heartbeat_interval_s=1, grace_period_s=3)) == {"heartbeat_interval_s": 1.0, "grace_period_s": 3.0}
    with pytest.raises(ConfigError, match="search.grace_period_s: must be longer"):
        heartbeat_settings(cfg(heartbeat_interval_s=5, grace_period_s=5))
    with pytest.raises(ConfigError, match="search.heartbeat_interval_s"):
        heartbeat_settings(cfg(heartbeat_interval_s=0, grace_period_s=5))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs procfs to tell a zombie from a live process")
def test_a_zombie_worker_counts_as_dead_so_its_claim_is_recovered():
    """A worker killed with its parent stays a zombie where PID 1 does not reap; kill(pid, 0) still succeeds."""
    import subprocess

    from tfnas.store._claims import alive

    def _alive(pid):
        return alive({"pid": pid})

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        os.kill(child.pid, 0)  # the kernel still answers for it
        assert not _alive(child.pid)
        assert _alive(os.getpid())
    finally:
        child.wait()
    assert not _alive(child.pid)
