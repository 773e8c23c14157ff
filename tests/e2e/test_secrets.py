"""Secrets never reach a file: a password planted in the config (in a URL and under a secret-named
key) appears nowhere in the run directory -- .hydra, summary.json, report.md, W&B's offline run
files, debug logs and artifact copies included."""
import os
import subprocess
import sys
from pathlib import Path

from tfnas.config import compose
from tfnas.redaction import redact, redact_text

ROOT = Path(__file__).resolve().parents[2]
TINY = ["space.model.emsize=16", "space.model.nhid=24", "space.batch_size=8", "space.seq_len=12"]
URL_PASSWORD = "s3cretPWinURL"
KEY_PASSWORD = "s3cretPWbyKey"


def test_redaction_masks_url_passwords_and_secret_keys():
    assert redact_text("postgresql+psycopg://alice:s3cret@db.example/x") == "postgresql+psycopg://alice:***@db.example/x"
    assert redact_text("+search.api_key=abc123") == "+search.api_key=***"
    assert redact({"token": "t", "nested": {"db_password": "p", "tokens": 5}, "list": ["a://u:p@h"]}) == {
        "token": "***", "nested": {"db_password": "***", "tokens": 5}, "list": ["a://u:***@h"]}
    cfg = compose(["search.storage=postgresql+psycopg://alice:s3cretPW@host/db"])
    from omegaconf import OmegaConf

    assert "s3cretPW" not in str(redact(OmegaConf.to_container(cfg, resolve=True)))


def test_a_planted_password_is_in_no_file_of_the_run_directory(tmp_path):
    run_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"),
               WANDB_CACHE_DIR=str(tmp_path / "wandb-cache"), WANDB_DATA_DIR=str(tmp_path / "wandb-data"))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "search.py"), *TINY, "search.budget=2", "search.progress=false", f"hydra.run.dir={run_dir}",
         "tracking=wandb", "tracking.system_stats=false",
         f"tracking.notes=see postgresql+psycopg://alice:{URL_PASSWORD}@db.example/x",
         f"+search.db_password={KEY_PASSWORD}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"summary.json", "report.md", "config.yaml", "overrides.yaml", "hydra.yaml", "debug.log"} <= names
    assert any(p.suffix == ".wandb" for p in files)
    leaks = [str(p) for p in files for secret in (URL_PASSWORD, KEY_PASSWORD) if secret.encode() in p.read_bytes()]
    assert not leaks, leaks
    assert URL_PASSWORD not in proc.stdout + proc.stderr and KEY_PASSWORD not in proc.stdout + proc.stderr
    assert "alice:***@db.example" in (run_dir / ".hydra" / "overrides.yaml").read_text()
