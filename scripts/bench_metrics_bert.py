"""`python scripts/bench_metrics_bert.py ARGS` is `tfnas bench --space bert ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main(["bench", "--space", "bert", *sys.argv[1:]])
