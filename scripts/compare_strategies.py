"""`python scripts/compare_strategies.py ARGS` is `tfnas compare ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"compare".split(), *sys.argv[1:]])
