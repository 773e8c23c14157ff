"""Search spaces: what an architecture is, how to sample, mutate, hash and build it."""
from tfnas.search_spaces.base import SPACES, SearchSpace

__all__ = ["SPACES", "SearchSpace"]
