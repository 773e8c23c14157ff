"""Export a NAS-Bench-NLP cell's language model as a self-contained Hugging Face model folder.

The folder holds config.json (a `NasBenchNLPConfig`: the recipe as data, the model sizes, `auto_map`),
model.safetensors, the three standalone model files (configuration_nas_bench_nlp.py,
modeling_nas_bench_nlp.py, recipe_cell.py: they import nothing from tfnas) and a word-level tokenizer
(tokenizer.json with `<unk>` and `<eos>`, from the space's vocabulary). So
`AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True)` and `AutoTokenizer.from_pretrained(folder, trust_remote_code=True)`
load it where tfnas is not installed. `load_exported(folder)` gives tfnas's own `RNNLanguageModel` (time-major).
"""
from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file, load_model

import tfnas.search_spaces.nas_bench_nlp.configuration_nas_bench_nlp as configuration_nas_bench_nlp
import tfnas.search_spaces.nas_bench_nlp.modeling_nas_bench_nlp as modeling_nas_bench_nlp
import tfnas.search_spaces.nas_bench_nlp.recipe_cell as recipe_cell
from tfnas.search_spaces.nas_bench_nlp.build import RNNModelBuilder
from tfnas.search_spaces.nas_bench_nlp.model import RNNLanguageModel
from tfnas.search_spaces.nas_bench_nlp.recipe import Recipe

FORMAT = "transformers"
WEIGHTS, CONFIG, TOKENIZER = "model.safetensors", "config.json", "tokenizer.json"
MODEL_FILES = (configuration_nas_bench_nlp, modeling_nas_bench_nlp, recipe_cell)
AUTO_MAP = {
    "AutoConfig": "configuration_nas_bench_nlp.NasBenchNLPConfig",
    "AutoModel": "modeling_nas_bench_nlp.NasBenchNLPModel",
    "AutoModelForCausalLM": "modeling_nas_bench_nlp.NasBenchNLPForCausalLM",
}
UNK, EOS = "<unk>", "<eos>"
#: tfnas's RNNLanguageModel keyword -> NasBenchNLPConfig keyword (the others have the same name)
_RENAMED = {"tie_weights": "tie_word_embeddings"}


def _hf_key(name: str) -> str:
    """tfnas's parameter name -> the causal-LM model's (the decoder sits beside the base model)."""
    return name if name.startswith("decoder.") else f"model.{name}"


def hf_config(arch: Recipe, word2idx: dict[str, int], model_kwargs: dict, recurrent_weights: str = "frozen"):
    """The `NasBenchNLPConfig` of `arch` at the sizes tfnas built it with."""
    from tfnas.search_spaces.nas_bench_nlp.configuration_nas_bench_nlp import NasBenchNLPConfig

    kwargs = {_RENAMED.get(k, k): v for k, v in model_kwargs.items()}
    config = NasBenchNLPConfig(recipe=arch.to_json(), vocab_size=len(word2idx), recurrent_weights=recurrent_weights,
                               eos_token_id=word2idx.get(EOS), **kwargs)
    config.auto_map = dict(AUTO_MAP)
    return config


