"""The redactor: a password drawn from arbitrary printable text, embedded in every URL and DSN form SQLAlchemy,
psycopg and redis accept, never survives it; it runs in linear time (1 MB lines in milliseconds); and it is
applied to streams, log records, learnt secrets and tracebacks."""
import logging
import sys
import time
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfnas.redaction import MASK, forget_secrets, is_secret_key, learn_secrets, redact, redact_text
from tfnas.redacted_output import RedactingStream, redact_log_records, redacted_output

# Printable text (str.isprintable, so spaces but no line breaks) holding one capital Q, X, Z or J: the templates
# below use none of those, so a Q, X, Z or J in the output can only be a leaked piece of the password.
PRINTABLE = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")) | st.just(" ")
MARKS = "QXZJ"
PASSWORDS = st.tuples(st.text(PRINTABLE, max_size=24), st.sampled_from(MARKS), st.text(PRINTABLE, max_size=24)).map("".join)


def libpq_quote(password: str) -> str:
    """How a libpq keyword/value DSN carries a value: bare, or in '...' with \\ and ' escaped."""
    if password and not any(c.isspace() or c in "'\\" for c in password):
        return password
    return "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"


FORMS = {  # name -> (how the password is written into the form, the form)
    "userinfo, raw (unencoded / @ : and spaces)": (str, "postgresql+psycopg://alice:{}@db.example:5432/tfnas"),
    "userinfo, percent-encoded": (lambda p: quote(p, safe=""), "postgresql+psycopg://alice:{}@db.example/tfnas"),
    "query password": (quote_plus, "postgresql+psycopg://alice@db.example/tfnas?sslmode=require&password={}&connect_timeout=3"),
    "query sslpassword, last": (quote_plus, "postgresql+psycopg://alice@db.example/tfnas?sslmode=require&sslpassword={}"),
    "query, raw": (lambda p: "".join(c for c in p if not c.isspace() and c not in "&#") or "Q",
                   "postgresql://alice@db.example/tfnas?password={}"),
    "libpq DSN": (libpq_quote, "host=db.example port=5432 user=alice password={} dbname=tfnas"),
    "redis, password only": (str, "redis://:{}@localhost:6379/0"),
    "rediss, user and password": (str, "rediss://alice:{}@localhost:6379/0"),
    "an override": (str, "search.storage=postgresql+psycopg://alice:{}@db.example/tfnas"),
    "a secret key override": (lambda p: libpq_quote(p).replace(" ", "\\ "), "+search.db_password={}"),
    "an error message": (str, "search.storage: cannot open postgresql+psycopg://alice:{}@db.example/tfnas: "
                              "operationalerror: connection refused"),
    "a python repr": (repr, "{{'password': {}, 'user': 'alice'}}"),
    "json": (lambda p: __import__("json").dumps(p), '{{"token": {}, "user": "alice"}}'),
}


@pytest.fixture(autouse=True)
def no_learnt_secrets():
    forget_secrets()  # these tests are about the patterns alone
    yield
    forget_secrets()


@pytest.mark.parametrize("form", FORMS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=PASSWORDS)
def test_a_password_in_any_form_never_survives(form, password):
    encode, template = FORMS[form]
    embedded = encode(password)
    text = template.format(embedded)
    out = redact_text(text)
    assert embedded not in out and not set(MARKS) & set(out), (text, out)
    assert MASK in out


@settings(max_examples=60, deadline=None)
@given(password=PASSWORDS)
def test_a_password_learnt_from_the_config_is_masked_in_any_later_text(password):
    """What SQLAlchemy parses out of the URL (decoded) is masked wherever a library prints it."""
    forget_secrets()
    url = f"postgresql+psycopg://alice:{quote(password, safe='')}@db.example/tfnas"
    learn_secrets({"search": {"storage": url}})
    if len(password) >= 4:
        assert password not in redact_text(f"connection failed: password {password} was refused")
    assert quote(password, safe="") not in redact_text(f"dsn {url}")


