"""Tabular benchmarks: the trained results of labelled architectures, queried by canonical hash."""
from tfnas.benchmarks.base import TabularBenchmark

__all__ = ["TabularBenchmark"]
