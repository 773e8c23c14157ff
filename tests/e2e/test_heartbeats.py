"""Optuna heartbeats: a live worker is never failed, a dead one's claim is failed after the grace period and
scored again, and a worker whose trial someone else finished drops it and goes on."""
import collections
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
from optuna.storages.journal import JournalFileBackend

from apprun import config, interruptible, search
from tfnas.store import EvaluationStore
from tfnas.build import build_space

ROOT = Path(__file__).resolve().parents[2]
# long enough that an evaluation outlasts the tiny grace period below
SLOWER = ["space.model.emsize=48", "space.model.nhid=64", "space.batch_size=8", "space.seq_len=24", "search.progress=false",
          "search.report=false"]


def study_trials(url: str) -> list:
    return optuna.load_study(study_name="tfnas", storage=url).get_trials(deepcopy=False)


def test_a_live_worker_is_never_failed_by_a_worker_with_a_tiny_grace_period(tmp_path):
    # journal storage: its heartbeats carry sub-second times (SQLite's CURRENT_TIMESTAMP has whole seconds)
    journal = tmp_path / "shared.log"
    settings = {0: [], 1: ["search.heartbeat_interval_s=0.02", "search.grace_period_s=0.05"]}
    def start(w):
        return subprocess.Popen(
            [sys.executable, str(ROOT / "search.py"), *SLOWER, "space.model.nhid=256", "space.seq_len=70",
             "search.budget=100000", f"search.storage=journal:{journal}",
             f"search.worker={w}", f"hydra.run.dir={tmp_path / f'w{w}'}", *settings[w]],
            cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=interruptible,
        )

    def evaluations():
        storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
        return [t for t in optuna.load_study(study_name="tfnas", storage=storage).trials if EvaluationStore.is_evaluation(t)]

    # the worker with the tiny grace period starts first; the other joins once the study holds a claim. Both run
    # until each has scored two architectures while the other was running, then both are interrupted (SIGINT),
    # so the overlap does not depend on how fast this machine is.
    first = start(1)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None and b'claim' not in (journal.read_bytes() if journal.exists() else b""):
        time.sleep(0.05)
    procs = [first, start(0)]
    counts: dict = {}
    while time.monotonic() < deadline and all(p.poll() is None for p in procs) and (len(counts) < 2 or min(counts.values()) < 2):
        time.sleep(0.5)
        counts = collections.Counter(t.user_attrs["worker"]["pid"] for t in evaluations())
    for proc in procs:
        proc.send_signal(signal.SIGINT)
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode in (130, 0), err[-2000:]  # 130: interrupted, as shells expect (0: its budget ran out first)
        assert "dropping this evaluation" not in err and "dead workers as failed" not in err
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(journal)))
    trials = optuna.load_study(study_name="tfnas", storage=storage).trials
    assert not [t.number for t in trials if t.state.name == "FAIL" and t.user_attrs.get("kind") == "claim"]
    done = evaluations()  # undefined scores are FAIL evaluations
    assert len({t.user_attrs["hash"] for t in done}) == len(done)
    by_worker = collections.Counter(t.user_attrs["worker"]["pid"] for t in done)
    assert len(by_worker) == 2 and min(by_worker.values()) >= 2, by_worker  # both scored while the other ran
    for w in (0, 1):
        assert (tmp_path / f"w{w}" / "summary.json").exists()


def test_a_dead_workers_claim_is_failed_after_its_grace_period_and_scored_again(tmp_path):
    """A worker on another machine claimed an architecture, beat once and died (so no pid check can see it)."""
    run_dir = tmp_path / "run"
    search(run_dir, "search.budget=3")
    url = f"sqlite:///{run_dir / 'study.db'}"
    space = build_space(config())
    rng = np.random.default_rng(123)
    done = {t.user_attrs["hash"] for t in study_trials(url)}
    arch = space.sample(rng)
    while space.hash(arch) in done:
        arch = space.sample(rng)
    key = space.hash(arch)
    storage = optuna.storages.RDBStorage(url, heartbeat_interval=1)
    study = optuna.load_study(study_name="tfnas", storage=storage)
    trial = study.ask()
    for name, value in (("hash", key), ("arch", space.to_json(arch)), ("worker", {"host": "another-machine", "pid": 1}),
                        ("grace_s", 1.0), ("kind", "claim")):
        trial.set_user_attr(name, value)
    storage.record_heartbeat(trial._trial_id)
    beat = time.time()

    summary = search(run_dir, "search.budget=6", "search.heartbeat_interval_s=0.2", "search.grace_period_s=1")
    trials = study_trials(url)
    lost = trials[trial.number]
    assert lost.state.name == "FAIL"
    failed_after = lost.datetime_complete.timestamp() - beat
    assert 1.0 <= failed_after < 1.0 + 5  # the grace period, then at the next check
    scored = [t for t in trials if t.state.name == "COMPLETE" and t.user_attrs.get("kind") == "evaluation"]
    assert key in [t.user_attrs["hash"] for t in scored]  # scored again by the live worker
    assert len(scored) == summary["evaluated"] == 6


def test_a_worker_whose_trial_another_failed_drops_it_and_still_writes_its_summary(tmp_path, monkeypatch, caplog):
    from tfnas.metrics.scoring import Scorer

    run_dir = tmp_path / "run"
    url = f"sqlite:///{run_dir / 'study.db'}"
    score = Scorer.__call__
    calls = []

    def scored_while_another_worker_fails_the_claim(self, arch):
        calls.append(1)
        if len(calls) == 2:  # another worker (or an operator) fails the claim in flight, for whatever reason
            other = optuna.load_study(study_name="tfnas", storage=url)
            for t in other.get_trials(states=(optuna.trial.TrialState.RUNNING,)):
                other.tell(t.number, state=optuna.trial.TrialState.FAIL)
        return score(self, arch)

    monkeypatch.setattr(Scorer, "__call__", scored_while_another_worker_fails_the_claim)
    with caplog.at_level(logging.WARNING):
        summary = search(run_dir, "search.budget=5", "search.report=true")
    assert "dropping this evaluation" in caplog.text
    assert summary["evaluated"] == 5 and (run_dir / "report.md").exists()
    assert json.loads((run_dir / "summary.json").read_text())["evaluated"] == 5
    failed = [t for t in study_trials(url) if t.state.name == "FAIL"]
    assert len(failed) == 1 and failed[0].user_attrs["kind"] == "claim"
