"""`python scripts/check_training_stability.py ARGS` is `tfnas stability ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"stability".split(), *sys.argv[1:]])
