"""`python scripts/ablate_rnn.py ARGS` is `tfnas ablate ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"ablate".split(), *sys.argv[1:]])
