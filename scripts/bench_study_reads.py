"""`python scripts/bench_study_reads.py ARGS` is `tfnas bench study-reads ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"bench study-reads".split(), *sys.argv[1:]])
