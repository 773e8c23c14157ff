"""Secrets are masked before they are written. That a planted password reaches no file of a real run
(.hydra, summaries, reports, W&B's offline run files, debug logs, artifact copies) is checked on a
W&B sweep in tests/e2e/test_tracking_wandb.py, which runs that process anyway."""
from tfnas.config import compose
from tfnas.redaction import redact, redact_text



def test_redaction_masks_url_passwords_and_secret_keys():
    assert redact_text("postgresql+psycopg://alice:s3cret@db.example/x") == "postgresql+psycopg://alice:***@db.example/x"
    assert redact_text("+search.api_key=abc123") == "+search.api_key=***"
    # a multirun job's .hydra/overrides.yaml holds the override as Hydra escapes it
    assert redact_text(r"tracking.notes=see\ postgresql+psycopg\://alice\:s3cret@db.example/x") == (
        r"tracking.notes=see\ postgresql+psycopg\://alice\:***@db.example/x")
    assert redact({"token": "t", "nested": {"db_password": "p", "tokens": 5}, "list": ["a://u:p@h"]}) == {
        "token": "***", "nested": {"db_password": "***", "tokens": 5}, "list": ["a://u:***@h"]}
    cfg = compose(["search.storage=postgresql+psycopg://alice:s3cretPW@host/db"])
    from omegaconf import OmegaConf

    assert "s3cretPW" not in str(redact(OmegaConf.to_container(cfg, resolve=True)))