def test_known_forms_read_well_after_masking():
    assert redact_text("postgresql+psycopg://alice:s3cret@db.example/x") == "postgresql+psycopg://alice:***@db.example/x"
    assert redact_text("postgresql+psycopg://u:x/secret@host/db") == "postgresql+psycopg://u:***@host/db"
    assert redact_text("postgresql://u@h/db?sslmode=require&password=p&x=1") == "postgresql://u@h/db?sslmode=require&password=***&x=1"
    assert redact_text("host=db password='a b\\'c' dbname=x") == "host=db password='***' dbname=x"
    assert redact_text("redis://:pw@localhost:6379/0") == "redis://:***@localhost:6379/0"
    assert redact_text(r"see\ postgresql+psycopg\://alice\:s3cret@db/x") == r"see\ postgresql+psycopg\://alice\:***@db/x"
    assert redact_text("a=1,search.db_password=p,b=2") == "a=1,search.db_password=***,b=2"
    # what must stay: no password, a path that ends in passwd, keys that only look alike
    for text in ("postgresql://u@host:5432/db", "cannot write /etc/passwd: File exists", "tokens: 5",
                 "space.tokenizer=/data/tok.json", "passfile=/home/u/.pgpass"):
        assert redact_text(text) == text
    assert redact({"token": "t", "nested": {"db_password": "p", "tokens": 5}, "list": ["a://u:p@h"]}) == {
        "token": "***", "nested": {"db_password": "***", "tokens": 5}, "list": ["a://u:***@h"]}


@pytest.mark.parametrize("key, secret", [("sslpassword", True), ("PGPASSWORD", True), ("db_pass", True), ("hf_token", True),
                                         ("WANDB_API_KEY", True), ("client_secret", True), ("tokens", False),
                                         ("tokenizer", False), ("passfile", False), ("max_tokens", False)])
def test_secret_keys(key, secret):
    assert is_secret_key(key) is secret


HOSTILE = {  # one megabyte each, shaped to make a backtracking pattern go quadratic
    "no spaces": "a" * 1_000_000,
    "keys and colons": "a:" * 500_000,
    "schemes": "://" * 333_333,
    "userinfo without @": "x://u:" * 166_666,
    "secret keys": "pass=b " * 142_857,
    "unclosed quotes": "password='" * 100_000,
    "many lines of urls": "\n".join(["x://u:p@h"] * 100_000),
    "at signs": "a@" * 500_000,
    "one long user": "x://" + "u" * 500_000 + ":" + "@" * 500_000,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_megabyte_line_is_redacted_in_linear_time(name):
    text = HOSTILE[name]
    start = time.process_time()
    redact_text(text)
    assert time.process_time() - start < 2.0  # a quadratic pass takes minutes on these


def test_streams_log_records_and_tracebacks_are_redacted(capsys):
    secret = "postgresql://u:StreamSecret9@h/db"
    with redacted_output({"search": {"storage": secret}}):
        print(secret)
        sys.stderr.write(f"error {secret}\n")
        assert isinstance(sys.stdout, RedactingStream) and sys.stdout.isatty() in (True, False)
    out, err = capsys.readouterr()
    assert "StreamSecret9" not in out + err and "u:***@h" in out
    assert not isinstance(sys.stdout, RedactingStream)  # restored


def test_log_records_are_redacted_whatever_their_logger():
    """A logger that does not propagate and has its own handler, as wandb's debug.log has: its records are
    redacted when they are made, so that handler never sees the password (nor the one in a traceback)."""
    import io

    redact_log_records()
    stream = io.StringIO()
    logger = logging.getLogger("tfnas-test.own-handler")
    logger.propagate, logger.level = False, logging.INFO
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.info("config: %s", {"storage": "postgresql://u@h/db?password=LogSecret7"})
        try:
            raise RuntimeError("redis://:TraceSecret8@localhost:6379")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "LogSecret7" not in text and "TraceSecret8" not in text
    assert "password=***" in text and "RuntimeError" in text and "redis://:***@localhost" in text


def test_an_unexpected_error_prints_its_traceback_with_secrets_masked(capsys):
    from tfnas.experiments.script import run_script

    def main(argv):
        raise RuntimeError("could not reach postgresql+psycopg://u:x/TraceSecret6@db/x")

    with pytest.raises(SystemExit) as stop:
        run_script(main, [], prog="tfnas demo")
    err = capsys.readouterr().err
    assert stop.value.code == 1 and "Traceback" in err and "RuntimeError" in err
    assert "TraceSecret6" not in err and "u:***@db" in err


def test_hydra_files_are_rewritten_when_the_secret_is_also_inside_an_interpolation(tmp_path):
    """A password `tfnas` (the CI database's) also occurs in `${tfnas_help:space}`: the masked file is still
    written, valid YAML, with the URL masked and every other key kept."""
    import yaml

    from tfnas.redacted_output import redact_yaml_file

    forget_secrets()
    path = tmp_path / "hydra.yaml"
    path.write_text(
        "search:\n  storage: postgresql+psycopg://tfnas:tfnas@127.0.0.1:5432/db\n"
        "help:\n  template: '${tfnas_help:space}'\n  other: 3\n",
        encoding="utf-8",
    )
    try:
        redact_yaml_file(path)
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    finally:
        forget_secrets()
    assert ":tfnas@" not in text
    assert data["help"]["other"] == 3
    assert set(data) == {"search", "help"}
