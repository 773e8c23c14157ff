"""tracking=wandb writes a real offline W&B run (read back from its .wandb file), plus the report, from search.py."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfnas.errors import ConfigError
from tfnas.tracking.wandb_offline import find_offline_runs, read_offline_run
from tfnas.tracking.wandb_tracker import WandbTracker, shortlist_table

ROOT = Path(__file__).resolve().parents[2]
TINY = ["space.model.emsize=16", "space.model.nhid=24", "space.batch_size=8", "space.seq_len=12"]


def search(tmp_path, *overrides, budget=4, multirun=False):
    """Run search.py in a subprocess that logs any name lookup or outside connection to tmp_path/network.log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "netguard"), str(ROOT)]),
        TFNAS_NETGUARD_LOG=str(tmp_path / "network.log"),
        HOME=str(tmp_path / "home"),  # wandb's folders default to ~/.config, ~/.cache, ~/.local/share
        XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
        XDG_CACHE_HOME=str(tmp_path / "home" / ".cache"),
        XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"),
        WANDB_MODE="online",  # the config's offline mode must win over the environment
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "search.py"), *(["-m"] if multirun else []), f"search.budget={budget}", *TINY, *overrides],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def check_offline_run(run_dir, name: str, group: str) -> None:
    """The W&B offline run of one search job, read back from its .wandb file, against the run directory."""
    summary = json.loads((run_dir / "summary.json").read_text())
    (folder,) = find_offline_runs(run_dir)
    assert folder.parent == run_dir / "wandb" and folder.name.startswith("offline-run-")
    run = read_offline_run(folder)
    assert run.exited and run.project == "tfnas" and run.name == name and run.group == group
    # the resolved Hydra config is the run config
    assert run.config["search"]["budget"] == 4 and run.config["space"]["model"]["emsize"] == 16
    assert run.config["tracking"]["mode"] == "offline"
    # one history row per scored architecture, as it arrived, with the best-so-far curve
    rows = [r for r in run.history if "score" in r]
    assert [r["evaluation"] for r in rows] == [1, 2, 3, 4]
    results = [line.split(",") for line in (run_dir / "results.csv").read_text().splitlines()[1:]]
    assert [r["score"] for r in rows] == pytest.approx([float(r[2]) for r in results])
    best = [r["best_so_far"] for r in rows]
    assert best == sorted(best) and best[-1] == pytest.approx(summary["best"]["score"])
    assert all("seconds" in r and "metrics/hidden_cov" in r for r in rows)
    # final summary values, the shortlist table, the plots and the files artifact
    assert run.summary["best_score"] == pytest.approx(summary["best"]["score"])
    assert run.summary["evaluated"] == 4 and run.summary["undefined"] == summary["undefined"]
    assert run.summary["shortlist"]["nrows"] == 4
    table = json.loads((folder / "files" / run.summary["shortlist"]["path"]).read_text())
    assert "arch" in table["columns"] and len(table["data"]) == 4
    assert {f"plots/{p}" for p in ("best_so_far", "score_histogram")} <= set(run.summary)
    (artifact,) = [a for a in run.artifacts if a["type"] == "search-results"]
    assert set(artifact["files"]) == {"results.csv", "best.json", "summary.json", "report.md"}
    assert (folder / "tfnas-artifact" / "results.csv").read_text() == (run_dir / "results.csv").read_text()
    # the report and its plots, pointing at the offline run and how to upload it
    report = (run_dir / "report.md").read_text()
    assert (run_dir / "plots" / "best_so_far.png").stat().st_size > 0
    assert (run_dir / "plots" / "score_histogram.png").stat().st_size > 0
    assert f"wandb sync {folder}" in report


URL_PASSWORD = "s3cretPWinURL"
KEY_PASSWORD = "s3cretPWbyKey"
FORMS = {  # every other form a password takes in a URL or DSN, each with its own secret
    "s3cretPWinQuery": "+search.db_url='postgresql+psycopg://alice@db.example/x?sslmode=require&password={}'",
    "s3cretPWafterSlash": "+search.replica='postgresql+psycopg://alice:x/{}@db.example/x'",
    "s3cretPWinDSN": "+search.dsn='host=db.example password={} user=alice'",
    "s3cretPWinRedis": "+search.cache='redis://:{}@localhost:6379/0'",
}


