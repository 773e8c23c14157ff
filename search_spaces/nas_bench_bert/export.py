"""Export a NAS-Bench-BERT architecture as a self-contained Hugging Face model folder.

The folder holds config.json (with `auto_map`), the three standalone model files
(configuration_flexibert.py, flexibert_layers.py, modeling_flexibert.py: they import nothing from tfnas),
model.safetensors and the tokenizer, so `AutoModel.from_pretrained(folder,
trust_remote_code=True)` (or `AutoModelForMaskedLM` / `AutoModelForSequenceClassification`)
loads it where tfnas is not installed.
"""
from __future__ import annotations

from pathlib import Path

from safetensors.torch import load_file

from tfnas.export import copy_standalone, save_pretrained_quietly
from tfnas.search_spaces.nas_bench_bert import configuration_flexibert, flexibert_layers, modeling_flexibert
from tfnas.search_spaces.nas_bench_bert.model import FlexiBertForMaskedLM, FlexiBertModel

MODEL_FILES = (configuration_flexibert, flexibert_layers, modeling_flexibert)
AUTO_MAP = {
    "AutoConfig": "configuration_flexibert.FlexiBertConfig",
    "AutoModel": "modeling_flexibert.FlexiBertModel",
    "AutoModelForMaskedLM": "modeling_flexibert.FlexiBertForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_flexibert.FlexiBertForSequenceClassification",
}
# tfnas's short-training MLM head (trainer.MaskedLMHead) -> FlexiBertForMaskedLM's lm_head
_MLM_HEAD_KEYS = {"dense": "lm_head.dense", "norm": "lm_head.norm", "out": "lm_head.decoder"}


def export_bert(space, arch, out: Path, checkpoint: Path | None, seed: int) -> dict:
    """Write the folder; weights from a short-training checkpoint (its `encoder/`, plus the MLM head when
    trained with objective=mlm) or, without one, the seeded initialisation the search scored."""
    out = Path(out)
    config = space.config(arch)
    encoder = space.build_model(arch, seed=seed)
    head = None
    if checkpoint is not None:
        from tfnas.search_spaces.nas_bench_bert.trainer import _load_pretrained_weights

        _load_pretrained_weights(encoder, checkpoint / "encoder")
        if (checkpoint / "head.safetensors").exists():
            head = load_file(str(checkpoint / "head.safetensors"))
    if head is not None and {k.split(".")[0] for k in head} == set(_MLM_HEAD_KEYS):
        model = FlexiBertForMaskedLM(config)
        model.flexibert.load_state_dict(encoder.state_dict())
        model.load_state_dict({f"{_MLM_HEAD_KEYS[k.split('.')[0]]}.{k.split('.', 1)[1]}": v for k, v in head.items()},
                              strict=False)
        saved = "FlexiBertForMaskedLM (encoder and masked-LM head from short training)"
    else:
        model = encoder
        saved = "FlexiBertModel" + (" (encoder from short training)" if checkpoint is not None else " (untrained)")
    assert isinstance(model, (FlexiBertModel, FlexiBertForMaskedLM))
    model.config.auto_map = dict(AUTO_MAP)
    save_pretrained_quietly(model.eval(), out)
    model_files = copy_standalone(MODEL_FILES, out)
    space.tokenizer().save_pretrained(str(out))
    return {"format": "transformers", "weights": saved, "model_files": model_files,
            "load": f"AutoModel.from_pretrained({str(out)!r}, trust_remote_code=True)"}
