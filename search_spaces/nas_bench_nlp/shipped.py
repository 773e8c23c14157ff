"""The NAS-Bench-NLP space's shipped data (`data/`, see data/PROVENANCE.md), read through importlib.resources:
the benchmark's cell recipes and the Penn Treebank splits."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from tfnas.data import Corpus, build_corpus, shipped_path
from tfnas.errors import ConfigError, InvalidArchitecture
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe


def data_path(*parts: str) -> Path:
    """A file or folder under this space's `data/`, e.g. data_path("ptb", "test.txt")."""
    return shipped_path(__package__, "data", *parts)


@lru_cache(maxsize=1)
def load_ptb() -> Corpus:
    """Penn Treebank validation and test splits with their joint vocabulary.

    Only PTB's validation and test splits are shipped, so the vocabulary is built from those
    two files (valid first, then test): smaller than the benchmark's 10,000 words, which does
    not change any training-free metric, since embeddings are random at scoring time.
    """
    return build_corpus({"valid": data_path("ptb", "valid.txt"), "test": data_path("ptb", "test.txt")})


def load_recipes(path=None) -> dict[int, Recipe]:
    """model_id -> Recipe from a file in the format of NAS-Bench-NLP's `recipes.json` (the shipped one by default).

    Every problem is a ConfigError naming the file, the entry (its position and model_id) and the field."""
    path = path or data_path("recipes.json")
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as err:
        raise ConfigError(str(path), f"cannot read the recipes file: {err.strerror or err}") from None
    except (ValueError, RecursionError) as err:  # JSONDecodeError, UnicodeDecodeError
        raise ConfigError(str(path), f"not a JSON file: {str(err)[:200]}") from None
    entries = data["architectures"] if isinstance(data, dict) and "architectures" in data else data
    if not isinstance(entries, list):
        raise ConfigError(str(path), "must hold a list of {model_id, recipe} entries (or an object with an 'architectures' list)")
    recipes = {}
    for position, entry in enumerate(entries):
        where = f"entry {position}"
        if not isinstance(entry, dict):
            raise ConfigError(str(path), f"{where}: must be an object with fields 'model_id' and 'recipe'")
        model_id = entry.get("model_id")
        if isinstance(model_id, bool) or not isinstance(model_id, (int, str)) or not str(model_id).strip().isdigit():
            raise ConfigError(str(path), f"{where}: field 'model_id': must be a non-negative integer, got {str(model_id)[:40]!r}")
        model_id = int(model_id)
        where = f"entry {position} (model_id {model_id})"
        if "recipe" not in entry:
            raise ConfigError(str(path), f"{where}: field 'recipe' is missing")
        try:
            recipes[model_id] = Recipe.from_json(entry["recipe"])
        except InvalidArchitecture as err:
            raise ConfigError(str(path), f"{where}: field 'recipe': {err}") from None
    return recipes
