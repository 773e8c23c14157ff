"""search.executor=ray on a real local Ray cluster (loopback, 2 CPUs, 100 MB object store, no dashboard)."""
import csv
import importlib.util
import json
import os
import signal
import threading
import time

import optuna
import pytest
import ray

from apprun import search
from study_db import completed_trials, running_claims
from tfnas.errors import ConfigError

pytestmark = pytest.mark.xdist_group("ray")  # one worker runs them all: they share a module fixture

# hydra-ray-launcher pins a cloudpickle that clashes with joblib, so `pip install -e ".[test]"` leaves it out
def _has_ray_launcher() -> bool:
    try:
        return importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is not None
    except ModuleNotFoundError:  # no hydra_plugins namespace at all
        return False


RAY_LAUNCHER = _has_ray_launcher()


def evaluations(url: str) -> list:
    study = optuna.load_study(study_name="tfnas", storage=url)
    return [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE" and t.user_attrs.get("kind") == "evaluation"]


def test_unreachable_ray_address_is_refused_before_anything_is_written(tmp_path):
    assert not ray.is_initialized()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "keep.txt").write_text("earlier work")
    with pytest.raises(ConfigError, match="search.ray_address"):
        search(run_dir, "search.executor=ray", "search.ray_address=127.0.0.1:1", "search.budget=4")
    assert sorted(p.name for p in run_dir.iterdir()) == ["keep.txt"]
    with pytest.raises(ConfigError, match="search.ray_address"):
        search(run_dir, "search.executor=ray", "search.ray_address=not-an-address", "search.budget=4")


def test_a_local_ray_started_by_the_search_ends_with_it_on_kill_9():
    """The driver starts its own Ray (no cluster on this machine: its own RAY_TMPDIR); kill -9 of the driver ends
    every process of that Ray within seconds, the raylet's agents included (tfnas/executors/ray_reaper.py)."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import psutil

    tests = Path(__file__).resolve().parents[1]
    code = ("import time; from apprun import config; from tfnas.executors import make_executor; "
            "make_executor(config('search.executor=ray'), 1); print('up', flush=True); time.sleep(600)")
    driver = subprocess.Popen([sys.executable, "-c", code], cwd=tests, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": f"{tests}:{tests.parent}", "RAY_TMPDIR": tempfile.mkdtemp(prefix="r")})
    try:
        assert driver.stdout.readline().strip() == "up"
        deadline = time.monotonic() + 60
        while sum("Agent" in p.name() for p in psutil.Process(driver.pid).children(recursive=True)) < 2:
            assert time.monotonic() < deadline, "Ray's agents did not start"
            time.sleep(0.1)
        family = psutil.Process(driver.pid).children(recursive=True)
    finally:
        driver.kill()
        driver.wait()
    _, alive = psutil.wait_procs(family, timeout=10)
    for process in alive:
        process.kill()
    assert not alive, f"outlived the driver by 10 s: {[p.name() for p in alive]}"


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, object_store_memory=100 * 2**20, include_dashboard=False, logging_level="WARNING")
    yield
    ray.shutdown()


def test_missing_resources_are_refused(tmp_path, local_ray):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with pytest.raises(ConfigError, match=r"search.worker_resources: .*room for 0 of the 2 workers"):
        search(run_dir, "search.executor=ray", "search.n_workers=2", "search.worker_resources={num_cpus: 1, num_gpus: 1}")
    with pytest.raises(ConfigError, match=r"search.worker_resources: .*room for 2 of the 3 workers"):
        search(run_dir, "search.executor=ray", "search.n_workers=3")
    with pytest.raises(ConfigError, match="search.storage"):
        search(run_dir, "search.executor=ray", "search.storage=memory")
    assert list(run_dir.iterdir()) == []


def test_two_actors_one_killed_halfway_still_score_the_budget_once_each(tmp_path, local_ray):
    run_dir, budget = tmp_path / "run", 20
    db = run_dir / "study.db"
    out: dict = {}

    def main() -> None:
        try:
            out["summary"] = search(run_dir, "search.executor=ray", "search.n_workers=2", f"search.budget={budget}",
                                    "metric=params", "search.heartbeat_interval_s=0.5", "search.grace_period_s=2")
        except BaseException as err:  # surface it in the assertion below
            out["error"] = err

    thread = threading.Thread(target=main)
    thread.start()
    victim = None
    deadline = time.monotonic() + 240
    while victim is None and thread.is_alive() and time.monotonic() < deadline:
        if completed_trials(db) >= budget // 2:  # halfway: kill an actor in the middle of an evaluation
            for number, worker in running_claims(db):
                if worker["pid"] != os.getpid():
                    os.kill(worker["pid"], signal.SIGKILL)
                    victim = (number, worker["pid"])
                    break
        time.sleep(0.005)
    thread.join(timeout=300)
    assert "error" not in out, out.get("error")
    assert victim is not None, "no actor was caught mid-evaluation"

    url = f"sqlite:///{db}"
    trials = evaluations(url)
    hashes = [t.user_attrs["hash"] for t in trials]
    assert len(hashes) == budget and len(set(hashes)) == budget  # the budget, each architecture once
    study = optuna.load_study(study_name="tfnas", storage=url)
    lost = study.trials[victim[0]]
    assert lost.state.name == "FAIL" and lost.user_attrs["hash"] in hashes  # its evaluation was scored again
    assert {t.user_attrs["worker"]["pid"] for t in trials} - {victim[1]}  # the other actor did work
    summary = out["summary"]
    assert len(summary["failed_workers"]) == 1 and summary["failed_workers"][0].startswith("tfnas-worker-")
    with open(run_dir / "results.csv", newline="") as handle:
        assert sorted(r["hash"] for r in csv.DictReader(handle)) == sorted(hashes)


@pytest.mark.skipif(not RAY_LAUNCHER, reason="hydra-ray-launcher is not installed "
                    "(pip install --no-deps hydra-ray-launcher==1.2.2 runs this test)")
def test_hydra_multirun_on_the_ray_launcher(tmp_path, local_ray):
    """hydra/launcher=ray (hydra-ray-launcher): each job of the sweep runs as a Ray task on a running cluster
    (here the local one; address=auto). The launcher sets an object-store size by default, which Ray refuses
    when connecting to a cluster: object_store_memory=null lifts it (see docs/scaling-out.md)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, str(root / "search.py"), "-m", "space.model.emsize=16", "space.model.nhid=24", "space.batch_size=8",
         "space.seq_len=12", "search.progress=false", "search.report=false", "metric=params", "search.budget=3", "seed=0,1", "hydra/launcher=ray",
         "hydra.launcher.ray.init.address=auto", "+hydra.launcher.ray.init.object_store_memory=null", f"hydra.sweep.dir={tmp_path}"],
        cwd=root, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Ray Launcher is launching 2 jobs" in out.stdout + out.stderr
    summaries = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*/summary.json"))]
    assert sorted(s["seed"] for s in summaries) == [0, 1] and all(s["evaluated"] == 3 for s in summaries)
