"""`python scripts/reproduce_bert.py ARGS` is `tfnas reproduce bert ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"reproduce bert".split(), *sys.argv[1:]])
