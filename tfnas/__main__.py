"""`python -m tfnas ...`: the same as the `tfnas` command."""
from tfnas.cli import main

main()
