"""What happens to the shortlist after a training-free search (train=none | short | halving | benchmark)."""
from tfnas.training.base import NoTraining, ShortlistStage
from tfnas.training.benchmark_lookup import BenchmarkLookup
from tfnas.training.loop import Budget, TrainingResult, train_candidate
from tfnas.training.short import ShortTraining
from tfnas.training.halving import SuccessiveHalving
from tfnas.training.trainer import Trainer

__all__ = ["NoTraining", "ShortlistStage", "BenchmarkLookup", "ShortTraining", "SuccessiveHalving", "Budget", "TrainingResult",
           "train_candidate", "Trainer"]
