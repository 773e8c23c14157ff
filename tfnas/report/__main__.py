"""`python -m tfnas.report ...`: the same as `tfnas report ...` (tfnas.commands.report)."""
from tfnas.commands.report import main
from tfnas.experiments.script import run_script

run_script(main, prog="tfnas report")
