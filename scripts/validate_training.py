"""`python scripts/validate_training.py ARGS` is `tfnas validate-training ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"validate-training".split(), *sys.argv[1:]])
