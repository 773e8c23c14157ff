"""Peek at a run's SQLite study while another process writes it (tests that wait for, or kill, a live search)."""
import json
import sqlite3
from pathlib import Path


def completed_trials(db: Path) -> int:
    """COMPLETE trials in the study file `db`; 0 while it does not exist yet or is locked. Plain SQL rather than
    optuna.load_study: cheap enough to poll every few milliseconds."""
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute("SELECT count(*) FROM trials WHERE state='COMPLETE'").fetchone()[0]
    except sqlite3.Error:
        return 0


def running_claims(db) -> list[tuple[int, dict]]:
    """(trial number, worker) of the claims in flight, read straight from the SQLite file."""
    try:
        with sqlite3.connect(db, timeout=5) as con:
            rows = con.execute(
                "SELECT t.number, a.value_json FROM trials t JOIN trial_user_attributes a ON a.trial_id = t.trial_id "
                "WHERE t.state = 'RUNNING' AND a.key = 'worker'"
            ).fetchall()
            kinds = dict(con.execute(
                "SELECT t.number, a.value_json FROM trials t JOIN trial_user_attributes a ON a.trial_id = t.trial_id "
                "WHERE t.state = 'RUNNING' AND a.key = 'kind'"
            ).fetchall())
    except sqlite3.Error:
        return []
    return [(n, json.loads(w)) for n, w in rows if kinds.get(n) == '"claim"']
