"""One redactor for every copy of a secret that could leave the process.

A password reaches tfnas in a URL (`search.storage`) or under a secret-named key. It is masked
(`***`) wherever text is written or logged: console lines, log records, tracebacks, summary.json,
report.md, Hydra's .hydra/*.yaml, and everything handed to W&B (tfnas.redacted_output installs it
on the streams, logging and excepthooks).

What is recognised, in any text:

* URL userinfo, in every form SQLAlchemy and psycopg accept: `scheme://user:PASSWORD@host`, where
  the password may hold unencoded `/`, `:`, `@` and spaces (everything from the first `:` after
  the user to the last `@` of the line is masked; over-masking a host is the price of never
  leaking a password), also as Hydra escapes it (`scheme\\://user\\:PASSWORD@host`);
* secret-named parameters anywhere: URL query parameters (`?password=...&sslpassword=...`), libpq
  keyword/value DSNs (`host=db password='a b\\'c'`), overrides (`+search.db_password=...`), YAML,
  JSON and Python reprs (`'token': '...'`). A key is secret when it contains password, passwd,
  passphrase, secret, credential, api_key/apikey or private_key, or one of its parts (split at
  `._-`) is `pass`, `token` or `pwd`;
* every secret learnt from the run's config (`learn_secrets`): the literal value is masked
  wherever it appears later, in whatever form a library prints it.

Every pass is linear in the text: plain string scans and regular expressions whose repetitions
are possessive and anchored at a word boundary, so no input makes them backtrack (a 1 MB line
without a space takes milliseconds, not minutes).
"""
from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import quote, unquote, unquote_plus

MASK = "***"
MIN_LITERAL = 4  # shorter secrets are masked where their position says so, not everywhere they occur
MAX_LITERALS = 64  # a bound on the learnt secrets: each costs one pass over every text
MAX_LITERAL_LENGTH = 4096

_SECRET_WORDS = ("password", "passwd", "passphrase", "secret", "credential", "api_key", "apikey", "api-key",
                 "private_key", "privatekey", "private-key")
_SECRET_PARTS = frozenset({"pass", "token", "pwd"})
_HINTS = ("pass", "secret", "credential", "api", "private", "token", "pwd")  # every secret key holds one
_KEY_PARTS = re.compile(r"[._\-]")

_SCHEME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_MAX_SCHEME = 40
_USER_END = re.compile(r"[:/\s]")
_KEY_CHARS = r"A-Za-z0-9_.\-+~"
# a key at a word boundary, an optional closing quote, then = or : (also Hydra's escaped \= and \:)
_KEY_SEP = re.compile(rf"(?<![{_KEY_CHARS}])(?P<key>[{_KEY_CHARS}]++)['\"]?+[ \t]*+\\?+[=:][ \t]*+")
_QUOTED = {"'": re.compile(r"'(?:[^'\\\n]|\\.)*+'"), '"': re.compile(r'"(?:[^"\\\n]|\\.)*+"')}
_UNQUOTED_QUERY = re.compile(r"[^\s&#]*+")  # ?password=...&  (a URL's query)
_UNQUOTED_WORD = re.compile(r"\S*+")  # host=db password=...  (libpq DSN, an override at the start)
_UNQUOTED_FIELD = re.compile(r"[^\s,;&}\])'\"]*+")  # {password: ..., ...}  (YAML, reprs, joined overrides)

_literals: tuple[str, ...] = ()
_literals_lock = threading.Lock()


def is_secret_key(key: Any) -> bool:
    """Whether a dict key or parameter name holds a secret (`sslpassword`, `db_pass`, `WANDB_API_KEY`, `token`)."""
    if not isinstance(key, str):
        return False
    lower = key.lower().strip("'\"+~")
    if any(word in lower for word in _SECRET_WORDS):
        return True
    return any(part in _SECRET_PARTS for part in _KEY_PARTS.split(lower))


# -- the scanners: each returns the (start, end) spans of secrets in `text` ------------------------
def _url_password_spans(text: str) -> list[tuple[int, int]]:
    """Spans of URL userinfo passwords: from the first `:` after `scheme://user` to the last `@` of the line."""
    spans: list[tuple[int, int]] = []
    line_end, last_at = -1, -1
    i = text.find("://")
    while i != -1:
        head = i - 1 if i > 0 and text[i - 1] == "\\" else i  # Hydra escapes the colon: scheme\://
        k = head
        while k > 0 and head - k < _MAX_SCHEME and text[k - 1] in _SCHEME:
            k -= 1
        nxt = i + 3
        if k < head and text[k].isalpha():
            end = _USER_END.search(text, i + 3)
            if end is not None and end.group() == ":":
                colon = end.start()
                if colon >= line_end:  # the last @ of this line, found once per line
                    line_end = _line_end(text, colon)
                    last_at = text.rfind("@", colon, line_end)
                if last_at > colon:
                    spans.append((colon + 1, last_at))
                    nxt = last_at + 1
                else:
                    nxt = colon
            elif end is not None:
                nxt = end.start()
        i = text.find("://", max(nxt, i + 3))
    return spans


