"""`python scripts/training_seed_agreement.py ARGS` is `tfnas seed-agreement ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"seed-agreement".split(), *sys.argv[1:]])
