"""The clone's entry point: `python search.py space=rnn strategy=evolution metric=hidden_cov` is `tfnas search ...`."""
import sys

from tfnas.cli import main

if __name__ == "__main__":
    main(["search", *sys.argv[1:]])
