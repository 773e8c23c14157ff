"""Ray's processes end with the search that started them, even on kill -9.

`ray.init()` on a machine without a cluster starts one for this process: its GCS server and raylet
end with the driver (Ray sets the kernel's parent-death signal on them), but the agents the raylet
starts (DashboardAgent, RuntimeEnvAgent) notice that only by polling, then spend up to a minute
trying to report it to the dead GCS server. This reaper is a small separate process, in its own
session (a Ctrl-C to the terminal does not reach it), that watches the driver through a pipe: it
remembers every process of the Ray instance the driver started (the roots and their descendants,
with their start times, so a reused pid is never hit) while the driver lives, and when the pipe
closes (the driver exited or was killed) it terminates those still running, and kills them a second
later if they have not ended. Run as a script, it imports nothing from tfnas (only psutil).
"""
from __future__ import annotations

import os
import select
import subprocess
import sys

import psutil

WATCH_EVERY_S = 0.5
TERM_GRACE_S = 1.0


def start_reaper(roots: list[int]) -> subprocess.Popen:
    """Watch the Ray processes `roots` (and everything they start) of this driver; they end when it ends.
    Returns once the reaper has seen them (a kill right after this call is covered too)."""
    reaper = subprocess.Popen([sys.executable, os.path.abspath(__file__), *map(str, roots)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, start_new_session=True, close_fds=True)
    reaper.stdout.readline()  # "watching", or end of file if it could not start
    reaper.stdout.close()
    return reaper


def stop_reaper(reaper: subprocess.Popen | None, timeout_s: float = 5.0) -> None:
    """Close the pipe (the reaper ends what is left of Ray's processes, then itself) and wait for it."""
    if reaper is None:
        return
    reaper.stdin.close()
    try:
        reaper.wait(timeout_s)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait()


def remember(known: dict[int, float], roots: list[int]) -> None:
    """Add the live roots and their descendants (pid -> start time) to `known`."""
    for root in roots:
        try:
            process = psutil.Process(root)
            family = [process, *process.children(recursive=True)]
        except psutil.Error:
            continue
        for member in family:
            try:
                known.setdefault(member.pid, member.create_time())
            except psutil.Error:
                continue


def session_logs(roots: list[int]) -> str | None:
    """The Ray session's log folder, from its processes' command lines (`--log_dir=...`)."""
    for root in roots:
        try:
            for arg in psutil.Process(root).cmdline():
                if arg.startswith(("--log_dir=", "--log-dir=")):
                    return arg.split("=", 1)[1].rstrip("/") + "/"
        except psutil.Error:
            continue
    return None


def orphans(known: dict[int, float], logs: str | None) -> None:
    """Add the processes of the session not seen yet: started moments before the driver died, they were
    reparented when the raylet died with it. Ray's agents keep their log files in the session's folder open."""
    if logs is None:
        return
    since = min(known.values(), default=0.0)
    for process in psutil.process_iter():
        try:
            if process.pid in known or process.create_time() < since:
                continue
            if any(f.path.startswith(logs) for f in process.open_files()):
                known[process.pid] = process.create_time()
        except psutil.Error:
            continue


def reap(known: dict[int, float]) -> None:
    """Terminate the remembered processes still running, then kill those left after TERM_GRACE_S."""
    alive = []
    for pid, started in known.items():
        try:
            process = psutil.Process(pid)
            if process.create_time() == started:
                alive.append(process)
        except psutil.Error:
            continue
    for process in alive:
        try:
            process.terminate()
        except psutil.Error:
            pass
    _, left = psutil.wait_procs(alive, timeout=TERM_GRACE_S)
    for process in left:
        try:
            process.kill()
        except psutil.Error:
            pass


def main(argv: list[str]) -> None:
    roots = [int(pid) for pid in argv]
    known: dict[int, float] = {}
    logs = session_logs(roots)
    remember(known, roots)
    print("watching", flush=True)
    while True:
        remember(known, roots)
        ready, _, _ = select.select([sys.stdin], [], [], WATCH_EVERY_S)
        if ready and not os.read(sys.stdin.fileno(), 4096):  # end of file: the driver is gone or done
            break
    remember(known, roots)
    orphans(known, logs)
    reap(known)


if __name__ == "__main__":
    main(sys.argv[1:])
