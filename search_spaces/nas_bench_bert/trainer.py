"""Short pretraining for the BERT space: ELECTRA replaced-token detection (or plain MLM) on WikiText-2.

The candidate (`space.build_model`: a transformers PreTrainedModel whose output has
`.last_hidden_state`) is the discriminator, with a small head of ours. The generator is a
small transformers ElectraForMaskedLM without dropout, its own gradient clipping and an
initialisation that depends only on the seed; since no gradient flows between the two, the
generator follows the same trajectory for every candidate, so the candidates' replaced-token
losses are measured against the same corrupter and can be compared. Masks, replacement
samples and batch order are functions of the step number, so a resumed run draws the same ones.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, load_model, save_model
from torch import nn

from tfnas.errors import ConfigError
from tfnas.export import save_pretrained_quietly
from tfnas.search_spaces.nas_bench_bert.text import load_tokenizer, wikitext_sequences
from tfnas.training.trainer import Trainer

DEFAULTS = {
    "objective": "electra",
    "lr": 5e-4,
    "weight_decay": 0.01,
    "warmup_steps": 20,
    "batch_size": 16,
    "seq_len": 128,
    "mask_prob": 0.15,
    "clip": 1.0,
    "rtd_weight": 50.0,
    "train_split": None,  # None: WikiText-2 valid, or train of space.corpus
    "eval_split": None,  # None: WikiText-2 test, or valid of space.corpus
    "eval_batches": 8,
    "generator": {"hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 1, "intermediate_size": 256},
}
_EVAL_SEED = 7_654_321


class ReplacedTokenHead(nn.Module):
    """Per-token logit that the token was replaced (ELECTRA's discriminator head)."""

    def __init__(self, hidden: int):
        super().__init__()
        self.dense, self.out = nn.Linear(hidden, hidden), nn.Linear(hidden, 1)

    def forward(self, states):
        return self.out(F.gelu(self.dense(states))).squeeze(-1)


class MaskedLMHead(nn.Module):
    """BERT-style transform + vocabulary projection."""

    def __init__(self, hidden: int, vocab: int):
        super().__init__()
        self.dense, self.norm, self.out = nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.Linear(hidden, vocab)

    def forward(self, states):
        return self.out(self.norm(F.gelu(self.dense(states))))


def _load_pretrained_weights(model, directory: Path) -> None:
    """Load a save_pretrained directory into an existing model; keys it left out must be tied weights."""
    state = {}
    for path in sorted(Path(directory).glob("*.safetensors")):
        state.update(load_file(str(path)))
    if not state:
        raise FileNotFoundError(f"no safetensors weights in {directory}")
    result = model.load_state_dict(state, strict=False)
    loaded = {p.data_ptr() for name, p in model.state_dict().items() if name in state}
    untied = [k for k in result.missing_keys if model.state_dict()[k].data_ptr() not in loaded]
    if untied or result.unexpected_keys:
        raise RuntimeError(f"checkpoint {directory} does not match the model: missing {untied}, unexpected {result.unexpected_keys}")


class BertPretrainer(Trainer):
    """ELECTRA-style (objective=electra) or masked-LM (objective=mlm) pretraining of one candidate."""

    def __init__(self, space, arch, *, seed, device, options):
        super().__init__(space, arch, seed=seed, device=device, options=self.resolve(space, options))
        opts = self.options
        tokenizer = space.tokenizer() if hasattr(space, "tokenizer") else load_tokenizer()
        self.mask_id = tokenizer.mask_token_id
        self.special = torch.tensor(sorted(set(tokenizer.all_special_ids)))
        self.batch_size, self.seq_len = int(opts["batch_size"]), int(opts["seq_len"])
        self.train_rows, eval_rows = self.check_data(space, opts)
        self.eval_rows = eval_rows[: int(opts["eval_batches"]) * self.batch_size]
        name = getattr(space, "text_name", "WikiText-2")
        self.data_note = f"{opts['objective']} pretraining on {name} {opts['train_split']}, evaluated on {name} {opts['eval_split']}"

        encoder = space.build_model(arch, seed=seed, device=self.device)
        config = encoder.config
        if config.vocab_size != len(tokenizer):
            raise ConfigError("space", f"the model's vocab_size {config.vocab_size} is not the tokenizer's {len(tokenizer)}")
        modules = {"encoder": encoder}
        if opts["objective"] == "electra":
            from transformers import ElectraConfig, ElectraForMaskedLM

            gen = {"embedding_size": 128, **opts["generator"]}
            torch.manual_seed(seed + 1)  # the same generator for every candidate of a run
            modules["generator"] = ElectraForMaskedLM(ElectraConfig(
                vocab_size=config.vocab_size, max_position_embeddings=max(512, self.seq_len),
                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, **gen))
            torch.manual_seed(seed + 2)
            modules["head"] = ReplacedTokenHead(config.hidden_size)
        else:
            torch.manual_seed(seed + 2)
            modules["head"] = MaskedLMHead(config.hidden_size, config.vocab_size)
        self.model = nn.ModuleDict(modules).to(self.device)

    @staticmethod
    def resolve(space, options: dict) -> dict:
        """The options with defaults, the splits chosen for the space's corpus; refuses unknown or bad values."""
        unknown = set(options) - set(DEFAULTS)
        if unknown:
            raise ConfigError("train.bert", f"unknown option(s) {sorted(unknown)}; valid: {sorted(DEFAULTS)}")
        opts = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
        user = bool(getattr(space, "corpus_path", None))
        opts["train_split"] = opts["train_split"] or ("train" if user else "valid")
        opts["eval_split"] = opts["eval_split"] or ("valid" if user else "test")
        if opts["objective"] not in ("electra", "mlm"):
            raise ConfigError("train.bert.objective", f"must be electra or mlm, got {opts['objective']!r}")
        if opts["train_split"] == opts["eval_split"]:
            raise ConfigError("train.bert.eval_split", f"must differ from train.bert.train_split ({opts['train_split']})")
        if not 0 < opts["mask_prob"] < 1:
            raise ConfigError("train.bert.mask_prob", f"must be in (0, 1), got {opts['mask_prob']}")
        return opts

    @classmethod
    def check_data(cls, space, options: dict):
        """Training and evaluation rows; refuses (before a search writes anything) missing or too short splits."""
        opts = cls.resolve(space, options)
        seq_len, batch = int(opts["seq_len"]), int(opts["batch_size"])
        if hasattr(space, "training_sequences"):
            train = space.training_sequences(opts["train_split"], seq_len, "short training (train.bert.train_split)",
                                             "train.bert.train_split")
            held = space.training_sequences(opts["eval_split"], seq_len, "evaluation after short training (train.bert.eval_split)",
                                            "train.bert.eval_split")
        else:
            train, held = wikitext_sequences(opts["train_split"], seq_len), wikitext_sequences(opts["eval_split"], seq_len)
        field = "space.corpus" if getattr(space, "corpus_path", None) else "train.bert.batch_size"
        name = getattr(space, "text_name", "WikiText-2")
        for rows, need, split, sizes in ((train, batch, opts["train_split"], f"train.bert.batch_size {batch}"),
                                         (held, 1, opts["eval_split"], "one")):
            if rows.size(0) < need:
                raise ConfigError(field, f"{name}: the {split} split gives {rows.size(0)} sequences of train.bert.seq_len {seq_len}, "
                                  f"fewer than the {need} short training needs ({sizes}; {need * (seq_len - 2):,} word pieces); "
                                  "give more text or lower train.bert.batch_size / train.bert.seq_len")
        return train, held

    # -- data, a function of the step -------------------------------------------------
    def _batch(self, step: int) -> torch.Tensor:
        rows = self.train_rows.size(0)
        per_epoch = rows // self.batch_size
        epoch, index = divmod(step, per_epoch)
        order = torch.randperm(rows, generator=torch.Generator().manual_seed(self.seed * 1_000_003 + epoch))
        return self.train_rows[order[index * self.batch_size : (index + 1) * self.batch_size]]

    def _mask(self, ids: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mask = torch.rand(ids.shape, generator=generator) < self.options["mask_prob"]
        mask &= ~torch.isin(ids, self.special)
        if not mask.any():
            mask[:, 1] = True
        return mask

    def _losses(self, ids: torch.Tensor, rng: torch.Generator) -> dict[str, torch.Tensor]:
        mask = self._mask(ids, rng)
        ids, mask = ids.to(self.device), mask.to(self.device)
        attention = torch.ones_like(ids)
        masked = ids.masked_fill(mask, self.mask_id)
        if self.options["objective"] == "mlm":
            states = self.model["encoder"](input_ids=masked, attention_mask=attention).last_hidden_state
            logits = self.model["head"](states[mask])
            loss = F.cross_entropy(logits.float(), ids[mask])
            return {"loss": loss, "mlm_loss": loss}
        generator = self.model["generator"]  # vocabulary logits only where tokens were masked
        gen_states = generator.electra(input_ids=masked, attention_mask=attention).last_hidden_state[mask]
        gen_logits = generator.generator_lm_head(generator.generator_predictions(gen_states)).float()
        mlm_loss = F.cross_entropy(gen_logits, ids[mask])
        with torch.no_grad():  # sample replacements by inverse CDF, one uniform per masked token from the step's rng
            cdf = gen_logits.softmax(-1).cumsum(-1)
            uniform = torch.rand((cdf.size(0), 1), generator=rng, dtype=cdf.dtype).to(self.device) * cdf[:, -1:]
            sampled = torch.searchsorted(cdf, uniform).squeeze(-1).clamp_max(cdf.size(-1) - 1)
        corrupted = ids.clone()
        corrupted[mask] = sampled
        replaced = (corrupted != ids).float()
        states = self.model["encoder"](input_ids=corrupted, attention_mask=attention).last_hidden_state
        rtd_logits = self.model["head"](states).float()
        rtd_loss = F.binary_cross_entropy_with_logits(rtd_logits, replaced)
        accuracy = ((rtd_logits > 0).float() == replaced).float().mean()
        return {"loss": mlm_loss + self.options["rtd_weight"] * rtd_loss, "mlm_loss": mlm_loss,
                "rtd_loss": rtd_loss, "rtd_accuracy": accuracy}

    # -- the Trainer protocol --------------------------------------------------------------
    def optimizer(self):
        return torch.optim.AdamW(self.model.parameters(), lr=self.options["lr"], weight_decay=self.options["weight_decay"])

    def before_step(self, step, optimizer):
        warmup = int(self.options["warmup_steps"])
        scale = min(1.0, (step + 1) / warmup) if warmup > 0 else 1.0
        for group in optimizer.param_groups:
            group["lr"] = self.options["lr"] * scale

    def train_loss(self, step):
        rng = torch.Generator().manual_seed(self.seed * 1_000_003 + 17 * step + 1)
        losses = self._losses(self._batch(step), rng)
        return losses["loss"], {f"train_{k}": float(v.detach()) for k, v in losses.items()}

    def clip_gradients(self) -> float:
        """Clip the generator apart from the candidate, so the generator never depends on the candidate."""
        clip = self.options["clip"] or float("inf")
        norms = []
        for group in (["generator"], [n for n in self.model if n != "generator"]):
            params = [p for n in group if n in self.model for p in self.model[n].parameters() if p.grad is not None]
            if params:
                norms.append(float(torch.nn.utils.clip_grad_norm_(params, clip)))
        return math.fsum(norms)

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        totals: dict[str, float] = {}
        batches = 0
        for start in range(0, self.eval_rows.size(0), self.batch_size):
            rng = torch.Generator().manual_seed(_EVAL_SEED + start)
            losses = self._losses(self.eval_rows[start : start + self.batch_size], rng)
            for key, value in losses.items():
                totals[key] = totals.get(key, 0.0) + float(value)
            batches += 1
        values = {f"eval_{k}": v / batches for k, v in totals.items()}
        values["eval_loss"] = values["eval_rtd_loss"] if self.options["objective"] == "electra" else values["eval_mlm_loss"]
        if self.options["objective"] == "mlm":
            values["eval_ppl"] = math.exp(min(values["eval_mlm_loss"], 700.0))
        return values

    def save_weights(self, directory: Path):
        for name, module in self.model.items():
            if hasattr(module, "save_pretrained"):
                save_pretrained_quietly(module, Path(directory) / name)
            else:
                save_model(module, str(Path(directory) / f"{name}.safetensors"))

    def load_weights(self, directory: Path):
        for name, module in self.model.items():
            if hasattr(module, "save_pretrained"):
                _load_pretrained_weights(module, Path(directory) / name)
            else:
                load_model(module, str(Path(directory) / f"{name}.safetensors"), device=str(self.device))
