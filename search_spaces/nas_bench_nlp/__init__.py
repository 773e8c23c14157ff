"""NAS-Bench-NLP: recurrent cells as recipes, inside the benchmark's 3-layer language model."""
from tfnas.search_spaces.nas_bench_nlp.recipe import Node, Recipe
from tfnas.search_spaces.nas_bench_nlp.generator import generate, mutate
from tfnas.search_spaces.nas_bench_nlp.model import RecipeCell, RNNLanguageModel
from tfnas.search_spaces.nas_bench_nlp.shipped import load_recipes
from tfnas.search_spaces.nas_bench_nlp.space import NasBenchNLPSpace

__all__ = ["Node", "Recipe", "generate", "mutate", "RecipeCell", "RNNLanguageModel", "NasBenchNLPSpace", "load_recipes"]