def _line_end(text: str, start: int) -> int:
    """The index of the line break at or after `start` (len(text) at the end); scans only this line."""
    newline = text.find("\n", start)
    end = len(text) if newline == -1 else newline
    cr = text.find("\r", start, end)
    return end if cr == -1 else cr


def _value_span(text: str, key_start: int, value_start: int, sep: str) -> tuple[int, int]:
    """Where the value of a secret key starts and ends: a quoted string (and anything glued to its closing quote),
    or up to the end its context implies."""
    before = text[key_start - 1] if key_start > 0 else " "
    if before in "?&":
        pattern, quotes = _UNQUOTED_QUERY, "'\""
    elif sep == "=" and before.isspace():
        pattern, quotes = _UNQUOTED_WORD, "'"  # libpq quotes with ' only; a " is part of the value
    else:
        pattern, quotes = _UNQUOTED_FIELD, "'\""
    if value_start < len(text) and text[value_start] in quotes:
        quoted = _QUOTED[text[value_start]].match(text, value_start)
        if quoted is None:  # an unclosed quote: the rest of the line
            return value_start + 1, _line_end(text, value_start)
        glued = pattern.match(text, quoted.end()).end()
        return value_start + 1, (quoted.end() - 1 if glued == quoted.end() else glued)
    return value_start, pattern.match(text, value_start).end()


def _key_value_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the values of secret-named keys (`password=...`, `'token': '...'`, `?sslpassword=...`)."""
    spans: list[tuple[int, int]] = []
    lower = text.lower()
    if not any(hint in lower for hint in _HINTS):
        return spans
    pos = 0
    while True:
        m = _KEY_SEP.search(text, pos)
        if m is None:
            return spans
        pos = m.end()
        key_start = m.start("key")
        if (key_start > 0 and text[key_start - 1] == "/") or not is_secret_key(m.group("key")):
            continue  # after a slash the "key" is a path's last part (/etc/passwd: File exists)
        sep = "=" if "=" in m.group()[len(m.group("key")):] else ":"
        start, end = _value_span(text, key_start, m.end(), sep)
        if end > start and text[start:end] != MASK:
            spans.append((start, end))
        pos = max(pos, end)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out, pos = [], 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        start = max(start, pos)
        out += [text[pos:start], MASK]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def secret_spans(text: str) -> list[tuple[int, int]]:
    """Every span of `text` the pattern rules (URL userinfo, secret-named keys) mask."""
    return _url_password_spans(text) + _key_value_spans(text)


def redact_text(text: str) -> str:
    """`text` with every secret masked: learnt literals, URL passwords, values of secret-named keys."""
    if not isinstance(text, str) or not text:
        return text
    for secret in _literals:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _mask(text, _url_password_spans(text))
    return _mask(text, _key_value_spans(text))


def redact(value: Any) -> Any:
    """A copy of a config (dicts, lists, strings, scalars) with every secret masked."""
    if isinstance(value, dict):
        return {k: (MASK if is_secret_key(k) and v not in (None, "") else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        return redact_text(value)
    return value


# -- secrets learnt from the config -------------------------------------------------------------------
def remember_secret(secret: Any) -> None:
    """Mask `secret` (and its URL-encoded and -decoded forms) in every text redacted from now on."""
    if not isinstance(secret, str):
        secret = "" if secret is None or isinstance(secret, bool) else str(secret)
    forms = {secret, unquote(secret), unquote_plus(secret), quote(secret, safe=""), quote(secret, safe="/:@")}
    global _literals
    with _literals_lock:
        known = list(_literals)
        for form in sorted(forms, key=len, reverse=True):
            if MIN_LITERAL <= len(form) <= MAX_LITERAL_LENGTH and form != MASK and form not in known:
                if len(known) >= MAX_LITERALS:
                    break
                known.append(form)
        _literals = tuple(sorted(known, key=len, reverse=True))  # longest first: a secret inside another stays masked


def forget_secrets() -> None:
    """Drop every learnt secret (tests; a long-lived process that runs several searches)."""
    global _literals
    with _literals_lock:
        _literals = ()


def learn_secrets(value: Any) -> None:
    """Remember every secret of a config: values of secret-named keys, URL and DSN passwords (as the pattern
    rules find them and as SQLAlchemy parses the URL), so a library's own message cannot print them."""
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and isinstance(item, (str, int, float)) and item not in ("", None):
                remember_secret(item)
            else:
                learn_secrets(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            learn_secrets(item)
    elif isinstance(value, str) and len(value) <= 1_000_000:
        for start, end in secret_spans(value):
            remember_secret(value[start:end])
        for secret in _parsed_url_secrets(value):
            remember_secret(secret)


def _parsed_url_secrets(text: str) -> list[str]:
    """The password and secret-named query values of `text` as SQLAlchemy's own URL parser reads them."""
    if "://" not in text or len(text) > 10_000:
        return []
    try:
        from sqlalchemy.engine import make_url

        url = make_url(text.strip())
    except Exception:  # not a URL SQLAlchemy accepts: the pattern rules above still apply
        return []
    found = [url.password] if url.password else []
    for key, item in url.query.items():
        if is_secret_key(key):
            found += list(item) if isinstance(item, tuple) else [item]
    return [str(s) for s in found if s]
