"""Human-readable reports of finished runs: `python -m tfnas.report RUN_DIR [RUN_DIR ...]`."""
from tfnas.report.compare import compare_runs, find_runs
from tfnas.report.run_report import REPORT_FILE, write_report

__all__ = ["REPORT_FILE", "compare_runs", "find_runs", "write_report"]