def word_tokenizer(word2idx: dict[str, int]):
    """A transformers fast tokenizer over the space's vocabulary: whitespace-separated words, `<unk>` for the rest."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit
    from transformers import PreTrainedTokenizerFast

    missing = [t for t in (UNK, EOS) if t not in word2idx]
    if missing:
        raise ValueError(f"the vocabulary has no {' or '.join(missing)}; a word-level tokenizer needs both")
    model = Tokenizer(WordLevel(vocab=dict(word2idx), unk_token=UNK))
    model.pre_tokenizer = WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=model, unk_token=UNK, eos_token=EOS,
                                   model_input_names=["input_ids"])


def export_rnn(space, arch, out: Path, checkpoint: Path | None, seed: int, model_kwargs: dict | None = None) -> dict:
    """Write the folder; weights from a short-training checkpoint (with the model sizes it was trained at,
    `model_kwargs`) or, without one, the seeded initialisation the search scored."""
    from tfnas.export import copy_standalone, save_pretrained_quietly
    from tfnas.search_spaces.nas_bench_nlp.modeling_nas_bench_nlp import NasBenchNLPForCausalLM

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    kwargs = {**space.model_kwargs, **(model_kwargs or {})}
    corpus = space.corpus
    model = RNNModelBuilder(corpus.vocab_size, kwargs, seed, "cpu")(arch)
    if checkpoint is not None:
        load_model(model, str(checkpoint / WEIGHTS))
    hf_model = NasBenchNLPForCausalLM(hf_config(arch, corpus.word2idx, kwargs))
    hf_model.load_state_dict({_hf_key(k): v for k, v in model.state_dict().items()}, strict=True)
    save_pretrained_quietly(hf_model.eval(), out)
    model_files = copy_standalone(MODEL_FILES, out)
    word_tokenizer(corpus.word2idx).save_pretrained(str(out))
    return {"format": FORMAT, "weights": "NasBenchNLPForCausalLM" + (" (short training)" if checkpoint is not None else " (untrained)"),
            "model_files": model_files,
            "load": f"AutoModelForCausalLM.from_pretrained({str(out)!r}, trust_remote_code=True)",
            "usage": usage(out), "notes": NOTES}


def usage(out: Path) -> list[str]:
    """The model card's example: load, tokenize, compute the loss."""
    return ["from transformers import AutoModelForCausalLM, AutoTokenizer", "",
            f"model = AutoModelForCausalLM.from_pretrained({str(out)!r}, trust_remote_code=True)",
            f"tokenizer = AutoTokenizer.from_pretrained({str(out)!r}, trust_remote_code=True)",
            'ids = tokenizer("the company said <eos>", return_tensors="pt")["input_ids"]   # (batch, time)',
            "out = model(input_ids=ids, labels=ids)   # out.logits: (batch, time, vocab); out.loss: nats per token"]


NOTES = [
    "The model is NAS-Bench-NLP's AWD-LSTM-style language model (Klyuchnikov et al., 2022) with the cell",
    "`config.recipe`: embedding, `nlayers` recurrent cells, a decoder tied to the embedding. Inputs are",
    "(batch, time) as in transformers; the cells run time-major inside. `labels` are shifted inside the",
    "model (position t predicts token t + 1); -100 leaves a position out. `out.state` continues a sequence",
    "(`model(input_ids=next_ids, state=out.state)`). The tokenizer splits on whitespace and maps words",
    "outside the vocabulary to `<unk>`; end lines with `<eos>` as the training text did. With",
    '`recurrent_weights: "frozen"` (the default) the weights that read hidden vectors are not trained,',
    "as in the benchmark's own training.",
    "",
]


def load_exported(folder) -> tuple[RNNLanguageModel, dict[str, int]]:
    """tfnas's own model of an exported folder (in eval mode; tokens time-major, T x B) and its vocabulary."""
    folder = Path(folder)
    config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    if config.get("model_type") != configuration_nas_bench_nlp.NasBenchNLPConfig.model_type:
        raise ValueError(f"{folder / CONFIG} is not an exported NAS-Bench-NLP model (model_type {config.get('model_type')!r})")
    sizes = {k: config[k] for k in ("emsize", "nhid", "nlayers", "dropout", "dropouth", "dropouti", "dropoute", "wdrop")}
    model = RNNLanguageModel(Recipe.from_json(config["recipe"]), config["vocab_size"],
                             tie_weights=config.get("tie_word_embeddings", True), **sizes)
    weights = load_file(str(folder / WEIGHTS))
    state = {k: weights[_hf_key(k)] for k in model.state_dict() if _hf_key(k) in weights}
    missing = set(model.state_dict()) - set(state)
    if config.get("tie_word_embeddings", True):
        missing.discard("decoder.weight")  # tied: saved once, as the embedding
    if missing:
        raise ValueError(f"{folder / WEIGHTS} lacks {', '.join(sorted(missing)[:5])}")
    model.load_state_dict(state, strict=False)
    vocab = json.loads((folder / TOKENIZER).read_text(encoding="utf-8"))["model"]["vocab"]
    return model.eval(), dict(vocab)