def test_every_job_of_a_sweep_is_a_full_offline_run_with_its_report(tmp_path):
    """search.py -m with tracking=wandb, in a process that logs any network use: every job is a complete
    offline run (history, summaries, shortlist, plots, artifact), named after its job and grouped by the
    sweep, with its report; the sweep compares. (A plain search's run, ungrouped: the in-process test.)
    Secrets planted in the config (in URLs -- userinfo, query, an unencoded slash, Redis --, a libpq DSN and under
    a secret-named key) reach no file of the sweep: .hydra, multirun.yaml, summaries, reports, W&B's offline run
    files, debug logs, artifact copies."""
    sweep = tmp_path / "sweep"
    proc = search(tmp_path, "seed=0,1", "tracking=wandb", "tracking.system_stats=false", f"hydra.sweep.dir={sweep}",
                  f"tracking.notes=see postgresql+psycopg://alice:{URL_PASSWORD}@db.example/x",
                  f"+search.db_password={KEY_PASSWORD}", *(form.format(secret) for secret, form in FORMS.items()), multirun=True)
    files = [p for p in sweep.rglob("*") if p.is_file()]
    assert {"summary.json", "report.md", "config.yaml", "overrides.yaml", "hydra.yaml", "multirun.yaml", "debug.log"} <= {p.name for p in files}
    secrets = (URL_PASSWORD, KEY_PASSWORD, *FORMS)
    leaks = [f"{secret} in {p}" for p in files for secret in secrets if secret.encode() in p.read_bytes()]
    assert not leaks, leaks
    assert not [secret for secret in secrets if secret in proc.stdout + proc.stderr]
    assert r"alice\:***@db.example" in (sweep / "0" / ".hydra" / "overrides.yaml").read_text()  # as Hydra escapes it
    for job, seed in (("0", 0), ("1", 1)):
        check_offline_run(sweep / job, f"{job}-random-hidden_cov-seed{seed}", str(sweep))
    runs = [read_offline_run(f) for job in ("0", "1") for f in find_offline_runs(sweep / job)]
    assert [r.config["hydra_job"]["job_num"] for r in runs] == [0, 1]
    assert runs[0].run_id != runs[1].run_id
    assert f"report: {sweep / '1' / 'report.md'}" in proc.stdout
    # offline never tried to reach a server (Python side; wandb-core was checked by hand with strace)
    network = tmp_path / "network.log"
    assert not network.exists(), network.read_text()
    assert not (tmp_path / "wandb").exists()
    assert not [p for p in (tmp_path / "home").rglob("*wandb*")]  # nothing of wandb's outside the run directory
    from tfnas.commands.report import main

    assert main([str(sweep)]) == 0
    assert "| random | hidden_cov |" in (sweep / "comparison.md").read_text()


def test_tracking_none_writes_report_without_wandb(tmp_path):
    from apprun import search as search_in_process

    run_dir = tmp_path / "run"
    search_in_process(run_dir, "search.budget=2", "search.report=true")
    assert (run_dir / "report.md").exists() and (run_dir / "plots" / "best_so_far.png").exists()
    assert not (run_dir / "wandb").exists()


def test_bad_mode_names_the_field():
    with pytest.raises(ConfigError, match="tracking.mode"):
        WandbTracker(mode="offlne")


def test_shortlist_table_flattens_trained_results():
    columns, rows = shortlist_table([
        {"rank": 1, "hash": "a", "score": 1.0, "arch": {"x": 1}, "trained": {"valid_loss": 5.5}},
        {"rank": 2, "hash": "b", "score": float("-inf"), "arch": {"x": 2}},
    ])
    assert columns == ["rank", "hash", "score", "arch", "trained/valid_loss"]
    assert rows[0][3] == '{"x":1}' and rows[0][4] == 5.5
    assert rows[1][2] == "-inf" and rows[1][4] is None


def read_when_exited(folder):
    """The offline run once wandb-core has written its exit record: the process flushes the transaction log after
    `run.finish()` returns (on a busy machine the file can still be empty when the search ends)."""
    for _ in range(300):
        run = read_offline_run(folder)
        if run.exited:
            return run
        time.sleep(0.1)
    return run


def test_wandb_in_process_best_summaries_evaluation_steps_and_failure(tmp_path, monkeypatch):
    """In-process: best-so-far summaries by direction, the `evaluation` step on every row, nothing
    outside the run directory, and a failed search ends its run with exit code 1."""
    import tfnas.app
    from apprun import search as search_in_process

    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR", "WANDB_MODE"):
        monkeypatch.delenv(var, raising=False)
    run_dir = tmp_path / "run"
    search_in_process(run_dir, "search.budget=4", "tracking=wandb", "tracking.system_stats=false", "train=benchmark")
    (folder,) = find_offline_runs(run_dir)
    run = read_when_exited(folder)
    assert run.name == "random-hidden_cov-seed0" and run.group == ""  # a plain search: no sweep, no group
    assert all("evaluation" in row for row in run.history)
    scores = [row["score"] for row in run.history if "score" in row]
    assert run.summary["score"] == {"max": max(scores)}  # hidden_cov: higher is better, so the summary keeps the max
    assert run.summary["best_so_far"] == {"max": max(scores)}
    assert run.exit_code == 0
    # wandb's config, cache and data folders were inside the run directory, and are unset again
    assert not {"WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"} & set(os.environ)
    assert (run_dir / "wandb" / "cache").is_dir()  # the artifact's staging, by default under ~/.cache/wandb

    def broken(*args, **kwargs):
        raise RuntimeError("shortlist exploded")

    monkeypatch.setattr(tfnas.app, "ranked_entries", broken)  # the shortlist step
    failed_dir = tmp_path / "failed"
    with pytest.raises(RuntimeError, match="exploded"):
        search_in_process(failed_dir, "search.budget=2", "tracking=wandb", "tracking.system_stats=false", "metric=params")
    (folder,) = find_offline_runs(failed_dir)
    failed = read_when_exited(folder)
    assert failed.exited and failed.exit_code == 1
    assert "shortlist exploded" in failed.summary["error"]


def test_tracking_wandb_without_wandb_installed_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    from apprun import search as search_in_process

    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` now raises ImportError, as where it is not installed
    run_dir = tmp_path / "run"
    with pytest.raises(ConfigError) as err:
        search_in_process(run_dir, "search.budget=2", "tracking=wandb")
    assert err.value.field == "tracking" and "pip install 'tfnas[wandb]'" in str(err.value)
    assert not run_dir.exists() or not any(run_dir.iterdir())
