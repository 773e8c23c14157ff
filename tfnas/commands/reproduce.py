"""`tfnas reproduce rnn|bert ...`: the paper's NAS-Bench-NLP or NAS-Bench-BERT table with this project's metrics."""
from __future__ import annotations

import importlib

from tfnas.errors import ConfigError

TABLES = {"rnn": "tfnas.commands.reproduce_rnn", "bert": "tfnas.commands.reproduce_bert"}


def main(argv=None):
    argv = list(argv or [])
    if argv and argv[0] in ("-h", "--help"):
        print("usage: tfnas reproduce {rnn,bert} [--help | OPTIONS]\n\n" + __doc__.split("\n")[0].split(": ", 1)[1])
        return 0
    if not argv or argv[0] not in TABLES:
        got = repr(argv[0]) if argv else "nothing"
        raise ConfigError("tfnas reproduce", f"needs the space first: rnn or bert (e.g. `tfnas reproduce rnn --limit 3 --out FILE`), got {got}")
    return importlib.import_module(TABLES[argv[0]]).main(argv[1:])
