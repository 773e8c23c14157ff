"""A second search started into the run directory of a search still running is refused for that reason."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apprun import TINY, interruptible, search
from study_db import completed_trials
from tfnas.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_search_into_a_live_run_dir_is_refused_naming_the_live_search(tmp_path):
    run_dir = tmp_path / "run"
    live = subprocess.Popen(
        [sys.executable, str(ROOT / "search.py"), *TINY, "search.budget=100000", f"hydra.run.dir={run_dir}"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible,
    )
    try:
        deadline = time.monotonic() + 120
        while completed_trials(run_dir / "study.db") < 3 and live.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live.poll() is None, live.stderr.read()[-2000:]
        with pytest.raises(ConfigError) as err:
            search(run_dir, "search.budget=5")
        message = str(err.value)
        assert message.startswith("hydra.run.dir:") and f"pid {live.pid}" in message and "still running" in message
        assert "study.db" not in message
        assert live.poll() is None  # the live search goes on
    finally:
        live.kill()
        live.wait()
    summary = search(run_dir, "search.budget=5")  # its process is gone (kill -9): the next start resumes
    assert summary["resumed_from"] >= 3
