"""`python scripts/ensemble_sensitivity.py ARGS` is `tfnas sensitivity ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"sensitivity".split(), *sys.argv[1:]])
