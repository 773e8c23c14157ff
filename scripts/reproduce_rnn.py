"""`python scripts/reproduce_rnn.py ARGS` is `tfnas reproduce rnn ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"reproduce rnn".split(), *sys.argv[1:]])
