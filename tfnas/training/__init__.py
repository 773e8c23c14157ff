"""What happens to the ranked candidates after a training-free search (train=none | short | benchmark | halving |
hyperband | multifidelity)."""
from tfnas.training.base import NoTraining, ShortlistStage, StageContext
from tfnas.training.benchmark_lookup import BenchmarkLookup
from tfnas.training.loop import Budget, TrainingResult, train_candidate
from tfnas.training.pruned import HyperbandTraining, MultiFidelityTraining, PrunedTraining, SuccessiveHalvingTraining
from tfnas.training.short import ShortTraining
from tfnas.training.trainer import Trainer

__all__ = ["NoTraining", "ShortlistStage", "StageContext", "BenchmarkLookup", "ShortTraining", "PrunedTraining",
           "SuccessiveHalvingTraining", "HyperbandTraining", "MultiFidelityTraining", "Budget", "TrainingResult",
           "train_candidate", "Trainer"]
