"""Export a NAS-Bench-NLP cell's language model: model.safetensors, config.json, vocab.txt, and `load_exported`.

config.json holds the recipe, the model sizes and the vocabulary size; vocab.txt one token per
line in id order. `load_exported(folder)` rebuilds the model (needs tfnas for the cell code).
"""
from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_model, save_model

from tfnas.search_spaces.nas_bench_nlp.model import RNNLanguageModel
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe

FORMAT = "tfnas-nas-bench-nlp-lm/1"
WEIGHTS, CONFIG, VOCAB = "model.safetensors", "config.json", "vocab.txt"


def export_rnn(space, arch, out: Path, checkpoint: Path | None, seed: int, model_kwargs: dict | None = None) -> dict:
    """Write the folder; weights from a short-training checkpoint (with the model sizes it was trained at,
    `model_kwargs`) or, without one, the seeded initialisation the search scored."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    kwargs = {**space.model_kwargs, **(model_kwargs or {})}
    corpus = space.corpus
    import torch

    torch.manual_seed(seed)
    model = RNNLanguageModel(arch, corpus.vocab_size, **kwargs)
    if checkpoint is not None:
        load_model(model, str(checkpoint / WEIGHTS))
    save_model(model.eval(), str(out / WEIGHTS))
    words = sorted(corpus.word2idx, key=corpus.word2idx.get)
    (out / VOCAB).write_text("".join(f"{w}\n" for w in words), encoding="utf-8")
    config = {"format": FORMAT, "recipe": arch.to_json(), "vocab_size": corpus.vocab_size, "model": kwargs}
    (out / CONFIG).write_text(json.dumps(config, indent=1), encoding="utf-8")
    return {"format": FORMAT, "weights": "RNNLanguageModel" + (" (short training)" if checkpoint is not None else " (untrained)"),
            "load": f"from tfnas.search_spaces.nas_bench_nlp.export import load_exported; "
                    f"model, vocab = load_exported({str(out)!r})"}


def load_exported(folder) -> tuple[RNNLanguageModel, dict[str, int]]:
    """The exported language model (in eval mode) and its vocabulary (token -> id)."""
    folder = Path(folder)
    config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    if config.get("format") != FORMAT:
        raise ValueError(f"{folder / CONFIG} is not a tfnas RNN export (format {config.get('format')!r}, expected {FORMAT})")
    model = RNNLanguageModel(Recipe.from_json(config["recipe"]), config["vocab_size"], **config["model"])
    load_model(model, str(folder / WEIGHTS))
    words = (folder / VOCAB).read_text(encoding="utf-8").split("\n")[: config["vocab_size"]]
    return model.eval(), {w: i for i, w in enumerate(words)}
