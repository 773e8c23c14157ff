"""Search spaces: what an architecture is, how to sample, mutate, hash and build it."""
from tfnas.search_space import SPACES, SearchSpace

__all__ = ["SPACES", "SearchSpace"]
