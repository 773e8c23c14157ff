"""search.threads: the default leaves busy cores alone and shares the free ones among workers; the
load generator used by `bench_metrics.py --load` starts and stops real processes."""
import os

import pytest
import torch

from apprun import search
from tfnas.errors import ConfigError
from tfnas.experiments.load import busy_processes
from tfnas.threads import busy_cores, clamp_threads, default_threads, resolve_threads, usable_cores


@pytest.mark.parametrize("cores, busy, workers, expected", [
    (2, 0.0, 1, 2),   # idle two-core machine: both cores
    (2, 1.0, 1, 1),   # one other busy process: the free core only (the 25x cliff came from using both)
    (2, 0.4, 1, 2),
    (2, 5.0, 1, 1),   # everything busy: still one thread
    (16, 0.0, 4, 4),  # shared among workers: threads x workers <= cores
    (16, 3.0, 4, 3),
    (2, 0.0, 3, 1),
])
def test_default_threads_use_the_free_cores_shared_among_workers(cores, busy, workers, expected):
    assert default_threads(workers, cores=cores, busy=busy) == expected


def test_usable_cores_follow_the_affinity_mask():
    assert usable_cores() == len(os.sched_getaffinity(0))
    assert 0.0 <= busy_cores(0.05) <= usable_cores() + 0.5


def test_an_explicit_thread_count_is_used_within_the_cores_and_checked():
    cores = usable_cores()
    assert resolve_threads(cores, n_workers=1) == cores
    assert resolve_threads(None, n_workers=1) >= 1
    with pytest.raises(ConfigError, match="search.threads"):
        resolve_threads(True, n_workers=1)


@pytest.mark.parametrize("workers, threads, cores, expected", [
    (2, 2, 2, (2, 1)),    # `tfnas reproduce rnn --threads 2` (2 workers) on two cores
    (1, 1000, 2, (1, 2)),
    (1, 2, 2, (1, 2)),    # fits: unchanged
    (4, 3, 16, (4, 3)),
    (3, 1, 2, (3, 1)),    # workers are warned about, never dropped
    (2, 0, 2, (2, 0)),    # 0: the command's default, kept
])
def test_workers_times_threads_beyond_the_cores_are_clamped_with_a_warning(workers, threads, cores, expected, caplog):
    with caplog.at_level("WARNING", logger="tfnas"):
        assert clamp_threads(workers, threads, cores=cores) == expected
    assert bool(caplog.records) == (workers * max(threads, 1) > cores)
    if threads > expected[1]:
        assert f"--workers={workers} x --threads={threads}" in caplog.text and f"--threads={expected[1]}" in caplog.text
    with pytest.raises(ConfigError, match="--workers"):
        clamp_threads(0, threads, cores=cores)


def test_search_threads_beyond_the_cores_is_clamped_in_the_app(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="tfnas"):
        summary = search(tmp_path / "run", "search.budget=1", "search.threads=1000", "search.storage=memory")
    assert summary["threads"] == usable_cores()
    assert "search.n_workers=1 x search.threads=1000" in caplog.text


def test_a_search_runs_with_its_threads_and_restores_the_caller(tmp_path):
    torch.set_num_threads(1)
    summary = search(tmp_path / "run", "search.budget=1", "search.threads=2", "search.storage=memory")
    assert summary["threads"] == 2 and torch.get_num_threads() == 1


def test_busy_processes_start_and_stop():
    with busy_processes(1) as procs:
        assert all(p.poll() is None for p in procs)
    assert all(p.poll() is not None for p in procs)
