"""What happens to the shortlist after a training-free search (train=none | short | benchmark)."""
from tfnas.training.base import NoTraining, ShortlistStage

__all__ = ["NoTraining", "ShortlistStage"]
