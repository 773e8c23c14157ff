"""The study as the source of truth: kill -9 and resume, workers sharing one study (SQLite, PostgreSQL)."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest

from tfnas.errors import ConfigError

from apprun import TINY
from study_db import completed_trials

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get("TFNAS_TEST_POSTGRES_URL", "postgresql+psycopg://tfnas:tfnas@127.0.0.1:5432/tfnas_test")


def search_cmd(*overrides):
    return [sys.executable, str(ROOT / "search.py"), *TINY, *overrides]


def env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def evaluations(url: str, study_name: str = "tfnas") -> list:
    study = optuna.load_study(study_name=study_name, storage=url)
    from tfnas.store import EvaluationStore

    return [t for t in study.get_trials(deepcopy=False) if EvaluationStore.is_evaluation(t)]


def test_resume_after_sigkill_neither_loses_nor_repeats(tmp_path):
    run_dir, budget = tmp_path / "run", 20
    cmd = search_cmd(f"search.budget={budget}", f"hydra.run.dir={run_dir}")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = run_dir / "study.db"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and completed_trials(db) < 5 and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    url = f"sqlite:///{db}"
    before = {t.user_attrs["hash"]: t.user_attrs["metrics"] for t in evaluations(url)}
    assert 5 <= len(before) < budget, "the search must be killed mid-way"

    from apprun import search

    search(run_dir, f"search.budget={budget}")  # the resume itself is not about the process: in-process
    after = evaluations(url)
    hashes = [t.user_attrs["hash"] for t in after]
    assert len(hashes) == budget and len(set(hashes)) == budget  # nothing repeated, budget met
    assert set(before) <= set(hashes)  # nothing lost
    assert all(t.user_attrs["metrics"] == before[t.user_attrs["hash"]] for t in after if t.user_attrs["hash"] in before)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["resumed_from"] == len(before)
    assert summary["evaluated_this_run"] == budget - len(before)
    with open(run_dir / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["hash"] for r in rows) == sorted(hashes)


def test_two_local_workers_share_one_sqlite_study(tmp_path):
    from apprun import search

    run_dir, budget = tmp_path / "run", 24
    search(run_dir, f"search.budget={budget}", "search.n_workers=2")
    trials = evaluations(f"sqlite:///{run_dir / 'study.db'}")
    hashes = [t.user_attrs["hash"] for t in trials]
    assert len(set(hashes)) == len(hashes) >= budget  # one score per architecture
    assert len(hashes) <= budget + 1  # at most one in flight when the budget was reached
    assert len({t.user_attrs["worker"]["pid"] for t in trials}) == 2  # both processes scored
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["failed_workers"] == [] and summary["evaluated"] == len(hashes)
    with open(run_dir / "results.csv", newline="") as handle:
        assert sorted(r["hash"] for r in csv.DictReader(handle)) == sorted(hashes)


def shared_study_by_two_machines(tmp_path, url: str, study_name: str, budget: int = 20):
    """Two independent search processes (as on two machines: search.worker=0/1) on one storage URL."""
    procs = [
        subprocess.Popen(
            search_cmd(f"search.budget={budget}", f"search.storage={url}", f"search.study_name={study_name}",
                       f"search.worker={w}", f"hydra.run.dir={tmp_path / f'machine{w}'}"),
            cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for w in (0, 1)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    trials = evaluations(url, study_name)
    hashes = [t.user_attrs["hash"] for t in trials]
    assert len(set(hashes)) == len(hashes) >= budget
    assert len(hashes) <= budget + 1
    assert len({t.user_attrs["worker"]["pid"] for t in trials}) == 2


def postgres_reachable() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed (pip install -e '.[postgres]')"
    try:
        optuna.storages.RDBStorage(POSTGRES_URL)
    except Exception as err:
        return f"no PostgreSQL server at {POSTGRES_URL} ({type(err).__name__}); start one with scripts/start_postgres.sh"
    return None


def test_two_processes_share_one_postgresql_study(tmp_path):
    reason = postgres_reachable()
    if reason:
        pytest.skip(reason)
    name = f"test-{uuid.uuid4().hex[:8]}"
    try:
        shared_study_by_two_machines(tmp_path, POSTGRES_URL, name)
    finally:
        optuna.delete_study(study_name=name, storage=POSTGRES_URL)


def test_a_different_search_is_refused_on_the_same_study(tmp_path):
    from tfnas.store import EvaluationStore

    url = f"sqlite:///{tmp_path / 's.db'}"
    EvaluationStore(url, "tfnas", ["maximize"], "m", fingerprint={"seed": 0, "metric": "hidden_cov"})
    EvaluationStore(url, "tfnas", ["maximize"], "m", fingerprint={"seed": 0, "metric": "hidden_cov"})  # same: resumes
    with pytest.raises(ConfigError, match="seed: stored 0, now 1"):
        EvaluationStore(url, "tfnas", ["maximize"], "m", fingerprint={"seed": 1, "metric": "hidden_cov"})
    with pytest.raises(ConfigError, match="search.storage"):
        EvaluationStore("not-a-url", "tfnas", ["maximize"], "m")
