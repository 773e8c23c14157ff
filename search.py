"""The clone's entry point: `python search.py space=rnn strategy=evolution metric=hidden_cov`.

The same app as the installed `tfnas` command and `python -m tfnas`.
"""
from tfnas.cli import main

if __name__ == "__main__":
    main()
