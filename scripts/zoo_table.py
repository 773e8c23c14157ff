"""`python scripts/zoo_table.py ARGS` is `tfnas zoo ARGS` (kept for old commands)."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main([*"zoo".split(), *sys.argv[1:]])
