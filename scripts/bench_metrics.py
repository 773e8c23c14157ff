"""`python scripts/bench_metrics.py ARGS` is `tfnas bench ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"bench".split(), *sys.argv[1:]])
