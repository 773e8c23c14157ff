"""Workers end with their parent, with real processes: kill -9 of the main process leaves no worker
running (its claim is recovered by the next start), and SIGINT to the main process alone stops every
worker, writes the summary and counts what was really scored."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna

from tfnas.store import EvaluationStore

from apprun import TINY, interruptible
from study_db import completed_trials

ROOT = Path(__file__).resolve().parents[2]


def start(run_dir: Path, *overrides: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "search.py"), *TINY, "search.budget=400", "search.n_workers=2", "search.threads=1",
         f"hydra.run.dir={run_dir}", *overrides],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible,
    )


def workers_of(pid: int) -> list[int]:
    """Live child processes of `pid` started by multiprocessing's spawn (not its resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_rows(db: Path, proc: subprocess.Popen, n: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if completed_trials(db) >= n:
            return
        time.sleep(0.1)
    raise AssertionError(f"the search did not score {n} architectures in time: {proc.poll()}")


def test_kill_9_of_the_main_process_stops_its_worker_and_leaves_its_claim_to_recover(tmp_path):
    run_dir = tmp_path / "run"
    proc = start(run_dir)
    wait_for_rows(run_dir / "study.db", proc, 2)
    (worker,) = workers_of(proc.pid)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker), "the worker outlived its parent by 10 s"
    url = f"sqlite:///{run_dir / 'study.db'}"

    def claims():
        return [t for t in optuna.load_study(study_name="tfnas", storage=url).trials
                if t.state.name == "RUNNING" and t.user_attrs.get("kind") == "claim"]

    assert all(not alive(t.user_attrs["worker"]["pid"]) for t in claims())  # claims of dead processes only
    EvaluationStore(url, "tfnas", ["maximize"], "hidden_cov")  # what the next start does first
    assert not claims()  # failed, so their architectures are scored again


def test_sigint_to_the_main_process_alone_stops_all_and_counts_what_was_scored(tmp_path):
    run_dir = tmp_path / "run"
    proc = start(run_dir)
    wait_for_rows(run_dir / "study.db", proc, 2)
    (worker,) = workers_of(proc.pid)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]  # the summary is written, then the exit status a shell expects
    assert not alive(worker)
    assert (run_dir / "summary.json").exists()
    rows = (run_dir / "results.csv").read_text().strip().splitlines()[1:]
    line = [x for x in err.splitlines() if x.startswith("tfnas: interrupted:")]
    assert line and f", {len(rows)} in the study, all saved" in line[0], err[-2000:]
    scored_here = int(line[0].split("interrupted: ")[1].split(" ")[0])
    assert 1 <= scored_here <= len(rows) and len(rows) >= 2
