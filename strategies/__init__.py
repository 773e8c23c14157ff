"""Search strategies: they propose architectures (ask) and learn from their scores (tell)."""
from tfnas.strategy import STRATEGIES, Candidate, Strategy

__all__ = ["STRATEGIES", "Candidate", "Strategy"]
