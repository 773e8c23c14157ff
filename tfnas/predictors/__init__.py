"""Predictors: what orders the scored candidates for the shortlist and the training stages.

A predictor is fitted (`fit(records, trainings)`: the scored candidates and the trainings spent so
far) and queried (`query(records)`: one score per candidate, higher is better). Strategies propose,
training stages train, and both may consult a predictor; none of them is one (NASLib's
`predictors/` is the model). Registered by name (`PREDICTORS`); each has a config in
`conf/predictor/<name>.yaml` (`predictor=<name>`).
"""
from tfnas.predictors.base import PREDICTORS, Predictor, Training

__all__ = ["PREDICTORS", "Predictor", "Training"]
