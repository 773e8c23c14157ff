"""Checks made before a user's file is read: what it is and how large it is.

A FIFO or a character device (`/dev/zero`, a terminal) never ends or blocks the reader forever,
and a file of gigabytes fills the memory before any other check could run; both are refused from
`os.stat` alone (nothing is opened), with a ConfigError naming the option. Reads then stop at the
limit even where the size on disk said less (`/proc` files report 0 bytes).
"""
from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import Iterator

from tfnas.errors import ConfigError

DEFAULT_CORPUS_MB = 512  # space.max_corpus_mb: a corpus reader peaks at a small multiple of the file
LABELS_MB = 64  # a labels CSV of 64 MB holds about a million rows, more than any benchmark labels
CHUNK_BYTES = 1 << 20

_KINDS = ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
          (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "directory"))


def megabytes(limit_mb, field: str) -> int:
    """A size limit in MB from the config, as bytes (a positive number; bools refused)."""
    if isinstance(limit_mb, bool) or not isinstance(limit_mb, (int, float)) or not limit_mb > 0 or limit_mb != limit_mb:
        raise ConfigError(field, f"must be a positive number of megabytes, got {limit_mb!r}")
    return int(limit_mb * 1_000_000)


def check_file(path, field: str, limit_bytes: int, limit_field: str | None = None, what: str = "text file") -> int:
    """The size of `path`, a regular file no larger than `limit_bytes`; anything else is a ConfigError naming `field`
    (and `limit_field`, the option that raises the limit). Nothing is opened."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(field, f"{path} does not exist; give a {what}") from None
    except OSError as err:
        raise ConfigError(field, f"cannot read {path}: {err.strerror or err}; give a readable {what}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "special file")
        raise ConfigError(field, f"{path} is a {kind}, not a regular file; give a {what} "
                          "(a pipe or device is read without end, or blocks forever)")
    if info.st_size > limit_bytes:
        raise ConfigError(field, too_large(path, info.st_size, limit_bytes, limit_field))
    return info.st_size


def too_large(path, size: int, limit_bytes: int, limit_field: str | None) -> str:
    how = (f"raise {limit_field} (e.g. {limit_field}={-(-size // 1_000_000) + 1}) where about three times the file "
           "fits in free memory, or give a smaller file") if limit_field else "give a smaller file"
    return f"{path} holds {size / 1e6:,.1f} MB, more than the {limit_bytes / 1e6:,.0f} MB limit; {how}"


def utf8_chunks(path, field: str, limit_bytes: int, limit_field: str | None = None) -> Iterator[str]:
    """The file's text, decoded strictly as UTF-8 chunk by chunk (the whole file is never held as bytes).
    A NUL byte, invalid UTF-8 (with the byte offset) or more bytes than the limit is a ConfigError."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    with open(path, "rb") as handle:
        while True:
            data = handle.read(CHUNK_BYTES)
            if not data:
                break
            nul = data.find(b"\x00")
            if nul >= 0:
                raise ConfigError(field, f"{path} looks binary: a NUL byte at byte offset {offset + nul}; give a UTF-8 text file")
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(data)
            except UnicodeDecodeError as err:
                raise not_utf8(path, field, err, offset - pending) from None
            offset += len(data)
            if offset > limit_bytes:
                raise ConfigError(field, too_large(path, offset, limit_bytes, limit_field) + " (it grew while read)")
            yield text
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as err:
            raise not_utf8(path, field, err, offset - pending) from None


def not_utf8(path, field: str, err: UnicodeDecodeError, base: int) -> ConfigError:
    return ConfigError(field, f"{path} is not UTF-8 text: byte 0x{err.object[err.start]:02x} at byte offset {base + err.start} "
                       f"({err.reason}); convert it, e.g. iconv -f latin1 -t utf-8")


def utf8_error(path) -> str:
    """Where a file stops being UTF-8: the byte, its offset and its line (the file was size-checked before)."""
    data = Path(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        return (f"not UTF-8 text: byte 0x{data[err.start]:02x} at byte offset {err.start} (line {line}, {err.reason}); "
                "save it as UTF-8, e.g. iconv -f latin1 -t utf-8")
    return "not UTF-8 text; save it as UTF-8"


def read_utf8(path, field: str, limit_bytes: int, limit_field: str | None = None) -> str:
    """The whole text of a checked file (check_file first), decoded strictly."""
    check_file(path, field, limit_bytes, limit_field)
    return "".join(utf8_chunks(Path(path), field, limit_bytes, limit_field))
